"""Bad-input specs for chapter 4's STDP module, companion.stdp.

Spike trains are sorted 1-D float tensors of times in ms. A train with no spikes is a
valid train (``poisson_spikes`` returns one at rate 0): it makes no pairs, so an empty
``pre`` or ``post`` is allowed. The rule, an ``STDPRule``, is not a tensor or a number and
is not corrupted here; its type check is tested in tests/test_stdp.py.
"""
from __future__ import annotations

import torch

from companion import stdp
from framework import spec

F64 = torch.float64
TRAINS = {"pre": {"empty"}, "post": {"empty"}}


def g():
    return torch.Generator().manual_seed(0)


def train(seed, n=6):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=gen, dtype=F64) * 200.0).sort().values


@spec("stdp.STDPRule")
def _():
    return stdp.STDPRule, dict(a_plus=0.005, a_minus=0.006, tau_plus=20.0, tau_minus=25.0)


# STDPRule.integral is a property of a rule whose fields the constructor checked.


# dt: any shape, elementwise (an empty dt gives an empty result).
@spec("stdp.stdp_window", allow={"dt": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return stdp.stdp_window, dict(dt=torch.linspace(-50, 50, 11, dtype=F64), rule=stdp.STDPRule())


@spec("stdp.pairwise_weight_change", allow=TRAINS)
def _():
    return stdp.pairwise_weight_change, dict(pre=train(1), post=train(2), rule=stdp.STDPRule())


@spec("stdp.online_stdp", allow=TRAINS)
def _():
    return stdp.online_stdp, dict(pre=train(1), post=train(2), rule=stdp.STDPRule(), w0=0.2,
                                  w_min=0.0, w_max=1.0)


@spec("stdp.online_stdp", allow=TRAINS)
def _():
    return stdp.online_stdp, dict(pre=train(1), post=train(2), rule=stdp.STDPRule(), w0=0.0)


@spec("stdp.poisson_spikes")
def _():
    return stdp.poisson_spikes, dict(rate_hz=20.0, duration_ms=500.0, generator=g())


@spec("stdp.two_neuron_simulation")
def _():
    return stdp.two_neuron_simulation, dict(latency_ms=5.0, rate_hz=20.0, duration_ms=500.0,
                                            rule=stdp.STDPRule(), w0=0.5, w_max=1.0,
                                            jitter_ms=1.0, generator=g())


@spec("stdp.expected_drift")
def _():
    return stdp.expected_drift, dict(rate_pre_hz=10.0, rate_post_hz=12.0, rule=stdp.STDPRule(),
                                     latency_ms=5.0)

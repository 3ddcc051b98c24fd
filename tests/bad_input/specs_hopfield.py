"""Bad-input specs for chapter 4's module, companion.hopfield.

States and patterns are floating tensors of -1 and +1. With one (N, N) network a batch of
states may have any number of leading dimensions, so one dimension more or fewer on a
batch of states (B, N) is a valid call; a batch of (K, N, N) networks takes states
(K, B, N). An empty batch of states or patterns is refused (``check_spins``).
"""
from __future__ import annotations

import numpy as np
import torch

from companion import hopfield as hf
from framework import spec

F64 = torch.float64
N = 8


def g():
    return torch.Generator().manual_seed(0)


def spins(*shape):
    return torch.where(torch.rand(*shape, generator=g()) < 0.5, -1.0, 1.0).to(F64)


def weights(k=None):
    xi = spins(*((k,) if k else ()), 3, N)
    return hf.hebbian_weights(xi)


def theta():
    return 0.1 * torch.randn(N, generator=g(), dtype=F64)


# A batch of states s (B, N) against one (N, N) network: (N,) and (2, B, N) are batches too.
STATES = {"s": {"extra_dim", "fewer_dims"}}
# A threshold per neuron, theta (N,), may be one threshold for all (a 0-d tensor).
THETA = {"theta": {"fewer_dims"}}


# ----------------------------------------------------------------------------- checks, patterns
@spec("hopfield.check_spins", allow={"x": {"extra_dim", "fewer_dims"}})     # ndim=None: any
def _():
    return hf.check_spins, dict(name="x", x=spins(3, N), ndim=None)


@spec("hopfield.check_spins")
def _():
    return hf.check_spins, dict(name="x", x=spins(3, N), ndim=2)


@spec("hopfield.random_patterns")
def _():
    return hf.random_patterns, dict(n_patterns=3, n_neurons=N, generator=g(), n_networks=2)


@spec("hopfield.random_patterns")          # integer-likes (numpy) are integers
def _():
    return hf.random_patterns, dict(n_patterns=np.int64(3), n_neurons=np.int32(N),
                                    generator=g())


@spec("hopfield.correlated_patterns")
def _():
    return hf.correlated_patterns, dict(n_patterns=3, n_neurons=N, correlation=0.3,
                                        generator=g(), n_networks=2)


@spec("hopfield.picture_patterns")
def _():
    return hf.picture_patterns, dict(side=16)


@spec("hopfield.hebbian_weights", allow={"patterns": {"extra_dim"}})   # (K, P, N): K networks
def _():
    return hf.hebbian_weights, dict(patterns=spins(3, N), normalize=True)


@spec("hopfield.hebbian_weights")
def _():
    return hf.hebbian_weights, dict(patterns=spins(2, 3, N), normalize=False)


# ----------------------------------------------------------------------------- energy, fields
@spec("hopfield.energy", allow={**STATES, **THETA})
def _():
    return hf.energy, dict(s=spins(3, N), W=weights(), theta=theta())


@spec("hopfield.energy", allow=THETA)      # K = 2 networks: states (K, B, N)
def _():
    return hf.energy, dict(s=spins(2, 3, N), W=weights(2), theta=theta())


@spec("hopfield.local_field", allow=STATES)
def _():
    return hf.local_field, dict(s=torch.randn(3, N, generator=g(), dtype=F64), W=weights())


@spec("hopfield.overlap", allow=STATES)
def _():
    return hf.overlap, dict(s=spins(3, N), patterns=spins(4, N))


@spec("hopfield.overlap")
def _():
    return hf.overlap, dict(s=spins(2, 3, N), patterns=spins(2, 4, N))


@spec("hopfield.corrupt", allow={"x": {"extra_dim", "fewer_dims"}})   # x (..., N)
def _():
    return hf.corrupt, dict(x=spins(3, N), fraction=0.25, generator=g())


# ----------------------------------------------------------------------------- dynamics
# h and theta of the threshold rule: any shape, elementwise (an empty h gives an empty result).
@spec("hopfield.sign_update", allow={"h": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return hf.sign_update, dict(h=torch.randn(3, N, generator=g(), dtype=F64), theta=0.1)


@spec("hopfield.sign_update", allow={"h": {"extra_dim", "fewer_dims", "empty"},
                                     "theta": {"fewer_dims"}})
def _():
    return hf.sign_update, dict(h=torch.randn(3, N, generator=g(), dtype=F64), theta=theta())


@spec("hopfield.async_update", allow={**STATES, **THETA})
def _():
    return hf.async_update, dict(s=spins(3, N), W=weights(), i=2, theta=theta())


@spec("hopfield.async_update", allow={**STATES, **THETA})   # an integer-like i (numpy)
def _():
    return hf.async_update, dict(s=spins(3, N), W=weights(), i=np.int64(2), theta=theta())


@spec("hopfield.async_sweep", allow={**STATES, **THETA})
def _():
    return hf.async_sweep, dict(s=spins(3, N), W=weights(), theta=theta(), order="random",
                                generator=g())


@spec("hopfield.sync_update", allow={**STATES, **THETA})
def _():
    return hf.sync_update, dict(s=spins(3, N), W=weights(), theta=theta())


@spec("hopfield.sync_trajectory", allow={**STATES, **THETA})
def _():
    return hf.sync_trajectory, dict(s=spins(3, N), W=weights(), theta=theta(), n_steps=3)


@spec("hopfield.sync_trajectory", allow=STATES)         # zero steps: s is still checked
def _():
    return hf.sync_trajectory, dict(s=spins(3, N), W=weights(), n_steps=0)


@spec("hopfield.sync_lyapunov", allow=THETA)
def _():
    s = spins(3, N)
    return hf.sync_lyapunov, dict(s_prev=s, s_next=hf.sync_update(s, weights()), W=weights(),
                                  theta=theta())


@spec("hopfield.run_async", allow={**STATES, **THETA})
def _():
    return hf.run_async, dict(s=spins(3, N), W=weights(), theta=theta(), max_sweeps=5,
                              order="random", generator=g())


@spec("hopfield.run_async")
def _():
    return hf.run_async, dict(s=spins(2, 3, N), W=weights(2), max_sweeps=5, order="fixed")


@spec("hopfield.corrupt_and_retrieve", allow={"patterns": {"extra_dim", "fewer_dims"}})
def _():
    return hf.corrupt_and_retrieve, dict(patterns=spins(3, N), W=weights(), fraction=0.25,
                                         generator=g(), max_sweeps=5)


# ----------------------------------------------------------------------------- capacity
@spec("hopfield.unstable_bits", allow={"patterns": {"extra_dim"}})     # (K, P, N): K networks
def _():
    return hf.unstable_bits, dict(patterns=spins(3, N))


@spec("hopfield.retrieval_overlaps")
def _():
    return hf.retrieval_overlaps, dict(n_neurons=20, loads=[0.05, 0.1], starts_per_network=2,
                                       networks_per_load=2, flip_fraction=0.1, max_sweeps=10,
                                       correlation=0.0, generator=g())


@spec("hopfield.retrieval_overlaps")       # loads as a tensor; correlated patterns
def _():
    return hf.retrieval_overlaps, dict(n_neurons=np.int64(20), loads=torch.tensor([0.05, 0.1]),
                                       starts_per_network=2, networks_per_load=2,
                                       flip_fraction=0.1, max_sweeps=10, correlation=0.2,
                                       generator=g())


@spec("hopfield.mceliece_capacity")
def _():
    return hf.mceliece_capacity, dict(n_neurons=100, every_pattern=True)


@spec("hopfield.mceliece_capacity")
def _():
    return hf.mceliece_capacity, dict(n_neurons=100.0, every_pattern=False)


@spec("hopfield.krotov_hopfield_capacity")
def _():
    return hf.krotov_hopfield_capacity, dict(n_neurons=100.0, n=3)


@spec("hopfield.fixed_point_probability")
def _():
    return hf.fixed_point_probability, dict(n_neurons=100, n_patterns=5, n=3)


@spec("hopfield.fixed_point_fraction")
def _():
    return hf.fixed_point_fraction, dict(n_neurons=30, n_patterns=4, n=2, n_networks=2,
                                         n_test=3, generator=g())


@spec("hopfield.fixed_point_fraction")
def _():
    return hf.fixed_point_fraction, dict(n_neurons=np.int64(30), n_patterns=4, n=3,
                                         n_networks=2, n_test=None, generator=g())


@spec("hopfield.level_crossing")
def _():
    return hf.level_crossing, dict(x=[1.0, 2.0, 4.0], y=[1.0, 0.8, 0.2], level=0.5,
                                   log_x=True)


@spec("hopfield.level_crossing", allow={"x": {"empty"}, "y": {"empty"}})
def _():
    # 1-D tensors are sequences too; with both x and y empty there is no crossing (nan),
    # and the framework empties one at a time, which the length check refuses
    return hf.level_crossing, dict(x=torch.tensor([1.0, 2.0, 4.0], dtype=F64),
                                   y=torch.tensor([1.0, 0.8, 0.2], dtype=F64), level=0.5)


@spec("hopfield.snr_capacity")
def _():
    return hf.snr_capacity, dict(n_neurons=100, n=2, fraction=0.9)


@spec("hopfield.ags_retrieval_overlap")
def _():
    return hf.ags_retrieval_overlap, dict(alpha=0.1)


@spec("hopfield.ags_critical_load")
def _():
    return hf.ags_critical_load, dict(tol=1e-3)


# ----------------------------------------------------------------------------- dense memory
@spec("hopfield.dense_energy", allow=STATES)
def _():
    return hf.dense_energy, dict(s=spins(3, N), patterns=spins(4, N), n=3)


@spec("hopfield.dense_flip_delta", allow=STATES)
def _():
    return hf.dense_flip_delta, dict(s=spins(3, N), patterns=spins(4, N), n=np.int64(3))


@spec("hopfield.dense_flip_delta")
def _():
    return hf.dense_flip_delta, dict(s=spins(2, 3, N), patterns=spins(2, 4, N), n=2)


@spec("hopfield.dense_async_sweep", allow=STATES)
def _():
    return hf.dense_async_sweep, dict(s=spins(3, N), patterns=spins(4, N), n=3, order="random",
                                      generator=g())


@spec("hopfield.dense_run_async", allow=STATES)
def _():
    return hf.dense_run_async, dict(s=spins(3, N), patterns=spins(4, N), n=3, max_sweeps=5,
                                    order="random", generator=g())


@spec("hopfield.dense_unstable_bits", allow={"patterns": {"extra_dim"}})   # (K, P, N)
def _():
    return hf.dense_unstable_bits, dict(patterns=spins(4, N), n=3, n_test=2)

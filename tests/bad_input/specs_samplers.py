"""Bad-input specs for the shared MCMC samplers, companion.samplers."""
from __future__ import annotations

import numpy as np
import torch

from companion import samplers
from framework import spec


def g():
    return torch.Generator().manual_seed(0)


def randn(*shape):
    return torch.randn(*shape, generator=g())


def quadratic(x):
    """E(x) = |x|^2 / 2 for a batch of states of any shape (B, ...): one energy per row."""
    return 0.5 * x.pow(2).reshape(len(x), -1).sum(1)


def ising(x):
    """A small energy of binary states (B, D): neighbours like to agree."""
    return -(x[:, 1:] * x[:, :-1]).sum(1) - 0.3 * x.sum(1)


def binary(b=4, d=3):
    return (torch.rand(b, d, generator=g()) < 0.5).float()


def buffer():
    return samplers.ReplayBuffer(6, lambda n, gen: torch.rand(n, 2, generator=gen),
                                 reinit_prob=0.2, generator=g())


# States are (B, ...): every row is one chain, and a state may be a scalar (B,), a vector
# (B, d) or an image (B, c, h, w); the energy above handles every shape, so one dimension
# more or fewer is a valid batch of chains.
STATES = {"extra_dim", "fewer_dims"}


# ----------------------------------------------------------------------------- gradients
# one energy and one gradient per row: an empty batch gives empty results
@spec("samplers.energy_and_grad", allow={"x": STATES | {"empty"}})
def _():
    return samplers.energy_and_grad, dict(energy_fn=quadratic, x=randn(3, 2))


# ----------------------------------------------------------------------------- Langevin, MALA
@spec("samplers.langevin", allow={"x0": STATES})
def _():
    return samplers.langevin, dict(energy_fn=quadratic, x0=randn(3, 2), n_steps=np.int64(3),
                                   step_size=0.1, generator=g(), noise_scale=0.5,
                                   grad_clip=2.0, bounds=(-3.0, 3.0))


# explicit noise: (n_steps, *x0.shape), so x0 with a dimension more or fewer no longer matches
@spec("samplers.langevin")
def _():
    return samplers.langevin, dict(energy_fn=quadratic, x0=randn(3, 2), n_steps=2,
                                   step_size=0.1, noise=randn(2, 3, 2))


@spec("samplers.mala", allow={"x0": STATES})
def _():
    return samplers.mala, dict(energy_fn=quadratic, x0=randn(3, 2), n_steps=np.int64(3),
                               step_size=0.2, generator=g())


# ----------------------------------------------------------------------------- Metropolis, Gibbs
@spec("samplers.metropolis_hastings", allow={"x0": STATES})
def _():
    return samplers.metropolis_hastings, dict(energy_fn=quadratic, x0=randn(3, 2),
                                              n_steps=np.int64(3), proposal_std=0.5,
                                              generator=g(), beta=2.0)


@spec("samplers.gibbs")
def _():
    return samplers.gibbs, dict(energy_fn=ising, x0=binary(), n_sweeps=np.int64(2),
                                generator=g(), values=(0.0, 1.0), beta=0.5)


@spec("samplers.gibbs")
def _():
    return samplers.gibbs, dict(energy_fn=ising, x0=2 * binary() - 1, n_sweeps=1,
                                values=(-1.0, 1.0))


# ----------------------------------------------------------------------------- replay buffer
@spec("samplers.ReplayBuffer")
def _():
    return samplers.ReplayBuffer, dict(capacity=np.int64(5),
                                       init_fn=lambda n, gen: torch.rand(n, 2, generator=gen),
                                       reinit_prob=0.3, generator=g())


@spec("samplers.ReplayBuffer.sample")
def _():
    return buffer().sample, dict(n=np.int64(4), generator=g())


@spec("samplers.ReplayBuffer.update")
def _():
    return buffer().update, dict(idx=torch.tensor([0, 3, 5]), x=torch.rand(3, 2, generator=g()))

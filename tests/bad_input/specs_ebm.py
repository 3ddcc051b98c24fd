"""Bad-input specs for chapter 2's module, companion.ebm."""
from __future__ import annotations

import numpy as np
import torch

from companion import ebm
from framework import spec

F64 = torch.float64


def g():
    return torch.Generator().manual_seed(0)


def randn(*shape):
    return torch.randn(*shape, generator=g())


def energy():
    torch.manual_seed(0)
    return ebm.MLPEnergy(2, hidden=4, n_hidden_layers=1)


def config():
    return ebm.LangevinConfig(n_steps=2, step_size=0.01, buffer_size=8)


def langevin_ebm():
    return ebm.LangevinEBM(energy(), dim=2, config=config(), generator=g())


def gaussian():
    return dict(mean=torch.tensor([0.5, -1.0]), cov=torch.tensor([[2.0, 0.3], [0.3, 1.0]]))


def sparse_coding():
    return ebm.SparseCoding(5, 3, lam=0.1, generator=g())


def sbn():
    return ebm.SigmoidBeliefNet(4, 2, generator=g())


def binary(b, d):
    return (torch.rand(b, d, generator=g()) < 0.5).float()


# A batch (B, d) may be empty where the result is one value (or row) per row of the batch;
# an empty batch is refused where the result is a mean over it.
ROWS = {"empty"}


# ----------------------------------------------------------------------------- energies
@spec("ebm.mlp")
def _():
    return ebm.mlp, dict(sizes=[3, np.int64(4), 1], activation=torch.nn.ReLU)


@spec("ebm.MLPEnergy")
def _():
    return ebm.MLPEnergy, dict(in_dim=np.int64(2), hidden=4, n_hidden_layers=np.int64(2))


@spec("ebm.MLPEnergy.forward", allow={"x": ROWS})
def _():
    return energy().forward, dict(x=randn(3, 2))


@spec("ebm.contrastive_loss")
def _():
    return ebm.contrastive_loss, dict(e_pos=randn(4), e_neg=randn(3), alpha=0.1)


# ----------------------------------------------------------------------------- Langevin training
@spec("ebm.LangevinConfig")
def _():
    return ebm.LangevinConfig, dict(n_steps=np.int64(3), step_size=1e-2, noise_scale=0.5,
                                    buffer_size=np.int64(20), reinit_prob=0.1, init_range=2.0,
                                    alpha=0.1, grad_clip=1.0)


@spec("ebm.LangevinEBM", skip=("device",))   # device: None, a string or a torch.device
def _():
    return ebm.LangevinEBM, dict(model=energy(), dim=np.int64(2), config=config(),
                                 generator=g(), device=None)


@spec("ebm.LangevinEBM.sample")
def _():
    return langevin_ebm().sample, dict(x0=randn(3, 2), n_steps=np.int64(2))


@spec("ebm.LangevinEBM.step")
def _():
    return langevin_ebm().step, dict(x_pos=randn(4, 2))


@spec("ebm.contrastive_backprop_loss")
def _():
    return ebm.contrastive_backprop_loss, dict(model=energy(), x=randn(3, 2), n_steps=np.int64(2),
                                               step_size=0.05, noise_scale=0.5, generator=g(),
                                               alpha=0.01, bounds=(-3.0, 3.0))


# ----------------------------------------------------------------------------- NCE
@spec("ebm.GaussianNoise")
def _():
    return ebm.GaussianNoise, gaussian()


@spec("ebm.GaussianNoise.sample")
def _():
    return ebm.GaussianNoise(**gaussian()).sample, dict(n=np.int64(4), generator=g())


@spec("ebm.GaussianNoise.log_prob", allow={"x": ROWS})
def _():
    return ebm.GaussianNoise(**gaussian()).log_prob, dict(x=randn(3, 2))


@spec("ebm.GaussianEnergy")
def _():
    return ebm.GaussianEnergy, gaussian()


@spec("ebm.GaussianEnergy.forward", allow={"x": ROWS})
def _():
    return ebm.GaussianEnergy(**gaussian()).forward, dict(x=randn(3, 2))


@spec("ebm.NCEModel")
def _():
    return ebm.NCEModel, dict(energy=energy())


@spec("ebm.NCEModel.log_prob", allow={"x": ROWS})
def _():
    return ebm.NCEModel(energy()).log_prob, dict(x=randn(3, 2))


@spec("ebm.NCEModel.loss")
def _():
    noise = ebm.GaussianNoise(**gaussian())
    return ebm.NCEModel(energy()).loss, dict(x_data=randn(3, 2), x_noise=noise.sample(6, g()),
                                             noise_log_prob=noise.log_prob)


# ----------------------------------------------------------------------------- score matching
@spec("ebm.score_matching_loss")
def _():
    return ebm.score_matching_loss, dict(energy_fn=energy(), x=randn(3, 2))


# ----------------------------------------------------------------------------- siamese
@spec("ebm.make_pairs")
def _():
    return ebm.make_pairs, dict(labels=torch.tensor([0, 1, 1, 2, 0, 2]), generator=g(),
                                p_same=0.5)


@spec("ebm.siamese_loss")
def _():
    return ebm.siamese_loss, dict(z_a=randn(4, 2), z_b=randn(4, 2) + 1,
                                  same=torch.tensor([1.0, 0.0, 0.0, 1.0]), margin=1.5)


# ----------------------------------------------------------------------------- sparse coding
@spec("ebm.SparseCoding")
def _():
    return ebm.SparseCoding, dict(n_features=np.int64(5), n_atoms=3, lam=0.2, generator=g())


@spec("ebm.SparseCoding.init_from_data_")
def _():
    return sparse_coding().init_from_data_, dict(x=randn(6, 5), generator=g())


@spec("ebm.SparseCoding.energy")
def _():
    return sparse_coding().energy, dict(x=randn(4, 5), z=randn(4, 3))


@spec("ebm.SparseCoding.infer", allow={"x": ROWS})
def _():
    return sparse_coding().infer, dict(x=randn(4, 5), n_steps=np.int64(5))


@spec("ebm.SparseCoding.infer")   # a warm start: one code per row of x
def _():
    return sparse_coding().infer, dict(x=randn(4, 5), n_steps=5, z0=randn(4, 3))


@spec("ebm.SparseCoding.free_energy", allow={"x": ROWS})
def _():
    return sparse_coding().free_energy, dict(x=randn(4, 5), n_steps=np.int64(5))


@spec("ebm.SparseCoding.dictionary_step")
def _():
    return sparse_coding().dictionary_step, dict(x=randn(4, 5), z=randn(4, 3), lr=0.1)


# ----------------------------------------------------------------------------- directed model
@spec("ebm.SigmoidBeliefNet")
def _():
    return ebm.SigmoidBeliefNet, dict(n_visible=np.int64(4), n_hidden=2, init_std=0.5,
                                      generator=g())


@spec("ebm.SigmoidBeliefNet.sample")
def _():
    return sbn().sample, dict(n=np.int64(5), generator=g())


@spec("ebm.SigmoidBeliefNet.log_prob", allow={"v": ROWS})
def _():
    return sbn().log_prob, dict(v=binary(5, 4))


# ----------------------------------------------------------------------------- mixtures, products
# energies: a list of tensors of one shape (any shape): the framework does not corrupt lists,
# so the valid call is all these specs check; tests/test_ebm.py has the bad cases.
@spec("ebm.product_energy")
def _():
    return ebm.product_energy, dict(energies=[randn(5), randn(5) + 1])


@spec("ebm.mixture_energy")
def _():
    return ebm.mixture_energy, dict(energies=[randn(5), randn(5) + 1], weights=[0.3, 0.7])


# ----------------------------------------------------------------------------- sampler targets
@spec("ebm.gaussian_mixture_energy", allow={"x": ROWS})
def _():
    return ebm.gaussian_mixture_energy, dict(x=randn(4, 2), means=randn(3, 2), std=0.5)


@spec("ebm.two_mode_rbm")
def _():
    return ebm.two_mode_rbm, dict(n_visible=np.int64(4), coupling=1.5)


@spec("ebm.gibbs_autocorrelation")
def _():
    return ebm.gibbs_autocorrelation, dict(rbm=ebm.two_mode_rbm(3), max_lag=np.int64(4),
                                           statistic=lambda v: v[:, 0])

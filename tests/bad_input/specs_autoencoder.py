"""Bad-input specs for chapter 7's module, companion.autoencoder."""
from __future__ import annotations

import numpy as np
import torch

from companion import autoencoder as ae
from framework import exempt, spec


def g():
    return torch.Generator().manual_seed(0)


def pixels(b=4, n=6):
    return torch.rand(b, n, generator=g())


def model(**kw):
    return ae.Autoencoder(6, 2, (5,), generator=g(), **kw)


exempt("autoencoder.ACTIVATIONS", "a constant: the table of named activations")
exempt("autoencoder.LOSSES", "a constant: the table of named losses")

# A per-example map (B, n) -> (B, ...) of an empty batch is an empty result, as for any
# batch size: a code, a reconstruction, an energy or a loss per example for each of no rows.
ROWS = {"empty"}


# ----------------------------------------------------------------------------- the model
@spec("autoencoder.Autoencoder")
def _():
    return ae.Autoencoder, dict(n_inputs=np.int64(6), d=2, hidden=(np.int64(5),),
                                activation="tanh", code_activation="identity",
                                output="sigmoid", generator=g())


@spec("autoencoder.Autoencoder.init_output_bias_")
def _():
    return model().init_output_bias_, dict(x=pixels(), eps=1e-3)


@spec("autoencoder.Autoencoder.init_output_bias_")
def _():
    return model(output="tanh").init_output_bias_, dict(x=2 * pixels() - 1, eps=0.01)


for _method in ("encode", "forward", "energy"):
    spec(f"autoencoder.Autoencoder.{_method}", allow={"x": ROWS})(
        lambda _m=_method: (getattr(model(), _m), dict(x=pixels())))


@spec("autoencoder.Autoencoder.decode", allow={"h": ROWS})
def _():
    return model().decode, dict(h=torch.randn(4, 2, generator=g()))


# ----------------------------------------------------------------------------- losses
@spec("autoencoder.mean_squared_error", allow={"x_hat": ROWS, "x": ROWS})
def _():
    return ae.mean_squared_error, dict(x_hat=pixels(), x=torch.rand(4, 6))


@spec("autoencoder.binary_cross_entropy", allow={"x_hat": ROWS, "x": ROWS})
def _():
    return ae.binary_cross_entropy, dict(x_hat=pixels(), x=torch.rand(4, 6))


@spec("autoencoder.reconstruction_loss")
def _():
    return ae.reconstruction_loss, dict(model=model(), x=pixels(), loss="bce")


# x may have any shape: the corruption acts on each component.
ANY_SHAPE = {"extra_dim", "fewer_dims", "empty"}


@spec("autoencoder.corrupt", allow={"x": ANY_SHAPE})
def _():
    return ae.corrupt, dict(x=pixels(), generator=g(), noise_std=0.3, mask_prob=0.2,
                            clamp=(0.0, 1.0))


@spec("autoencoder.corrupt", allow={"x": ANY_SHAPE})
def _():
    x = pixels()
    keep = (torch.rand(x.shape, generator=g()) > 0.3).float()
    return ae.corrupt, dict(x=x, noise_std=0.2, keep=keep, eps=torch.randn(x.shape, generator=g()))


@spec("autoencoder.denoising_loss")
def _():
    return ae.denoising_loss, dict(model=model(), x=pixels(), generator=g(), noise_std=0.3,
                                   mask_prob=0.1, loss="mse", clamp=(0.0, 1.0))


@spec("autoencoder.denoising_loss")
def _():
    x = pixels()
    keep = (torch.rand(x.shape, generator=g()) > 0.3).float()
    return ae.denoising_loss, dict(model=model(), x=x, noise_std=0.2, keep=keep,
                                   eps=torch.randn(x.shape, generator=g()))


# ----------------------------------------------------------------------------- energy
@spec("autoencoder.reconstruction_energy", allow={"x": ROWS})
def _():
    return ae.reconstruction_energy, dict(model=model(), x=pixels())


@spec("autoencoder.reconstruction_energy", allow={"x": ROWS})
def _():
    return ae.reconstruction_energy, dict(model=lambda x: 0.5 * x, x=pixels())


@spec("autoencoder.tangent_directions")
def _():
    return ae.tangent_directions, dict(model=model(), x=pixels(), generator=g())


# ----------------------------------------------------------------------------- reference points
@spec("autoencoder.pca")
def _():
    return ae.pca, dict(x=torch.randn(10, 6, generator=g()), d=np.int64(3))


@spec("autoencoder.pca_reconstruct", allow={"x": ROWS})
def _():
    mean, comps = ae.pca(torch.randn(10, 6, generator=g()), 3)
    return ae.pca_reconstruct, dict(x=torch.randn(4, 6, generator=g()), mean=mean,
                                    components=comps)


@spec("autoencoder.principal_angles")
def _():
    return ae.principal_angles, dict(a=torch.randn(6, 3, generator=g()),
                                     b=torch.randn(6, 2, generator=g()))


@spec("autoencoder.ranking_auc")
def _():
    return ae.ranking_auc, dict(low=torch.rand(5, generator=g()), high=torch.rand(4) + 0.5)


@spec("autoencoder.ranking_auc")
def _():
    return ae.ranking_auc, dict(low=torch.tensor([0, 1, 1, 2]), high=torch.tensor([1, 3]))


# ----------------------------------------------------------------------------- the known density
@spec("autoencoder.ring_mixture")
def _():
    return ae.ring_mixture, dict(n_modes=np.int64(3), radius=1.5, std=0.4, dtype=torch.float64)


# x (..., 2): a single point, a batch, a grid of points, or no points at all.
@spec("autoencoder.optimal_denoiser", allow={"x": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return ae.optimal_denoiser, dict(mixture=ae.ring_mixture(), x=torch.randn(5, 2, generator=g()),
                                     noise_std=0.4)

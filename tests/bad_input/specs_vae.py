"""Bad-input specs for chapter 8's module, companion.vae."""
from __future__ import annotations

import numpy as np
import torch

from companion import vae
from framework import exempt, spec


def g():
    return torch.Generator().manual_seed(0)


def randn(*shape):
    return torch.randn(*shape, generator=g())


def pixels(b=3, d=6):
    return torch.rand(b, d, generator=g())


def model(likelihood="bernoulli"):
    torch.manual_seed(0)
    return vae.VAE(x_dim=6, z_dim=2, hidden=5, likelihood=likelihood)


def linear_gaussian():
    return vae.LinearGaussian(W=randn(6, 2).double(), b=randn(6).double(), noise_var=0.3)


exempt("vae.VAEOutput", "a result type (NamedTuple) that VAE.forward returns")

# Leading sample dimensions: logits, means and latent points may have any number of them.
SAMPLES = {"extra_dim"}


# ----------------------------------------------------------------------------- the model
@spec("vae.VAE")
def _():
    return vae.VAE, dict(x_dim=6, z_dim=np.int64(2), hidden=5, likelihood="gaussian", x_std=0.5)


@spec("vae.VAE.encode")
def _():
    return model().encode, dict(x=pixels())


# z (..., z_dim): a single point (z_dim,), a batch, or a batch of batches; an empty batch too.
for _method in ("decode", "decode_mean"):
    spec(f"vae.VAE.{_method}", allow={"z": {"extra_dim", "fewer_dims", "empty"}})(
        lambda _m=_method: (getattr(model(), _m), dict(z=randn(4, 2))))


@spec("vae.VAE.log_likelihood", allow={"decoded": SAMPLES})
def _():
    return model().log_likelihood, dict(x=pixels(), decoded=randn(3, 6))


@spec("vae.VAE.log_likelihood", allow={"decoded": SAMPLES})
def _():
    return model("gaussian").log_likelihood, dict(x=randn(3, 6), decoded=randn(3, 6))


@spec("vae.VAE.forward")
def _():
    return model().forward, dict(x=pixels(), eps=randn(3, 2))


@spec("vae.VAE.forward")
def _():
    return model().forward, dict(x=pixels(), generator=g())


# ----------------------------------------------------------------------------- ELBO, in terms
@spec("vae.reparameterize")
def _():
    return vae.reparameterize, dict(mu=randn(3, 2), logvar=randn(3, 2), eps=randn(4, 3, 2))


@spec("vae.reparameterize")
def _():
    return vae.reparameterize, dict(mu=randn(3, 2), logvar=randn(3, 2), generator=g())


@spec("vae.bernoulli_log_likelihood", allow={"logits": SAMPLES})
def _():
    return vae.bernoulli_log_likelihood, dict(x=pixels(), logits=randn(3, 6))


@spec("vae.gaussian_log_likelihood", allow={"mean": SAMPLES})
def _():
    return vae.gaussian_log_likelihood, dict(x=randn(3, 6), mean=randn(3, 6), x_std=0.5)


# x_std may be a tensor that broadcasts to mean: one per pixel (D,), or one more dimension.
@spec("vae.gaussian_log_likelihood", allow={"mean": SAMPLES, "x_std": {"fewer_dims"}})
def _():
    return vae.gaussian_log_likelihood, dict(x=randn(3, 6), mean=randn(3, 6),
                                             x_std=torch.rand(6, generator=g()) + 0.1)


@spec("vae.gaussian_kl")
def _():
    return vae.gaussian_kl, dict(mu=randn(3, 2), logvar=randn(3, 2))


# z (..., d) against the standard normal: any batch shape, a single point, an empty batch.
@spec("vae.log_normal", allow={"z": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return vae.log_normal, dict(z=randn(3, 2))


# z broadcasts against mu and logvar: one more leading dimension (samples) or a single point.
@spec("vae.log_normal", allow={"z": {"extra_dim", "fewer_dims"}})
def _():
    return vae.log_normal, dict(z=randn(3, 2), mu=randn(3, 2), logvar=randn(3, 2))


@spec("vae.gaussian_entropy", allow={"logvar": {"extra_dim", "fewer_dims", "empty"}})
def _():
    return vae.gaussian_entropy, dict(logvar=randn(3, 2))


@spec("vae.negative_elbo", allow={"logits": SAMPLES})
def _():
    return vae.negative_elbo, dict(x=pixels(), logits=randn(3, 6), mu=randn(3, 2),
                                   logvar=randn(3, 2), beta=0.5)


@spec("vae.elbo_terms")
def _():
    return vae.elbo_terms, dict(model=model(), x=pixels(), n_samples=np.int64(2), generator=g())


@spec("vae.elbo_terms")
def _():
    return vae.elbo_terms, dict(model=model(), x=pixels(), eps=randn(4, 3, 2))


@spec("vae.elbo_loss")
def _():
    return vae.elbo_loss, dict(model=model(), x=pixels(), beta=0.5, eps=randn(3, 2))


@spec("vae.elbo_loss")
def _():
    return vae.elbo_loss, dict(model=model(), x=pixels(), generator=g())


# ----------------------------------------------------------------------------- importance weights
@spec("vae.log_importance_weights")
def _():
    return vae.log_importance_weights, dict(model=model(), x=pixels(), k=4, eps=randn(4, 3, 2))


@spec("vae.log_importance_weights")
def _():
    return vae.log_importance_weights, dict(model=model(), x=pixels(), k=4, generator=g())


@spec("vae.iwae_log_likelihood")
def _():
    return vae.iwae_log_likelihood, dict(model=model(), x=pixels(), k=4, eps=randn(4, 3, 2),
                                         chunk_size=2)


@spec("vae.iwae_log_likelihood")
def _():
    return vae.iwae_log_likelihood, dict(model=model(), x=pixels(), k=4, generator=g())


# ----------------------------------------------------------------------------- latent space
@spec("vae.sample_prior")
def _():
    return vae.sample_prior, dict(model=model(), n=4, generator=g(), binary=True)


# t: a number, or (T,) values along the path
@spec("vae.interpolate", allow={"t": {"fewer_dims"}})
def _():
    return vae.interpolate, dict(model=model(), z_start=randn(2), z_end=randn(2) + 1,
                                 t=torch.linspace(0, 1, 5))


@spec("vae.interpolate")
def _():
    return vae.interpolate, dict(model=model(), z_start=randn(2), z_end=randn(2) + 1, t=0.3)


@spec("vae.latent_grid")
def _():
    return vae.latent_grid, dict(model=model(), n=4, tail=0.05)


@spec("vae.log_marginal_quadrature")
def _():
    return vae.log_marginal_quadrature, dict(model=model(), x=pixels(), n=21, lim=5.0,
                                             chunk_size=100)


@spec("vae.latent_activity")
def _():
    return vae.latent_activity, dict(mu=randn(5, 2))


@spec("vae.kl_per_dimension")
def _():
    return vae.kl_per_dimension, dict(mu=randn(5, 2), logvar=randn(5, 2))


# one KL per eigenvalue: no eigenvalues, no KLs
@spec("vae.linear_vae_kl", allow={"eigvals": {"empty"}})
def _():
    return vae.linear_vae_kl, dict(eigvals=torch.tensor([3.0, 1.0, 0.2]), noise_var=0.5, beta=1.0)


# ----------------------------------------------------------------------------- linear Gaussian
@spec("vae.LinearGaussian")
def _():
    return vae.LinearGaussian, dict(W=randn(6, 2), b=randn(6), noise_var=0.3)


# z (..., B, d): leading sample dimensions are valid
@spec("vae.LinearGaussian.log_joint", allow={"z": SAMPLES})
def _():
    return linear_gaussian().log_joint, dict(x=randn(3, 6).double(), z=randn(3, 2).double())


# one value per row of x: an empty batch gives an empty result
for _method in ("log_marginal", "posterior"):
    spec(f"vae.LinearGaussian.{_method}", allow={"x": {"empty"}})(
        lambda _m=_method: (getattr(linear_gaussian(), _m), dict(x=randn(3, 6).double())))


@spec("vae.LinearGaussian.elbo")
def _():
    return linear_gaussian().elbo, dict(x=randn(3, 6).double(), mu=randn(3, 2).double(),
                                        logvar=randn(3, 2).double())


@spec("vae.LinearGaussian.sample")
def _():
    return linear_gaussian().sample, dict(n=4, generator=g())

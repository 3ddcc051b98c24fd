r"""Chapter 8: variational autoencoders.

A variational autoencoder (Kingma and Welling, 2014; Rezende, Mohamed and Wierstra, 2014)
is a latent-variable model of data $x \in [0, 1]^D$ trained with an encoder:

* prior $p(z) = \mathcal N(0, I_d)$;
* decoder $p_\theta(x \mid z) = \prod_i \mathrm{Bernoulli}(x_i; \sigma(\ell_i(z)))$, with
  logits $\ell(z) \in \mathbb R^D$ (:meth:`VAE.decode`), for binary data; or, for
  real-valued data, $p_\theta(x \mid z) = \mathcal N(x; m(z), \sigma_x^2 I)$ with a fixed
  standard deviation $\sigma_x$ (``likelihood="gaussian"``, :func:`gaussian_log_likelihood`);
* encoder $q_\phi(z \mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))$, which
  outputs $\mu$ and $\log\sigma^2$ (:meth:`VAE.encode`).

Training maximises the evidence lower bound (ELBO), kept here as separate terms:

$$\log p_\theta(x) \ge \mathcal L(x)
  = \mathbb E_{q}[\log p_\theta(x \mid z)] - \mathrm{KL}(q_\phi(z \mid x)\,\|\,p(z)),$$

the reconstruction term (:func:`bernoulli_log_likelihood`) estimated through the
reparameterisation $z = \mu + \sigma \odot \varepsilon$ (:func:`reparameterize`), the KL
term in closed form (:func:`gaussian_kl`), with a weight $\beta$ on the KL term
(:func:`negative_elbo`, :func:`elbo_terms`, :func:`elbo_loss`; $\beta = 1$ is the ELBO).
The importance-weighted bound of Burda, Grosse and Salakhutdinov (2016),

$$\mathcal L_k(x) = \mathbb E\Big[\log \frac1k \sum_{i=1}^k
  \frac{p_\theta(x, z_i)}{q_\phi(z_i \mid x)}\Big],\qquad z_i \sim q_\phi(z \mid x),$$

satisfies $\mathcal L = \mathcal L_1 \le \mathcal L_k \le \mathcal L_{k+1} \le \log p_\theta(x)$
and gives the estimate of $\log p_\theta(x)$ (:func:`iwae_log_likelihood`).

Two models where everything is exact, to check the rest against: the linear-Gaussian model
(:class:`LinearGaussian`: $z \sim \mathcal N(0, I)$, $x \mid z \sim \mathcal N(Wz + b,
s^2 I)$, whose marginal, posterior and ELBO have closed forms), and a model with one or two
latent dimensions, whose $\log p_\theta(x)$ is an integral done on a grid
(:func:`log_marginal_quadrature`). :func:`linear_vae_kl` gives the per-dimension KL of the
best linear VAE, where posterior collapse happens in closed form; :func:`latent_activity`
measures it in any VAE.

As an energy: $E(x, z) = -\log p_\theta(x \mid z) - \log p(z)$, and $-\mathcal L(x) =
\mathbb E_q[E(x, z)] - H[q]$ is a variational free energy, an upper bound on the free
energy $F(x) = -\log\int e^{-E(x, z)}dz = -\log p_\theta(x)$.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import (check_broadcast_together, check_broadcasts_to, check_choice, check_generator,
                      check_int, check_number, check_tensor)
from .seeding import rand, randn

__all__ = [
    "LinearGaussian",
    "VAE",
    "VAEOutput",
    "bernoulli_log_likelihood",
    "elbo_loss",
    "elbo_terms",
    "gaussian_entropy",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "interpolate",
    "iwae_log_likelihood",
    "kl_per_dimension",
    "latent_activity",
    "latent_grid",
    "linear_vae_kl",
    "log_importance_weights",
    "log_marginal_quadrature",
    "log_normal",
    "negative_elbo",
    "reparameterize",
    "sample_prior",
]

LOG_2PI = math.log(2 * math.pi)


# ----------------------------------------------------------------------- checks

def _check_data(name: str, x: Tensor, x_dim: Optional[int] = None) -> Tensor:
    """x: (B, D) floating point, values in [0, 1]."""
    check_tensor(name, x, ndim=2, last_dim=x_dim, floating=True, min_batch=1)
    lo, hi = x.min().item(), x.max().item()
    if not (lo >= 0.0 and hi <= 1.0):   # also catches NaN
        raise ValueError(f"{name} must hold pixel values in [0, 1] (binarised or grey levels), "
                         f"got range [{lo:.3g}, {hi:.3g}]")
    return x


def _check_gaussian(mu: Tensor, logvar: Tensor) -> None:
    check_tensor("mu", mu, floating=True)
    check_tensor("logvar", logvar, floating=True)
    if mu.dim() == 0 or mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must share a shape (..., d), got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")


def _check_model(model) -> "VAE":
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a companion.vae.VAE, got {type(model).__name__}")
    return model


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


# ------------------------------------------------------------------------ model

class VAEOutput(NamedTuple):
    """What :meth:`VAE.forward` returns: the decoder's output ``logits`` (B, D) (the
    Gaussian mean for ``likelihood="gaussian"``), encoder ``mu`` and
    ``logvar`` (B, d), and the latent sample ``z`` (B, d) that was decoded."""

    logits: Tensor
    mu: Tensor
    logvar: Tensor
    z: Tensor


class VAE(nn.Module):
    r"""A variational autoencoder with one hidden layer in the encoder and in the decoder.

    Encoder $x \mapsto (\mu, \log\sigma^2)$: ``x_dim`` -> ``hidden`` (ReLU) -> 2 ``z_dim``.
    Decoder $z \mapsto$ ``x_dim`` numbers through ``hidden`` (ReLU) units: with
    ``likelihood="bernoulli"`` (binary data) the logits $\ell(z)$ of
    $p(x_i = 1 \mid z) = \sigma(\ell_i)$ (no sigmoid: the log-likelihood is computed from
    the logits, which is stable); with ``likelihood="gaussian"`` (real-valued data) the mean
    $m(z)$ of $p(x \mid z) = \mathcal N(m(z), \sigma_x^2 I)$, with the fixed standard
    deviation ``x_std`` $= \sigma_x$. ``forward`` samples $z$ and decodes it; the loss is
    computed outside, by :func:`elbo_loss`.
    """

    def __init__(self, x_dim: int = 784, z_dim: int = 2, hidden: int = 256,
                 likelihood: str = "bernoulli", x_std: float = 1.0):
        super().__init__()
        self.x_dim = check_int("x_dim", x_dim, min_value=1)
        self.z_dim = check_int("z_dim", z_dim, min_value=1)
        hidden = check_int("hidden", hidden, min_value=1)
        self.likelihood = check_choice("likelihood", likelihood, ("bernoulli", "gaussian"))
        self.x_std = check_number("x_std", x_std, positive=True)
        self.encoder = nn.Sequential(nn.Linear(x_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, x_dim))

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""$q(z \mid x) = \mathcal N(\mu(x), \operatorname{diag} e^{\log\sigma^2(x)})$.
        x: (B, x_dim) in [0, 1]; returns mu, logvar, each (B, z_dim)."""
        _check_data("x", x, self.x_dim)
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        r"""The decoder's output: Bernoulli logits $\ell(z)$, or the Gaussian mean $m(z)$.
        z: (..., z_dim); returns (..., x_dim)."""
        check_tensor("z", z, last_dim=self.z_dim, floating=True)
        return self.decoder(z)

    def decode_mean(self, z: Tensor) -> Tensor:
        r"""$\mathbb E[x \mid z]$: the pixel probabilities $\sigma(\ell(z))$, or the mean $m(z)$."""
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def log_likelihood(self, x: Tensor, decoded: Tensor) -> Tensor:
        r"""$\log p(x \mid z)$ from ``decoded`` = ``decode(z)``, (..., B, x_dim); returns (..., B)."""
        check_tensor("x", x, ndim=2, last_dim=self.x_dim, floating=True)
        check_tensor("decoded", decoded, floating=True)
        if decoded.dim() < 2 or decoded.shape[-2:] != x.shape:
            raise ValueError(f"decoded must have shape (..., {x.shape[0]}, {x.shape[1]}) to match "
                             f"x, got {tuple(decoded.shape)}")
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(x, decoded)
        return gaussian_log_likelihood(x, decoded, self.x_std)

    def forward(self, x: Tensor, eps: Optional[Tensor] = None,
                generator: Optional[torch.Generator] = None) -> VAEOutput:
        """Encode ``x`` (B, x_dim), draw z = mu + sigma * eps (``eps`` given, or drawn with
        ``generator``), decode it. In training and in evaluation alike z is a sample.
        ``eps``: (B, z_dim), one draw per example."""
        if eps is not None:
            check_tensor("eps", eps, ndim=2)
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, eps=eps, generator=generator)
        return VAEOutput(self.decode(z), mu, logvar, z)


# ---------------------------------------------------------------- ELBO, in terms

def reparameterize(mu: Tensor, logvar: Tensor, eps: Optional[Tensor] = None,
                   generator: Optional[torch.Generator] = None) -> Tensor:
    r"""$z = \mu + \sigma \odot \varepsilon$ with $\sigma = e^{\log\sigma^2 / 2}$ (the standard
    deviation, not the variance) and $\varepsilon \sim \mathcal N(0, I)$.

    mu, logvar: (..., d). ``eps``: the noise, of shape mu.shape, or (k, *mu.shape) for k
    samples each; if ``None`` it is drawn with ``generator`` on mu's device. Returns z with
    the shape of ``eps``. Gradients flow to mu and logvar through the sum and product.
    """
    _check_gaussian(mu, logvar)
    if eps is None:
        check_generator("generator", generator)
        eps = randn(mu.shape, generator, device=mu.device, dtype=mu.dtype)
    else:
        check_tensor("eps", eps, floating=True, nonempty=True)
        if eps.shape[eps.dim() - mu.dim():] != mu.shape or eps.dim() > mu.dim() + 1:
            raise ValueError(f"eps must have shape {tuple(mu.shape)} or (k, "
                             f"{', '.join(map(str, mu.shape))}), got {tuple(eps.shape)}")
    std = torch.exp(0.5 * logvar)                     # sigma = exp(log sigma^2 / 2)
    return mu + std * eps                             # z = mu + sigma * eps


def bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    r"""$\log p(x \mid z) = \sum_i x_i \log \hat x_i + (1 - x_i)\log(1 - \hat x_i)$ with
    $\hat x = \sigma(\ell)$, computed from the logits (``binary_cross_entropy_with_logits``).

    x: (B, D) in [0, 1]; logits: (..., B, D), e.g. (k, B, D) for k latent samples each.
    Returns (..., B). For binary x it is a log-probability; for grey levels it is the
    negative cross-entropy, not a normalised density.
    """
    _check_data("x", x)
    check_tensor("logits", logits, floating=True)
    if logits.dim() < 2 or logits.shape[-2:] != x.shape:
        raise ValueError(f"logits must have shape (..., {x.shape[0]}, {x.shape[1]}) to match x, "
                         f"got {tuple(logits.shape)}")
    bce = F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
    return -bce.sum(dim=-1)


def _check_x_std(x_std, mean: Tensor) -> None:
    """x_std: a positive number, or a positive tensor that broadcasts to mean's shape."""
    if not isinstance(x_std, Tensor):
        check_number("x_std", x_std, positive=True)
        return
    check_tensor("x_std", x_std, floating=True)
    check_broadcasts_to("x_std", x_std, mean.shape, "mean's shape ")
    if not (x_std > 0).all():
        raise ValueError("x_std must be > 0 everywhere")


def gaussian_log_likelihood(x: Tensor, mean: Tensor, x_std: Union[float, Tensor]) -> Tensor:
    r"""$\log\mathcal N(x; m, \sigma_x^2 I) = -\sum_i \Big(\frac{(x_i - m_i)^2}{2\sigma_x^2}
    + \tfrac12\log 2\pi\sigma_x^2\Big)$: the squared error divided by $2\sigma_x^2$, plus
    the normalising constant.

    x: (B, D) real; mean: (..., B, D); x_std: a positive number or a tensor broadcastable
    to mean. Returns (..., B).
    """
    check_tensor("x", x, ndim=2, floating=True)
    check_tensor("mean", mean, floating=True)
    if mean.dim() < 2 or mean.shape[-2:] != x.shape:
        raise ValueError(f"mean must have shape (..., {x.shape[0]}, {x.shape[1]}) to match x, "
                         f"got {tuple(mean.shape)}")
    _check_x_std(x_std, mean)
    if isinstance(x_std, Tensor):
        var = x_std.to(mean.dtype) ** 2
        log_norm = 0.5 * torch.log(2 * math.pi * var)
    else:
        var = float(x_std) ** 2
        log_norm = 0.5 * math.log(2 * math.pi * var)
    return -((x - mean) ** 2 / (2 * var) + log_norm).sum(dim=-1)    # (..., B)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""$\mathrm{KL}(\mathcal N(\mu, \operatorname{diag}\sigma^2) \,\|\, \mathcal N(0, I))
    = \tfrac12 \sum_j (\sigma_j^2 - \log\sigma_j^2 - 1 + \mu_j^2)$, in nats.

    mu, logvar: (..., d); returns (...).
    """
    _check_gaussian(mu, logvar)
    return 0.5 * (logvar.exp() - logvar - 1 + mu**2).sum(dim=-1)


def log_normal(z: Tensor, mu: Optional[Tensor] = None, logvar: Optional[Tensor] = None) -> Tensor:
    r"""$\log\mathcal N(z; \mu, \operatorname{diag}\sigma^2)
    = -\tfrac12\sum_j \big(\log 2\pi + \log\sigma_j^2 + (z_j - \mu_j)^2/\sigma_j^2\big)$.

    z: (..., d); mu, logvar broadcastable to z (``None``: the standard normal). Returns (...).
    """
    check_tensor("z", z, floating=True)
    if z.dim() == 0:
        raise ValueError("z must have at least one dimension (..., d), got a scalar")
    if (mu is None) != (logvar is None):
        raise ValueError("give both mu and logvar, or neither (the standard normal)")
    if mu is None:
        return -0.5 * (LOG_2PI + z**2).sum(dim=-1)
    _check_gaussian(mu, logvar)
    check_broadcast_together(z=z, mu=mu)            # logvar has mu's shape
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 / logvar.exp()).sum(dim=-1)


def gaussian_entropy(logvar: Tensor) -> Tensor:
    r"""$H[\mathcal N(\mu, \operatorname{diag}\sigma^2)] = \tfrac12\sum_j(\log 2\pi e + \log\sigma_j^2)$.
    logvar: (..., d); returns (...)."""
    check_tensor("logvar", logvar, floating=True)
    if logvar.dim() == 0:
        raise ValueError("logvar must have at least one dimension (..., d), got a scalar")
    return 0.5 * (LOG_2PI + 1 + logvar).sum(dim=-1)


def negative_elbo(x: Tensor, logits: Tensor, mu: Tensor, logvar: Tensor,
                  beta: float = 1.0) -> Tensor:
    r"""$-\mathcal L_\beta(x) = -\log p(x \mid z) + \beta\,\mathrm{KL}(q(z \mid x)\,\|\,p(z))$,
    per example, in nats.

    x: (B, D); logits: (B, D), or (S, B, D) for S latent samples per example (the
    reconstruction term is then averaged over them); mu, logvar: (B, d). ``beta`` >= 0
    weights the KL term: ``beta = 1`` gives the negative ELBO, an upper bound on
    $-\log p(x)$. Returns (B,).
    """
    beta = check_number("beta", beta, nonnegative=True)
    _check_data("x", x)
    _check_gaussian(mu, logvar)
    if mu.dim() != 2 or mu.shape[0] != x.shape[0]:
        raise ValueError(f"mu must have shape ({x.shape[0]}, d), one row per example of x, "
                         f"got {tuple(mu.shape)}")
    recon = bernoulli_log_likelihood(x, logits)                # (B,) or (S, B)
    if recon.dim() == 2:
        recon = recon.mean(dim=0)                              # average over the S samples
    return -recon + beta * gaussian_kl(mu, logvar)             # (B,)


def _noise(mu: Tensor, n: int, generator: Optional[torch.Generator], eps: Optional[Tensor],
           single_ok: bool = False) -> Tensor:
    """``n`` draws of standard normal noise shaped like ``mu`` (B, d), (n, B, d), or the given
    ``eps`` checked against that shape ((B, d) is also accepted with ``single_ok``)."""
    if eps is None:
        check_generator("generator", generator)
        return randn((n, *mu.shape), generator, device=mu.device, dtype=mu.dtype)
    check_tensor("eps", eps, floating=True, nonempty=True)
    if eps.shape == (n, *mu.shape) or (single_ok and eps.shape == mu.shape):
        return eps
    if single_ok and eps.dim() == 3 and eps.shape[1:] == mu.shape:
        return eps                                             # any number S of draws
    wanted = f"{tuple(mu.shape)} or (S, *{tuple(mu.shape)})" if single_ok else str((n, *mu.shape))
    raise ValueError(f"eps must have shape {wanted}, got {tuple(eps.shape)}")


def elbo_terms(model: VAE, x: Tensor, n_samples: int = 1,
               generator: Optional[torch.Generator] = None,
               eps: Optional[Tensor] = None) -> dict[str, Tensor]:
    r"""The two terms of the negative ELBO, per example, with $z$ *sampled* from $q(z \mid x)$.

    ``recon``: $-\frac1S\sum_s \log p(x \mid z_s)$, $z_s = \mu + \sigma\odot\varepsilon_s$,
    an unbiased estimate of $-\mathbb E_q[\log p(x \mid z)]$ from ``n_samples`` = S draws
    (or from ``eps``, (S, B, d) or (B, d)); ``kl``: the analytic
    $\mathrm{KL}(q(z \mid x)\,\|\,p(z))$; ``mu``, ``logvar``: the encoder's outputs.
    x: (B, D); every entry is (B,), or (B, d) for mu and logvar. The negative ELBO is
    ``recon + kl``.
    """
    _check_model(model)
    n_samples = check_int("n_samples", n_samples, min_value=1)
    mu, logvar = model.encode(x)                                   # (B, d) each
    eps = _noise(mu, n_samples, generator, eps, single_ok=True)    # (S, B, d) or (B, d)
    z = reparameterize(mu, logvar, eps=eps)                        # (S, B, d) or (B, d)
    log_px_z = model.log_likelihood(x, model.decode(z))            # (S, B) or (B,)
    recon = -(log_px_z.mean(dim=0) if log_px_z.dim() == 2 else log_px_z)
    return {"recon": recon, "kl": gaussian_kl(mu, logvar), "mu": mu, "logvar": logvar}


def elbo_loss(model: VAE, x: Tensor, beta: float = 1.0, generator: Optional[torch.Generator] = None,
              eps: Optional[Tensor] = None) -> dict:
    r"""The training loss: the mean over the batch of $-\log p(x \mid z) + \beta\,\mathrm{KL}$,
    with one reparameterised sample $z$ per example (:func:`elbo_terms`); ``eps`` (B, d) gives
    that draw, or ``None`` draws it with ``generator``.

    Returns a dict for :func:`companion.training.fit`: ``loss`` (scalar, with gradient),
    ``recon`` (mean $-\log p(x \mid z)$) and ``kl`` (mean KL), both in nats per example.
    """
    _check_model(model)
    beta = check_number("beta", beta, nonnegative=True)
    if eps is not None:
        check_tensor("eps", eps, ndim=2)
    terms = elbo_terms(model, x, 1, generator, eps)
    loss = (terms["recon"] + beta * terms["kl"]).mean()            # -ELBO_beta, batch mean
    return {"loss": loss, "recon": terms["recon"].mean().detach(),
            "kl": terms["kl"].mean().detach()}


# ----------------------------------------------------------- importance weighting

def log_importance_weights(model: VAE, x: Tensor, k: int = 1,
                           generator: Optional[torch.Generator] = None,
                           eps: Optional[Tensor] = None) -> Tensor:
    r"""$\log w_i = \log p(x \mid z_i) + \log p(z_i) - \log q(z_i \mid x)$ for
    $z_i = \mu + \sigma\odot\varepsilon_i$, $i = 1..k$.

    x: (B, D); ``eps``: (k, B, d), or ``None`` to draw it with ``generator``. Returns (k, B).
    The mean of $\log w_1$ over $\varepsilon$ is the ELBO; $\log w_1$ is its single-sample
    estimate (with the KL estimated by sampling too).
    """
    _check_model(model)
    k = check_int("k", k, min_value=1)
    mu, logvar = model.encode(x)                               # (B, d) each
    eps = _noise(mu, k, generator, eps)                        # (k, B, d)
    z = reparameterize(mu, logvar, eps=eps)                    # (k, B, d)
    log_px_z = model.log_likelihood(x, model.decode(z))        # (k, B)
    return log_px_z + log_normal(z) - log_normal(z, mu, logvar)


def iwae_log_likelihood(model: VAE, x: Tensor, k: int = 100,
                        generator: Optional[torch.Generator] = None,
                        eps: Optional[Tensor] = None, chunk_size: Optional[int] = None) -> Tensor:
    r"""The importance-weighted estimate of $\log p(x)$ (Burda, Grosse and Salakhutdinov, 2016):

    $$\hat{\mathcal L}_k(x) = \log \frac1k \sum_{i=1}^k w_i
      = \operatorname{logsumexp}_i(\log w_i) - \log k,$$

    whose expectation $\mathcal L_k$ rises with $k$ towards $\log p(x)$; $k = 1$ is the
    ELBO. x: (B, D); ``eps``: (k, B, d) or ``None``. The batch is processed in chunks of
    ``chunk_size`` examples (default: about 20,000 decoder rows at a time). Returns (B,).
    """
    _check_model(model)
    _check_data("x", x, model.x_dim)
    k = check_int("k", k, min_value=1)
    if chunk_size is None:
        chunk_size = max(1, 20_000 // k)
    chunk_size = check_int("chunk_size", chunk_size, min_value=1)
    if eps is not None:
        check_tensor("eps", eps, floating=True)
        if eps.shape != (k, x.shape[0], model.z_dim):
            raise ValueError(f"eps must have shape {(k, x.shape[0], model.z_dim)} (k, B, d), "
                             f"got {tuple(eps.shape)}")
    out = []
    for start in range(0, x.shape[0], chunk_size):
        part = slice(start, start + chunk_size)
        log_w = log_importance_weights(model, x[part], k, generator,
                                       None if eps is None else eps[:, part])   # (k, b)
        out.append(torch.logsumexp(log_w, dim=0) - math.log(k))                # (b,)
    return torch.cat(out)


# ------------------------------------------------------------ generating, latent space

@torch.no_grad()
def sample_prior(model: VAE, n: int, generator: Optional[torch.Generator] = None,
                 binary: bool = False) -> Tensor:
    r"""Decode $z \sim p(z) = \mathcal N(0, I)$: returns the mean $\mathbb E[x \mid z]$
    (n, D) (the pixel probabilities $\sigma(\ell(z))$ for a Bernoulli decoder), or with
    ``binary=True`` a Bernoulli draw of them."""
    _check_model(model)
    n = check_int("n", n, min_value=1)
    check_generator("generator", generator)
    if binary and model.likelihood != "bernoulli":
        raise ValueError("binary=True needs a Bernoulli decoder, got likelihood="
                         f"{model.likelihood!r}")
    device = _device(model)
    z = randn((n, model.z_dim), generator, device=device)
    probs = model.decode_mean(z)
    if binary:
        return (rand(probs.shape, generator, device=device) < probs).to(probs.dtype)
    return probs


@torch.no_grad()
def interpolate(model: VAE, z_start: Tensor, z_end: Tensor,
                t: Union[float, Sequence[float], Tensor]) -> tuple[Tensor, Tensor]:
    r"""Decode the straight latent path $z(t) = (1 - t)\,z_0 + t\,z_1$.

    z_start, z_end: (d,); t: a number or (T,) values (0 gives z_start, 1 gives z_end).
    Returns the decoded means (pixel probabilities) (T, D) and the latent points (T, d).
    """
    _check_model(model)
    for name, z in (("z_start", z_start), ("z_end", z_end)):
        check_tensor(name, z, ndim=1, last_dim=model.z_dim, floating=True)
    if isinstance(t, (str, bytes)):
        raise TypeError(f"t must be a number, a sequence of numbers or a tensor, got {t!r}")
    try:
        t = torch.as_tensor(t, dtype=z_start.dtype, device=z_start.device)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"t must be a number, a sequence of numbers or a tensor, got "
                        f"{type(t).__name__}") from exc
    if t.dim() > 1 or t.numel() == 0:
        raise ValueError(f"t must be a number or a non-empty (T,) sequence, got shape {tuple(t.shape)}")
    t = t.reshape(-1)
    if not torch.isfinite(t).all():
        raise ValueError(f"t must hold finite numbers, got {t.tolist()}")
    z = (1 - t)[:, None] * z_start + t[:, None] * z_end       # (T, d)
    return model.decode_mean(z), z


@torch.no_grad()
def latent_grid(model: VAE, n: int = 15, tail: float = 0.03) -> tuple[Tensor, Tensor]:
    r"""Decode an $n \times n$ grid of a two-dimensional latent space.

    The grid points are quantiles of the prior, $z_j = \Phi^{-1}(u_j)$ with $u$ evenly
    spaced on $[\text{tail}, 1 - \text{tail}]$, so that each cell holds about the same prior
    mass. Returned row-major with $z_2$ decreasing down the rows and $z_1$ increasing along
    them (as on a plot): decoded means (n*n, D) and the points (n*n, 2).
    """
    _check_model(model)
    if model.z_dim != 2:
        raise ValueError(f"latent_grid needs a model with z_dim = 2, got z_dim = {model.z_dim}")
    n = check_int("n", n, min_value=2, max_value=100)
    tail = check_number("tail", tail, positive=True)
    if not tail < 0.5:
        raise ValueError(f"tail must be in (0, 0.5), got {tail}")
    u = torch.linspace(tail, 1 - tail, n, device=_device(model))
    q = torch.distributions.Normal(0.0, 1.0).icdf(u)           # (n,) prior quantiles
    z1, z2 = torch.meshgrid(q, q.flip(0), indexing="xy")        # rows: z2 from high to low
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)    # (n*n, 2)
    return model.decode_mean(z), z


# ------------------------------------------------- exact log-likelihood, low-dimensional z

def _log_likelihood_matrix(model: VAE, x: Tensor, decoded: Tensor) -> Tensor:
    r"""$\log p(x_b \mid z_g)$ for every example b and every latent point g, (B, G), as one
    matrix product: $x\cdot\ell - \sum_i \mathrm{softplus}(\ell_i)$ (Bernoulli) or
    $-\lVert x - m\rVert^2 / 2\sigma_x^2 - \frac D2 \log 2\pi\sigma_x^2$ (Gaussian).
    x: (B, D); decoded: (G, D), the decoder's output at the G points."""
    if model.likelihood == "bernoulli":
        return x @ decoded.T - F.softplus(decoded).sum(dim=1)                 # (B, G)
    var = model.x_std ** 2
    sq = (x**2).sum(1, keepdim=True) - 2 * x @ decoded.T + (decoded**2).sum(1)
    return -sq / (2 * var) - 0.5 * x.shape[1] * math.log(2 * math.pi * var)


@torch.no_grad()
def log_marginal_quadrature(model: VAE, x: Tensor, n: int = 401, lim: float = 6.0,
                            chunk_size: int = 8192) -> Tensor:
    r"""$\log p_\theta(x) = \log\int p_\theta(x \mid z)\,p(z)\,dz$ for a model with one or two
    latent dimensions, by the trapezoid rule on an ``n``-point grid over $[-\text{lim},
    \text{lim}]$ per dimension (the prior's mass outside is below $10^{-8}$ for lim = 6).

    Exact up to the grid: refine ``n`` to see the error (for a smooth integrand the rule
    converges fast once the spacing $2\,\text{lim}/(n - 1)$ is well below the posterior's
    width). x: (B, D); returns (B,), in float64.
    """
    _check_model(model)
    _check_data("x", x, model.x_dim)
    if model.z_dim > 2:
        raise ValueError(f"log_marginal_quadrature needs z_dim = 1 or 2, got z_dim = {model.z_dim}")
    n = check_int("n", n, min_value=3)
    lim = check_number("lim", lim, positive=True)
    chunk_size = check_int("chunk_size", chunk_size, min_value=1)
    device, dtype = _device(model), next(model.parameters()).dtype
    axis = torch.linspace(-lim, lim, n, device=device, dtype=torch.float64)
    w = torch.full((n,), math.log(axis[1] - axis[0]), device=device, dtype=torch.float64)
    w[0] = w[-1] = w[0] - math.log(2)                              # trapezoid end weights
    if model.z_dim == 1:
        z, log_w = axis[:, None], w
    else:
        z = torch.cartesian_prod(axis, axis)                       # (n*n, 2)
        log_w = (w[:, None] + w[None, :]).reshape(-1)
    log_w = log_w + log_normal(z)                                  # + log p(z), (G,)
    total = torch.full((x.shape[0],), -math.inf, device=device, dtype=torch.float64)
    x = x.to(dtype)
    for start in range(0, z.shape[0], chunk_size):
        part = slice(start, start + chunk_size)
        ll = _log_likelihood_matrix(model, x, model.decode(z[part].to(dtype))).double()
        total = torch.logaddexp(total, torch.logsumexp(ll + log_w[part], dim=1))
    return total


# ----------------------------------------------------- collapse: active latent dimensions

ACTIVE_THRESHOLD = 1e-2


def latent_activity(mu: Tensor) -> Tensor:
    r"""The activity of each latent dimension $u$ (Burda, Grosse and Salakhutdinov, 2016),
    $A_u = \operatorname{Var}_x\big(\mathbb E_{q(z \mid x)}[z_u]\big)$: how much the encoder's
    mean for dimension $u$ moves from one example to the next. A dimension whose activity is
    below ``ACTIVE_THRESHOLD`` = 0.01 is *inactive*: its code says nothing about $x$
    (posterior collapse). mu: (N, d) encoder means over a data set; returns (d,)."""
    check_tensor("mu", mu, ndim=2, floating=True)
    if mu.shape[0] < 2:
        raise ValueError(f"mu needs at least 2 rows (examples) to have a variance, got {mu.shape[0]}")
    return mu.var(dim=0)                                           # over the examples


def kl_per_dimension(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""The KL term split by latent dimension and averaged over the examples,
    $\frac1N\sum_n \tfrac12(\sigma_{nj}^2 - \log\sigma_{nj}^2 - 1 + \mu_{nj}^2)$: how many
    nats each dimension carries (near 0: collapsed). mu, logvar: (N, d); returns (d,), whose
    sum is the mean of :func:`gaussian_kl`."""
    _check_gaussian(mu, logvar)
    if mu.dim() != 2 or mu.shape[0] == 0:
        raise ValueError(f"mu and logvar must have shape (N, d) with N >= 1, got {tuple(mu.shape)}")
    return gaussian_kl(mu.unsqueeze(-1), logvar.unsqueeze(-1)).mean(dim=0)  # one-dim. terms


def linear_vae_kl(eigvals: Tensor, noise_var: float, beta: float = 1.0) -> Tensor:
    r"""The per-dimension KL of the best *linear* VAE (Lucas et al., 2019), in nats per example.

    Data with covariance eigenvalues $\lambda_j$, a linear Gaussian decoder with noise
    variance $\sigma^2$ = ``noise_var``, a Gaussian encoder, KL weight $\beta$: the maximum of
    the $\beta$-weighted ELBO is probabilistic PCA (Tipping and Bishop, 1999) with noise
    $\beta\sigma^2$, and latent dimension $j$ carries

    $$\mathrm{KL}_j = \max\Big(0,\ \tfrac12\log\frac{\lambda_j}{\beta\sigma^2}\Big):$$

    a direction whose variance is below $\beta\sigma^2$ is not worth encoding, and its latent
    dimension collapses to the prior. eigvals: (m,) >= 0; returns (m,).
    """
    check_tensor("eigvals", eigvals, ndim=1, floating=True)
    if not (eigvals >= 0).all():
        raise ValueError("eigvals must be >= 0 (eigenvalues of a covariance matrix)")
    noise_var = check_number("noise_var", noise_var, positive=True)
    beta = check_number("beta", beta, positive=True)
    return 0.5 * torch.log(eigvals / (beta * noise_var)).clamp(min=0.0)


# ------------------------------------------------------------- the linear-Gaussian model

class LinearGaussian:
    r"""The linear-Gaussian latent-variable model (probabilistic PCA),

    $$z \sim \mathcal N(0, I_d), \qquad x \mid z \sim \mathcal N(Wz + b,\ s^2 I_D),$$

    in which everything a VAE approximates is exact:
    $p(x) = \mathcal N(b,\ WW^\top + s^2 I)$ and
    $p(z \mid x) = \mathcal N\big(\Sigma W^\top (x - b)/s^2,\ \Sigma\big)$ with
    $\Sigma = (I + W^\top W / s^2)^{-1}$. W: (D, d); b: (D,); noise_var: $s^2 > 0$.
    """

    def __init__(self, W: Tensor, b: Tensor, noise_var: float):
        check_tensor("W", W, ndim=2, floating=True, nonempty=True)
        check_tensor("b", b, ndim=1, last_dim=W.shape[0], floating=True)
        self.W, self.b = W, b.to(W.dtype)
        self.noise_var = check_number("noise_var", noise_var, positive=True)
        self.x_dim, self.z_dim = W.shape

    def _check_x(self, x: Tensor) -> Tensor:
        return check_tensor("x", x, ndim=2, last_dim=self.x_dim, floating=True)

    def log_joint(self, x: Tensor, z: Tensor) -> Tensor:
        r"""$\log p(x \mid z) + \log p(z)$. x: (B, D); z: (..., B, d); returns (..., B)."""
        self._check_x(x)
        check_tensor("z", z, last_dim=self.z_dim, floating=True)
        if z.dim() < 2 or z.shape[-2] != x.shape[0]:
            raise ValueError(f"z must have shape (..., {x.shape[0]}, {self.z_dim}), one row per "
                             f"row of x, got {tuple(z.shape)}")
        mean = z @ self.W.T + self.b                                   # (..., B, D)
        return gaussian_log_likelihood(x, mean, math.sqrt(self.noise_var)) + log_normal(z)

    def log_marginal(self, x: Tensor) -> Tensor:
        r"""$\log p(x) = \log\mathcal N(x; b, C)$, $C = WW^\top + s^2 I$ (by Cholesky). x: (B, D)."""
        self._check_x(x)
        C = self.W @ self.W.T + self.noise_var * torch.eye(self.x_dim, dtype=self.W.dtype,
                                                           device=self.W.device)
        L = torch.linalg.cholesky(C)
        r = torch.linalg.solve_triangular(L, (x - self.b).T, upper=False)    # (D, B)
        log_det = 2 * torch.log(torch.diagonal(L)).sum()
        return -0.5 * (self.x_dim * LOG_2PI + log_det + (r**2).sum(dim=0))

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""$p(z \mid x) = \mathcal N(m(x), \Sigma)$: returns m (B, d) and $\Sigma$ (d, d)."""
        self._check_x(x)
        eye = torch.eye(self.z_dim, dtype=self.W.dtype, device=self.W.device)
        cov = torch.linalg.inv(eye + self.W.T @ self.W / self.noise_var)    # Sigma
        mean = (x - self.b) @ self.W @ cov / self.noise_var                 # Sigma W^T (x-b)/s^2
        return mean, cov

    def elbo(self, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
        r"""The ELBO of $q(z \mid x) = \mathcal N(\mu, \operatorname{diag}\sigma^2)$, in closed form:

        $$\mathbb E_q[\log p(x \mid z)] = -\tfrac D2\log 2\pi s^2
          - \frac{\lVert x - W\mu - b\rVert^2 + \sum_j \sigma_j^2 \lVert W_{:j}\rVert^2}{2 s^2},$$

        minus $\mathrm{KL}(q\,\|\,p(z))$ (:func:`gaussian_kl`). x: (B, D); mu, logvar: (B, d).
        """
        self._check_x(x)
        _check_gaussian(mu, logvar)
        if mu.shape != (x.shape[0], self.z_dim):
            raise ValueError(f"mu and logvar must have shape ({x.shape[0]}, {self.z_dim}), one row "
                             f"per row of x, got {tuple(mu.shape)}")
        resid = ((x - mu @ self.W.T - self.b) ** 2).sum(dim=-1)            # (B,)
        spread = (logvar.exp() * (self.W**2).sum(dim=0)).sum(dim=-1)        # sum_j s_j^2 |W_j|^2
        s2 = self.noise_var
        recon = -0.5 * self.x_dim * math.log(2 * math.pi * s2) - (resid + spread) / (2 * s2)
        return recon - gaussian_kl(mu, logvar)

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> Tensor:
        """Draw x (n, D) by ancestral sampling: z from the prior, then x given z."""
        n = check_int("n", n, min_value=1)
        check_generator("generator", generator)
        z = randn((n, self.z_dim), generator, device=self.W.device, dtype=self.W.dtype)
        noise = randn((n, self.x_dim), generator, device=self.W.device, dtype=self.W.dtype)
        return z @ self.W.T + self.b + math.sqrt(self.noise_var) * noise

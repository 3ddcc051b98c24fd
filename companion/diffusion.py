r"""Chapter 13: score-based and diffusion models.

A density $p(x) = e^{-E(x)}/Z$ has the **score** $\nabla_x \log p(x) = -\nabla_x E(x)$, in
which the partition function $Z$ does not appear. This module holds what the chapter
needs to learn scores and to sample with them:

* :class:`GaussianMixture`, a 2-D (or d-D) mixture of isotropic Gaussians with its exact
  log-density, score and noised versions, the test bed whose true score is known;
* denoising score matching (Vincent, 2011), :func:`dsm_loss`, and an energy network
  :class:`NoiseConditionalEnergy` whose score is minus its gradient;
* annealed Langevin dynamics over noise levels (Song and Ermon, 2019),
  :func:`annealed_langevin`, which runs :func:`companion.samplers.langevin` at each level;
* the denoising diffusion probabilistic model (Ho et al., 2020): the noise schedule
  :class:`Schedule`, the forward process in closed form (:func:`q_sample`) and simulated
  step by step (:func:`forward_chain`), the posterior of one step (:func:`q_posterior`),
  the loss (:func:`ddpm_loss`), the terms of the ELBO (:func:`elbo_weight`,
  :func:`gaussian_kl`), ancestral sampling (:func:`ddpm_sample`) and an
  epsilon-predicting network (:class:`EpsilonMLP`);
* memory: the ideal denoiser of a finite training set, $E[x_0 \mid x_t]$
  (:func:`ideal_denoiser`), the same thing as one modern Hopfield update of chapter 12
  (:func:`hopfield_denoiser`), the diffusion model that uses it (:class:`IdealEpsilon`)
  and the distances that tell copying from generating (:func:`nearest_distance`).

Shapes: data are (B, d) (images flattened); time steps ``t`` are integers in 1..T, as a
Python int or a long tensor (B,). Schedules are indexed as in the paper: ``alpha_bar[t]``
for t = 0..T, with ``alpha_bar[0] = 1``.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from . import modern_hopfield as mh
from . import samplers
from ._checks import (check_broadcasts_to, check_callable, check_choice, check_generator, check_int,
                      check_number, check_probability, check_tensor)
from .seeding import randint, randn, randperm

__all__ = [
    "DigitClassifier",
    "EpsilonMLP",
    "GaussianMixture",
    "IdealEpsilon",
    "NoiseConditionalEnergy",
    "Schedule",
    "annealed_langevin",
    "class_spread",
    "copy_ratio",
    "ddpm_loss",
    "denoiser_weights",
    "ddpm_sample",
    "dsm_loss",
    "elbo_weight",
    "forward_chain",
    "gaussian_kl",
    "geometric_noise_levels",
    "hopfield_beta",
    "hopfield_denoiser",
    "ideal_denoiser",
    "linear_schedule",
    "nearest_distance",
    "p_mean",
    "predict_x0",
    "q_posterior",
    "q_sample",
]

Steps = Union[int, Tensor]


# ----------------------------------------------------------------------------------------
# a Gaussian mixture: the density whose score we know
# ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class GaussianMixture:
    r"""$p(x) = \sum_k w_k\,\mathcal N(x;\ \mu_k,\ s_k^2 I)$.

    ``weights`` (K,) positive, summing to 1; ``means`` (K, d); ``stds`` (K,) positive.
    Its energy is $E = -\log p$ and its score $\nabla_x\log p(x) = \sum_k r_k(x)\,
    (\mu_k - x)/s_k^2$, with $r_k(x)$ the posterior probability of component $k$.
    """

    weights: Tensor
    means: Tensor
    stds: Tensor

    def __post_init__(self):
        check_tensor("weights", self.weights, ndim=1, floating=True)
        check_tensor("means", self.means, ndim=2, floating=True)
        check_tensor("stds", self.stds, ndim=1, floating=True)
        k = self.means.shape[0]
        if k == 0 or self.weights.shape[0] != k or self.stds.shape[0] != k:
            raise ValueError(f"weights (K,), means (K, d) and stds (K,) must agree on K >= 1, got "
                             f"{tuple(self.weights.shape)}, {tuple(self.means.shape)}, "
                             f"{tuple(self.stds.shape)}")
        if (self.weights <= 0).any() or abs(self.weights.sum().item() - 1) > 1e-6:
            raise ValueError(f"weights must be positive and sum to 1, got {self.weights.tolist()}")
        if (self.stds <= 0).any():
            raise ValueError(f"stds must be positive, got {self.stds.tolist()}")

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def _check_x(self, x: Tensor) -> Tensor:
        check_tensor("x", x, floating=True)
        if x.dim() == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have last dimension d = {self.dim}, got shape {tuple(x.shape)}")
        return x

    def component_log_probs(self, x: Tensor) -> Tensor:
        r"""$\log w_k + \log\mathcal N(x; \mu_k, s_k^2 I)$ for every component: (..., K)."""
        x = self._check_x(x)
        mu, s2 = self.means.to(x), (self.stds ** 2).to(x)
        sq = ((x.unsqueeze(-2) - mu) ** 2).sum(-1)                       # (..., K)
        return self.weights.to(x).log() - sq / (2 * s2) - 0.5 * self.dim * torch.log(2 * math.pi * s2)

    def log_prob(self, x: Tensor) -> Tensor:
        r"""$\log p(x)$: (..., d) -> (...)."""
        return torch.logsumexp(self.component_log_probs(x), dim=-1)

    def energy(self, x: Tensor) -> Tensor:
        r"""$E(x) = -\log p(x)$ (the normalised energy): (..., d) -> (...)."""
        return -self.log_prob(x)

    def responsibilities(self, x: Tensor) -> Tensor:
        r"""$r_k(x) = p(k \mid x)$: (..., K)."""
        return torch.softmax(self.component_log_probs(x), dim=-1)

    def score(self, x: Tensor) -> Tensor:
        r"""$\nabla_x \log p(x) = \sum_k r_k(x)\,(\mu_k - x)/s_k^2$, in closed form: (..., d)."""
        r = self.responsibilities(x)                                      # (..., K)
        mu, s2 = self.means.to(x), (self.stds ** 2).to(x)
        return ((r / s2).unsqueeze(-1) * (mu - x.unsqueeze(-2))).sum(-2)

    def convolved(self, scale: float = 1.0, noise_std: float = 0.0) -> "GaussianMixture":
        r"""The law of $a x + \sigma\varepsilon$ for $x \sim p$, $\varepsilon \sim \mathcal N(0, I)$:
        again a mixture, with means $a\mu_k$ and standard deviations $\sqrt{a^2 s_k^2 +
        \sigma^2}$. ``noise_std`` alone gives the noised density $p_\sigma$ of score
        matching; ``scale`` $=\sqrt{\bar\alpha_t}$ and ``noise_std`` $=\sqrt{1 - \bar\alpha_t}$
        give the diffusion model's marginal $q(x_t)$."""
        a = check_number("scale", scale)
        sigma = check_number("noise_std", noise_std, nonnegative=True)
        return GaussianMixture(self.weights, a * self.means,
                               torch.sqrt(a ** 2 * self.stds ** 2 + sigma ** 2))

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> Tensor:
        """``n`` samples, (n, d), on the device and in the dtype of ``means``."""
        n = check_int("n", n, min_value=0)
        check_generator("generator", generator)
        k = torch.multinomial(self.weights.cpu().double(), n, replacement=True, generator=generator)
        k = k.to(self.means.device)
        eps = randn((n, self.dim), generator, self.means.device, self.means.dtype)
        return self.means[k] + self.stds[k, None] * eps

    def assign(self, x: Tensor) -> Tensor:
        """The index of the most probable component of every point: (...,) long."""
        return self.component_log_probs(x).argmax(-1)

    def mode_weights(self, x: Tensor) -> Tensor:
        """The share of the points ``x`` (n, d) assigned to each component: (K,)."""
        check_tensor("x", x, ndim=2, floating=True, min_batch=1)
        k = self.assign(x)
        return torch.bincount(k, minlength=self.means.shape[0]).to(torch.float64) / max(1, len(k))


# ----------------------------------------------------------------------------------------
# denoising score matching and annealed Langevin dynamics (Song and Ermon, 2019)
# ----------------------------------------------------------------------------------------

def geometric_noise_levels(sigma_max: float, sigma_min: float, n: int) -> Tensor:
    r"""$\sigma_1 > \dots > \sigma_L$, a geometric sequence from ``sigma_max`` to ``sigma_min``: (n,)."""
    hi = check_number("sigma_max", sigma_max, positive=True)
    lo = check_number("sigma_min", sigma_min, positive=True)
    n = check_int("n", n, min_value=1)
    if n > 1 and not hi > lo:
        raise ValueError(f"sigma_max must exceed sigma_min, got {hi} and {lo}")
    if n == 1:
        return torch.tensor([hi], dtype=torch.float64)
    return torch.exp(torch.linspace(math.log(hi), math.log(lo), n, dtype=torch.float64))


def _sigma_column(sigma, x: Tensor) -> Tensor:
    """sigma as a (B, 1) tensor on x's device, from a number or a (B,) tensor."""
    if isinstance(sigma, Tensor):
        if sigma.dim() == 0:
            sigma = sigma.expand(x.shape[0])
        if sigma.shape == (x.shape[0], 1):
            sigma = sigma.squeeze(1)
        if sigma.shape != (x.shape[0],):
            raise ValueError(f"sigma must be a number or a tensor of shape ({x.shape[0]},) or "
                             f"({x.shape[0]}, 1), got shape {tuple(sigma.shape)}")
        if (sigma <= 0).any():
            raise ValueError("sigma must be > 0")
        return sigma.to(x).unsqueeze(1)
    sigma = check_number("sigma", sigma, positive=True)
    return torch.full((x.shape[0], 1), sigma, dtype=x.dtype, device=x.device)


def dsm_loss(score_fn: Callable[[Tensor, Tensor], Tensor], x0: Tensor, sigma,
             generator: Optional[torch.Generator] = None, eps: Optional[Tensor] = None) -> Tensor:
    r"""Denoising score matching, weighted by $\sigma^2$ (Vincent 2011; Song and Ermon 2019):

    $$\ell = \tfrac12\,\mathbb E\,\big\lVert \sigma\, s(\tilde x, \sigma) + \varepsilon \big\rVert^2,
      \qquad \tilde x = x_0 + \sigma\varepsilon,$$

    that is $\sigma^2 \cdot \tfrac12\lVert s(\tilde x) - \nabla_{\tilde x}\log
    q(\tilde x\mid x_0)\rVert^2$ with $\nabla_{\tilde x}\log q(\tilde x \mid x_0) =
    -(\tilde x - x_0)/\sigma^2 = -\varepsilon/\sigma$. ``score_fn(x, sigma)`` maps (B, d) and
    (B, 1) noise levels to scores (B, d); ``sigma`` is a number or (B,); ``eps`` (B, d)
    replaces the random noise. Returns the batch mean, a scalar.
    """
    check_callable("score_fn", score_fn)
    check_tensor("x0", x0, ndim=2, floating=True, min_batch=1)
    check_generator("generator", generator)
    s = _sigma_column(sigma, x0)
    eps = _noise(eps, x0, generator)
    x_noisy = x0 + s * eps                                    # x~ = x0 + sigma eps
    score = score_fn(x_noisy, s)
    return 0.5 * ((s * score + eps) ** 2).sum(-1).mean()      # 1/2 |sigma s + eps|^2


def _time_features(c: Tensor, n_features: int) -> Tensor:
    """Sinusoidal features of a scalar per row (c: (B, 1)) -> (B, n_features)."""
    half = n_features // 2
    freqs = torch.exp(torch.linspace(0.0, math.log(100.0), half, device=c.device, dtype=c.dtype))
    return torch.cat([torch.sin(c * freqs), torch.cos(c * freqs)], dim=-1)


def _mlp(n_in: int, hidden: int, n_out: int, n_layers: int) -> nn.Sequential:
    layers, width = [], n_in
    for _ in range(n_layers):
        layers += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def _init_(module: nn.Module, generator: Optional[torch.Generator]) -> None:
    """PyTorch's default initialisation, drawn from ``generator``."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                bound = 1 / math.sqrt(m.in_features)
                m.weight.copy_(2 * bound * torch.rand(m.weight.shape, generator=generator) - bound)
                m.bias.copy_(2 * bound * torch.rand(m.bias.shape, generator=generator) - bound)


class NoiseConditionalEnergy(nn.Module):
    r"""An energy $E_\theta(x, \sigma)$ for every noise level, whose score is
    $s_\theta(x, \sigma) = -\nabla_x E_\theta(x, \sigma)$.

    An MLP of ``x`` (B, d) and sinusoidal features of $\log\sigma$, with ``n_layers``
    hidden layers of width ``hidden`` (SiLU), returning one energy per row, (B,). Trained
    by :func:`dsm_loss` on :meth:`score`, it is an energy-based model that never meets its
    partition function.
    """

    def __init__(self, dim: int = 2, hidden: int = 128, n_layers: int = 3, n_features: int = 16,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.dim = check_int("dim", dim, min_value=1)
        self.n_features = check_int("n_features", n_features, min_value=2)
        self.net = _mlp(self.dim + self.n_features, check_int("hidden", hidden, min_value=1), 1,
                        check_int("n_layers", n_layers, min_value=1))
        _init_(self, check_generator("generator", generator))

    def forward(self, x: Tensor, sigma) -> Tensor:
        """The energies E(x, sigma): (B, d) -> (B,)."""
        check_tensor("x", x, ndim=2, last_dim=self.dim, floating=True)
        s = _sigma_column(sigma, x)
        return self.net(torch.cat([x, _time_features(s.log(), self.n_features)], -1)).squeeze(-1)

    def score(self, x: Tensor, sigma) -> Tensor:
        r"""$s_\theta(x, \sigma) = -\nabla_x E_\theta(x, \sigma)$: (B, d). Differentiable in the
        parameters when the module is in training mode (for :func:`dsm_loss`)."""
        check_tensor("x", x, ndim=2, last_dim=self.dim, floating=True, min_batch=1)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self(x, sigma).sum(), x, create_graph=self.training)
        return -grad


def annealed_langevin(energy_fn: Callable[[Tensor, float], Tensor], x0: Tensor,
                      sigmas: Sequence[float], *, n_steps_each: int, eps: float,
                      generator: Optional[torch.Generator] = None,
                      return_levels: bool = False):
    r"""Annealed Langevin dynamics (Song and Ermon 2019, Algorithm 1).

    For each noise level $\sigma_i$, from the largest to the smallest, run ``n_steps_each``
    Langevin steps on the energy $E(\cdot, \sigma_i)$ with step
    $\alpha_i = \epsilon\,\sigma_i^2/\sigma_L^2$:
    $x \leftarrow x + \tfrac{\alpha_i}{2} s(x, \sigma_i) + \sqrt{\alpha_i}\,z$, which is
    :func:`companion.samplers.langevin` with ``step_size`` $=\alpha_i/2$. ``energy_fn(x,
    sigma)`` returns (B,) energies. Returns the final states, and with ``return_levels``
    also the states after every level, (L + 1, *x0.shape) (the first is ``x0``).
    """
    check_callable("energy_fn", energy_fn)
    check_tensor("x0", x0, floating=True, min_batch=1)
    sig = [check_number(f"sigmas[{i}]", s, positive=True) for i, s in enumerate(sigmas)]
    if not sig:
        raise ValueError("sigmas must hold at least one noise level")
    if any(a < b for a, b in zip(sig, sig[1:])):
        raise ValueError(f"sigmas must decrease, got {sig}")
    n_steps_each = check_int("n_steps_each", n_steps_each, min_value=1)
    eps = check_number("eps", eps, positive=True)
    x, levels = x0.detach(), [x0.detach()]
    for s in sig:
        alpha = eps * s ** 2 / sig[-1] ** 2
        x = samplers.langevin(lambda v, s=s: energy_fn(v, s), x, n_steps=n_steps_each,
                              step_size=alpha / 2, generator=generator)
        levels.append(x)
    return (x, torch.stack(levels)) if return_levels else x


# ----------------------------------------------------------------------------------------
# denoising diffusion probabilistic models (Ho et al., 2020)
# ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class Schedule:
    r"""A variance schedule $\beta_1, \dots, \beta_T$ and what follows from it, indexed as in
    the paper, t = 0..T (entry 0: no noise): $\alpha_t = 1 - \beta_t$,
    $\bar\alpha_t = \prod_{s \le t}\alpha_s$. All (T + 1,) float64 tensors."""

    betas: Tensor
    alphas: Tensor
    alpha_bars: Tensor

    @property
    def T(self) -> int:
        return self.betas.shape[0] - 1

    @classmethod
    def from_betas(cls, betas: Tensor) -> "Schedule":
        """The schedule of the given $\\beta_1..\\beta_T$ ((T,), each in (0, 1))."""
        check_tensor("betas", betas, ndim=1, floating=True, min_batch=1)
        if (betas <= 0).any() or (betas >= 1).any():
            raise ValueError("betas must lie strictly between 0 and 1")
        b = torch.cat([betas.new_zeros(1), betas]).to(torch.float64)
        a = 1 - b
        return cls(b, a, torch.cumprod(a, 0))

    def to(self, device) -> "Schedule":
        return Schedule(self.betas.to(device), self.alphas.to(device), self.alpha_bars.to(device))


def linear_schedule(T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> Schedule:
    r"""Ho et al.'s schedule: $\beta_t$ linear from $\beta_1 = 10^{-4}$ to $\beta_T = 0.02$, T = 1000."""
    T = check_int("T", T, min_value=1)
    lo, hi = check_probability("beta_1", beta_1), check_probability("beta_T", beta_T)
    return Schedule.from_betas(torch.linspace(lo, hi, T, dtype=torch.float64))


def _check_schedule(schedule) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a diffusion.Schedule, got {type(schedule).__name__}")
    return schedule


def _steps(t: Steps, x: Tensor, schedule: Schedule, low: int = 0) -> Tensor:
    """t as a long tensor (B,) on x's device, checked to lie in low..T."""
    if isinstance(t, Tensor):
        if t.dtype not in (torch.int32, torch.int64) or t.shape not in ((x.shape[0],), ()):
            raise ValueError(f"t must be an int or a long tensor of shape ({x.shape[0]},), got "
                             f"{t.dtype} {tuple(t.shape)}")
        t = t.expand(x.shape[0]).to(x.device)
    else:
        t = torch.full((x.shape[0],), check_int("t", t), dtype=torch.long, device=x.device)
    if (t < low).any() or (t > schedule.T).any():
        raise ValueError(f"t must lie in {low}..{schedule.T}, got values from {int(t.min())} "
                         f"to {int(t.max())}")
    return t


def _coef(values: Tensor, t: Tensor, x: Tensor) -> Tensor:
    """values[t] as a column (B, 1) in x's dtype."""
    return values.to(x.device)[t].to(x.dtype).unsqueeze(1)


def _check_data(name: str, x) -> Tensor:
    return check_tensor(name, x, ndim=2, floating=True, min_batch=1)


def _check_like(name: str, x, like: Tensor) -> Tensor:
    """A floating tensor of ``like``'s shape."""
    check_tensor(name, x, floating=True)
    if x.shape != like.shape:
        raise ValueError(f"{name} must have shape {tuple(like.shape)}, got {tuple(x.shape)}")
    return x


def _noise(eps: Optional[Tensor], x0: Tensor, generator: Optional[torch.Generator]) -> Tensor:
    """The given noise (checked to have x0's shape), or fresh standard normal noise."""
    if eps is None:
        return randn(x0.shape, generator, x0.device, x0.dtype)
    return _check_like("eps", eps, x0)


def _step_tensor(t, x: Tensor, T: int) -> Tensor:
    """Steps as a long tensor (B,) or (), from an int or an integer tensor, each in 0..T."""
    if isinstance(t, Tensor):
        if t.is_floating_point() or t.dtype == torch.bool or t.dim() > 1 or \
                (t.dim() == 1 and t.shape[0] != x.shape[0]):
            raise ValueError(f"t must be an int or an integer tensor of shape ({x.shape[0]},), "
                             f"got {t.dtype} {tuple(t.shape)}")
    else:
        t = torch.tensor(check_int("t", t), device=x.device)
    if (t < 0).any() or (t > T).any():
        raise ValueError(f"t must lie in 0..{T}")
    return t


def q_sample(x0: Tensor, t: Steps, schedule: Schedule, generator: Optional[torch.Generator] = None,
             eps: Optional[Tensor] = None) -> Tensor:
    r"""The forward process in closed form,
    $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon$: (B, d)."""
    _check_data("x0", x0)
    check_generator("generator", generator)
    schedule = _check_schedule(schedule)
    t = _steps(t, x0, schedule)
    eps = _noise(eps, x0, generator)
    ab = _coef(schedule.alpha_bars, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def forward_chain(x0: Tensor, t: int, schedule: Schedule,
                  generator: Optional[torch.Generator] = None) -> Tensor:
    r"""The forward process simulated step by step,
    $x_s = \sqrt{1 - \beta_s}\,x_{s-1} + \sqrt{\beta_s}\,\varepsilon_s$ for s = 1..t: (B, d)."""
    _check_data("x0", x0)
    check_generator("generator", generator)
    schedule = _check_schedule(schedule)
    t = check_int("t", t, min_value=0, max_value=schedule.T)
    x = x0
    for s in range(1, t + 1):
        b = schedule.betas[s].item()
        x = math.sqrt(1 - b) * x + math.sqrt(b) * randn(x.shape, generator, x.device, x.dtype)
    return x


def q_posterior(x0: Tensor, x_t: Tensor, t: Steps, schedule: Schedule) -> tuple[Tensor, Tensor]:
    r"""$q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I)$ for t >= 1:

    $$\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t}\,x_0
      + \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}\,x_t, \qquad
      \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\,\beta_t .$$

    Returns the mean (B, d) and the variance (B, 1).
    """
    _check_data("x0", x0)
    _check_data("x_t", x_t)
    if x0.shape != x_t.shape:
        raise ValueError(f"x0 and x_t must have the same shape, got {tuple(x0.shape)} and "
                         f"{tuple(x_t.shape)}")
    schedule = _check_schedule(schedule)
    t = _steps(t, x0, schedule, low=1)
    b, a = _coef(schedule.betas, t, x0), _coef(schedule.alphas, t, x0)
    ab, ab_prev = _coef(schedule.alpha_bars, t, x0), _coef(schedule.alpha_bars, t - 1, x0)
    mean = (ab_prev.sqrt() * b * x0 + a.sqrt() * (1 - ab_prev) * x_t) / (1 - ab)
    return mean, (1 - ab_prev) / (1 - ab) * b


def predict_x0(x_t: Tensor, eps_hat: Tensor, t: Steps, schedule: Schedule) -> Tensor:
    r"""The clean data implied by a noise estimate,
    $\hat x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\,\hat\varepsilon)/\sqrt{\bar\alpha_t}$: (B, d)."""
    _check_data("x_t", x_t)
    _check_like("eps_hat", eps_hat, x_t)
    t = _steps(t, x_t, _check_schedule(schedule))
    ab = _coef(schedule.alpha_bars, t, x_t)
    return (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()


def p_mean(x_t: Tensor, eps_hat: Tensor, t: Steps, schedule: Schedule) -> Tensor:
    r"""The mean of the reverse step $p_\theta(x_{t-1} \mid x_t)$,
    $\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}
    \hat\varepsilon\big)$: (B, d)."""
    _check_data("x_t", x_t)
    _check_like("eps_hat", eps_hat, x_t)
    t = _steps(t, x_t, _check_schedule(schedule), low=1)
    b, a = _coef(schedule.betas, t, x_t), _coef(schedule.alphas, t, x_t)
    ab = _coef(schedule.alpha_bars, t, x_t)
    return (x_t - b / (1 - ab).sqrt() * eps_hat) / a.sqrt()


def gaussian_kl(mean_q: Tensor, var_q: Tensor, mean_p: Tensor, var_p: Tensor) -> Tensor:
    r"""$\mathrm{KL}\big(\mathcal N(\mu_q, v_q I)\,\|\,\mathcal N(\mu_p, v_p I)\big) =
    \tfrac12\sum_i\big[v_q/v_p - 1 - \log(v_q/v_p) + (\mu_{q,i} - \mu_{p,i})^2/v_p\big]$,
    in nats, for means (B, d) and variances broadcastable to (B, 1): (B,)."""
    _check_data("mean_q", mean_q)
    _check_like("mean_p", mean_p, mean_q)
    for name, v in (("var_q", var_q), ("var_p", var_p)):
        check_tensor(name, v, floating=True)
        check_broadcasts_to(name, v, (len(mean_q), 1))
        if (v <= 0).any():
            raise ValueError(f"{name} must be positive")
    d = mean_q.shape[-1]
    ratio = (var_q / var_p).expand(mean_q.shape[:-1] + (1,)).squeeze(-1)
    return 0.5 * (d * (ratio - 1 - ratio.log()) + ((mean_q - mean_p) ** 2 / var_p).sum(-1))


def elbo_weight(t: Steps, schedule: Schedule, sigma2: str = "beta") -> Tensor:
    r"""The weight of $\lVert\varepsilon - \varepsilon_\theta\rVert^2$ in the ELBO's term
    $L_{t-1} = \mathrm{KL}(q(x_{t-1}\mid x_t, x_0)\,\|\,p_\theta(x_{t-1}\mid x_t))$:
    $\lambda_t = \beta_t^2 / (2\sigma_t^2\alpha_t(1 - \bar\alpha_t))$, with the reverse
    variance $\sigma_t^2 = \beta_t$ (``"beta"``) or $\tilde\beta_t$ (``"posterior"``)."""
    schedule = _check_schedule(schedule)
    if isinstance(t, int) and not isinstance(t, bool):
        t = torch.tensor([t])
    check_tensor("t", t)
    if t.is_floating_point() or t.dtype == torch.bool:
        raise TypeError(f"t must hold integer steps, got dtype {t.dtype}")
    t = t.long().cpu()
    if (t < 1).any() or (t > schedule.T).any():
        raise ValueError(f"t must lie in 1..{schedule.T}")
    b, a, ab = schedule.betas[t], schedule.alphas[t], schedule.alpha_bars[t]
    if sigma2 == "beta":
        s2 = b
    elif sigma2 == "posterior":
        s2 = (1 - schedule.alpha_bars[t - 1]) / (1 - ab) * b
    else:
        raise ValueError(f"sigma2 must be 'beta' or 'posterior', got {sigma2!r}")
    return b ** 2 / (2 * s2 * a * (1 - ab))


def ddpm_loss(eps_model: Callable[[Tensor, Tensor], Tensor], x0: Tensor, schedule: Schedule,
              generator: Optional[torch.Generator] = None, t: Optional[Tensor] = None,
              eps: Optional[Tensor] = None) -> Tensor:
    r"""Ho et al.'s simplified loss $L_{\text{simple}} = \mathbb E_{t, x_0, \varepsilon}
    \lVert\varepsilon - \varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 + \sqrt{1 - \bar\alpha_t}
    \varepsilon,\ t)\rVert^2$, t uniform on 1..T, averaged over the batch and the d
    coordinates. ``eps_model(x_t, t)`` returns (B, d); ``t`` and ``eps`` may be given."""
    check_callable("eps_model", eps_model)
    _check_data("x0", x0)
    check_generator("generator", generator)
    schedule = _check_schedule(schedule)
    if t is None:
        t = randint(schedule.T, (x0.shape[0],), generator, x0.device) + 1
    if eps is None:
        eps = randn(x0.shape, generator, x0.device, x0.dtype)
    x_t = q_sample(x0, t, schedule, eps=eps)
    return ((eps - eps_model(x_t, t)) ** 2).mean()


@torch.no_grad()
def ddpm_sample(eps_model: Callable[[Tensor, Tensor], Tensor], n: int, dim: int,
                schedule: Schedule, generator: Optional[torch.Generator] = None, *,
                device=None, dtype: torch.dtype = torch.float32, clip: Optional[tuple] = None,
                keep: Sequence[int] = ()) -> Union[Tensor, tuple[Tensor, dict]]:
    r"""Ancestral sampling (Ho et al., Algorithm 2): $x_T \sim \mathcal N(0, I)$, then for
    t = T..1, $x_{t-1} = \mu_\theta(x_t, t) + \sigma_t z$ with $\sigma_t^2 = \beta_t$ and
    $z \sim \mathcal N(0, I)$ (no noise at t = 1). With ``clip=(lo, hi)`` the predicted
    $\hat x_0$ is clipped to the data's range and the mean is the posterior mean
    $\tilde\mu_t(\hat x_0, x_t)$ (as in Ho et al.'s code; without clipping the two means are
    equal). Returns $x_0$ (n, dim), and, when ``keep`` lists steps, also a dict
    t -> (x_t, predicted x_0) at those steps."""
    check_callable("eps_model", eps_model)
    n, dim = check_int("n", n, min_value=1), check_int("dim", dim, min_value=1)
    schedule = _check_schedule(schedule)
    keep = {check_int("keep[i]", k, min_value=0, max_value=schedule.T) for k in keep}
    x = randn((n, dim), generator, device, dtype)
    kept = {}
    for t in range(schedule.T, 0, -1):
        tt = torch.full((n,), t, dtype=torch.long, device=x.device)
        eps_hat = eps_model(x, tt)
        x0_hat = predict_x0(x, eps_hat, tt, schedule)
        if clip is not None:
            x0_hat = x0_hat.clamp(*clip)
        if t in keep:
            kept[t] = (x.clone(), x0_hat)
        x = (q_posterior(x0_hat, x, tt, schedule)[0] if clip is not None
             else p_mean(x, eps_hat, tt, schedule))
        if t > 1:
            x = x + math.sqrt(schedule.betas[t].item()) * randn(x.shape, generator, x.device, x.dtype)
    if 0 in keep:
        kept[0] = (x.clone(), x.clone())
    return (x, kept) if keep else x


class EpsilonMLP(nn.Module):
    r"""$\varepsilon_\theta(x_t, t)$: an MLP of ``x`` (B, d) with ``n_layers`` hidden layers of
    width ``hidden`` (SiLU). Sinusoidal features $\tau$ of $t/T$ modulate every hidden layer
    through their own linear maps, a scale and a shift (FiLM):
    $h \leftarrow \operatorname{SiLU}\big((W h + b)(1 + a(\tau)) + c(\tau)\big)$, so the
    gain of each layer can depend on the noise level. Output (B, d). Its score is
    $s_\theta(x_t, t) = -\varepsilon_\theta(x_t, t)/\sqrt{1 - \bar\alpha_t}$.

    With ``predict="x0"`` (and the ``schedule``) the MLP's output $D_\theta(x_t, t)$ is a guess
    of the clean data, and the noise estimate follows from the forward process's identity,
    $\varepsilon_\theta = (x_t - \sqrt{\bar\alpha_t}\,D_\theta)/\sqrt{1 - \bar\alpha_t}$: the
    same family of functions of $x_t$, trained with the same loss, but the network itself only
    has to denoise, as chapter 7's denoising autoencoder does.
    """

    def __init__(self, dim: int, T: int, hidden: int = 128, n_layers: int = 3, n_features: int = 32,
                 generator: Optional[torch.Generator] = None, predict: str = "eps",
                 schedule: Optional[Schedule] = None):
        super().__init__()
        self.predict = check_choice("predict", predict, ("eps", "x0"))
        if predict == "x0":
            schedule = _check_schedule(schedule)
            if schedule.T != T:
                raise ValueError(f"schedule must have T = {T} steps, got {schedule.T}")
            self.register_buffer("alpha_bars", schedule.alpha_bars.float())
        self.dim, self.T = check_int("dim", dim, min_value=1), check_int("T", T, min_value=1)
        self.n_features = check_int("n_features", n_features, min_value=2)
        hidden = check_int("hidden", hidden, min_value=1)
        n_layers = check_int("n_layers", n_layers, min_value=1)
        widths = [self.dim] + [hidden] * n_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.time = nn.ModuleList(nn.Linear(self.n_features, 2 * hidden) for _ in range(n_layers))
        self.out = nn.Linear(hidden, self.dim)
        _init_(self, check_generator("generator", generator))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """The noise estimate for states ``x`` (B, d) at steps ``t`` (an int or (B,) integers)."""
        check_tensor("x", x, ndim=2, last_dim=self.dim, floating=True, min_batch=1)
        t = _step_tensor(t, x, self.T)
        c = (t.to(x).reshape(-1, 1) / self.T).expand(x.shape[0], 1)
        tau = _time_features(4 * c, self.n_features)
        h = x
        for layer, time in zip(self.layers, self.time):
            scale, shift = time(tau).chunk(2, dim=-1)
            h = nn.functional.silu(layer(h) * (1 + scale) + shift)
        if self.predict == "eps":
            return self.out(h)
        ab = self.alpha_bars.to(x.dtype)[t.to(x.device).long().reshape(-1)].unsqueeze(1)
        return (x - ab.sqrt() * self.out(h)) / (1 - ab).sqrt()      # eps from the clean guess


# ----------------------------------------------------------------------------------------
# memory: the ideal denoiser of a finite training set
# ----------------------------------------------------------------------------------------

def _memory_alpha_bar(x_t: Tensor, train: Tensor, alpha_bar) -> float:
    check_tensor("x_t", x_t, ndim=2, floating=True)
    check_tensor("train", train, ndim=2, floating=True, min_batch=1)
    if x_t.shape[1] != train.shape[1]:
        raise ValueError(f"x_t and train must have the same width d, got {tuple(x_t.shape)} and "
                         f"{tuple(train.shape)}")
    ab = check_number("alpha_bar", alpha_bar)
    if not 0 < ab < 1:
        raise ValueError(f"alpha_bar must lie strictly between 0 and 1, got {ab}")
    return ab


def denoiser_weights(x_t: Tensor, train: Tensor, alpha_bar: float) -> Tensor:
    r"""The posterior probabilities $p(x_0 = y_i \mid x_t)$ of the N training points:
    $\operatorname{softmax}_i\big(-\lVert x_t - \sqrt{\bar\alpha}\,y_i\rVert^2 /
    2(1 - \bar\alpha)\big)$, (B, N); the weights of :func:`ideal_denoiser`."""
    ab = _memory_alpha_bar(x_t, train, alpha_bar)
    logits = -torch.cdist(x_t, math.sqrt(ab) * train) ** 2 / (2 * (1 - ab))
    return torch.softmax(logits, dim=-1)


def ideal_denoiser(x_t: Tensor, train: Tensor, alpha_bar: float) -> Tensor:
    r"""$E[x_0 \mid x_t]$ when $x_0$ is drawn uniformly from the N rows of ``train`` and
    $x_t = \sqrt{\bar\alpha}\,x_0 + \sqrt{1 - \bar\alpha}\,\varepsilon$:

    $$E[x_0 \mid x_t] = \sum_i w_i\,y_i, \qquad w = \operatorname{softmax}_i\Big(
      -\frac{\lVert x_t - \sqrt{\bar\alpha}\,y_i\rVert^2}{2(1 - \bar\alpha)}\Big).$$

    ``x_t`` (B, d), ``train`` (N, d); returns (B, d). It is the minimiser of the denoising
    loss over *all* functions, so a model that reaches it can only return training points.
    """
    return denoiser_weights(x_t, train, alpha_bar) @ train


def hopfield_beta(alpha_bar: float) -> float:
    r"""The inverse temperature of the ideal denoiser as a Hopfield update,
    $\beta = \sqrt{\bar\alpha}/(1 - \bar\alpha)$."""
    ab = check_number("alpha_bar", alpha_bar)
    if not 0 < ab < 1:
        raise ValueError(f"alpha_bar must lie strictly between 0 and 1, got {ab}")
    return math.sqrt(ab) / (1 - ab)


def hopfield_denoiser(x_t: Tensor, train: Tensor, alpha_bar: float) -> Tensor:
    r"""The ideal denoiser computed as one modern Hopfield update (chapter 12),
    $X\operatorname{softmax}(\beta X^\top\xi)$ with $\beta = \sqrt{\bar\alpha}/(1-\bar\alpha)$.

    The exponent of :func:`ideal_denoiser` is $\beta\,(y_i^\top x_t - \tfrac12\sqrt{\bar\alpha}
    \lVert y_i\rVert^2)$ plus a term that does not depend on i. One extra coordinate
    carries the norm term: the stored patterns are $(y_i, \lVert y_i\rVert^2)$ and the state
    is $(x_t, -\tfrac12\sqrt{\bar\alpha})$; the update's first d coordinates are the answer.
    (For training points of equal norm the extra coordinate changes nothing.)
    """
    ab = _memory_alpha_bar(x_t, train, alpha_bar)
    patterns = torch.cat([train, (train ** 2).sum(-1, keepdim=True)], dim=-1)      # (N, d + 1)
    xi = torch.cat([x_t, x_t.new_full((x_t.shape[0], 1), -0.5 * math.sqrt(ab))], dim=-1)
    return mh.update(xi, patterns, hopfield_beta(ab))[:, :-1]


class IdealEpsilon:
    r"""The noise prediction of the ideal denoiser, usable wherever a trained
    $\varepsilon_\theta(x_t, t)$ is: $\hat\varepsilon = (x_t - \sqrt{\bar\alpha_t}\,
    E[x_0\mid x_t])/\sqrt{1 - \bar\alpha_t}$. Sampling with it reproduces training points."""

    def __init__(self, train: Tensor, schedule: Schedule):
        self.train = _check_data("train", train)
        self.schedule = _check_schedule(schedule)

    def __call__(self, x_t: Tensor, t: Tensor) -> Tensor:
        _check_data("x_t", x_t)
        tt = _steps(t, x_t, self.schedule, low=1)
        if (tt != tt[0]).any():
            raise ValueError("IdealEpsilon needs the same t for the whole batch")
        ab = self.schedule.alpha_bars[int(tt[0])].item()
        x0_hat = ideal_denoiser(x_t, self.train.to(x_t), ab)
        return (x_t - math.sqrt(ab) * x0_hat) / math.sqrt(1 - ab)


def nearest_distance(x: Tensor, reference: Tensor, chunk: int = 1024) -> Tensor:
    """The Euclidean distance from every row of ``x`` (B, d) to its nearest row of
    ``reference`` (N, d): (B,)."""
    check_tensor("x", x, ndim=2, floating=True)
    check_tensor("reference", reference, ndim=2, floating=True, min_batch=1)
    if x.shape[1] != reference.shape[1]:
        raise ValueError(f"x and reference must have the same width, got {tuple(x.shape)} and "
                         f"{tuple(reference.shape)}")
    chunk = check_int("chunk", chunk, min_value=1)
    return torch.cat([torch.cdist(x[i:i + chunk], reference).min(-1).values
                      for i in range(0, x.shape[0], chunk)]) if len(x) else x.new_zeros(0)


def copy_ratio(x: Tensor, train: Tensor, held_out: Tensor, n_draws: int = 1,
               generator: Optional[torch.Generator] = None) -> float:
    r"""How much closer samples are to the training set than to fresh data: the median, over
    the samples ``x`` (B, d) and ``n_draws`` random subsets $H$ of ``held_out`` with as many
    points as ``train`` (N, d), of $d(x, \text{train}) / d(x, H)$, the distances to the
    nearest point. Near 0: the samples are copies; near 1: they are as new as fresh data."""
    check_tensor("x", x, ndim=2, floating=True, min_batch=1)
    check_tensor("held_out", held_out, ndim=2, floating=True)
    n = check_tensor("train", train, ndim=2, floating=True, min_batch=1).shape[0]
    if held_out.shape[0] < n:
        raise ValueError(f"held_out must hold at least as many points as train ({n}), got "
                         f"{held_out.shape[0]}")
    n_draws = check_int("n_draws", n_draws, min_value=1)
    d_train = nearest_distance(x, train)
    ratios = []
    for _ in range(n_draws):
        pick = randperm(held_out.shape[0], generator, held_out.device)[:n]
        ratios.append(d_train / nearest_distance(x, held_out[pick]))
    return torch.cat(ratios).median().item()


# ----------------------------------------------------------------------------------------
# a sample-quality measure: a small digit classifier
# ----------------------------------------------------------------------------------------

class DigitClassifier(nn.Module):
    """A small MLP classifier of flattened images (B, d) into ``n_classes``; returns logits."""

    def __init__(self, dim: int, hidden: int = 128, n_classes: int = 10,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.net = _mlp(check_int("dim", dim, min_value=1), check_int("hidden", hidden, min_value=1),
                        check_int("n_classes", n_classes, min_value=2), 1)
        _init_(self, check_generator("generator", generator))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def class_spread(probs: Tensor) -> tuple[float, float]:
    r"""Two numbers for a batch of predicted class probabilities ``probs`` (B, C):
    the entropy (nats) of the histogram of predicted classes, at most $\log C$ when every
    class is predicted equally often, and the mean confidence (largest probability)."""
    check_tensor("probs", probs, ndim=2, floating=True, min_batch=1)
    hist = torch.bincount(probs.argmax(-1), minlength=probs.shape[1]).double() / probs.shape[0]
    nz = hist[hist > 0]
    return max(0.0, float(-(nz * nz.log()).sum())), float(probs.max(-1).values.mean())

r"""Chapter 2: training energy functions.

Maximum likelihood for $p_\theta(x) = e^{-E_\theta(x)} / Z_\theta$ has the gradient

$$-\nabla_\theta \log p_\theta(x) = \nabla_\theta E_\theta(x)
  - \mathbb E_{x' \sim p_\theta}\big[\nabla_\theta E_\theta(x')\big]:$$

push the energy of the data down (the positive phase) and the energy of the model's own
samples up (the negative phase). *Contrastive methods* approximate the negative phase with
samples: from MCMC (:class:`LangevinEBM`, contrastive divergence in
:mod:`companion.boltzmann`, :func:`contrastive_backprop_loss`), from a known noise
distribution (:class:`NCEModel`), or from pairs of inputs (:func:`siamese_loss`).
Score matching (:func:`score_matching_loss`) needs no negatives at all: it fits
$\nabla_x E$ and never meets the normaliser.
*Regularised latent-variable methods* instead limit the volume of low energy:
:class:`SparseCoding`. The module also holds the small directed model used for comparison
(:class:`SigmoidBeliefNet`), the energy forms of mixtures and products of experts, and two
small targets for studying samplers: a bimodal RBM whose Gibbs chain mixes slowly
(:func:`two_mode_rbm`, with its exact autocorrelation :func:`gibbs_autocorrelation`) and a
mixture of Gaussians (:func:`gaussian_mixture_energy`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor, nn

from . import samplers
from ._checks import (check_callable, check_generator, check_int, check_number, check_numbers,
                      check_probability, check_tensor, check_widths)
from .boltzmann import RBM, all_binary_states
from .seeding import rand, randn, randperm

__all__ = [
    "GaussianEnergy",
    "GaussianNoise",
    "LangevinConfig",
    "LangevinEBM",
    "MLPEnergy",
    "NCEModel",
    "SigmoidBeliefNet",
    "SparseCoding",
    "contrastive_backprop_loss",
    "contrastive_loss",
    "gaussian_mixture_energy",
    "gibbs_autocorrelation",
    "make_pairs",
    "mixture_energy",
    "mlp",
    "product_energy",
    "score_matching_loss",
    "siamese_loss",
    "two_mode_rbm",
]


def mlp(sizes: Sequence[int], activation: Callable[[], nn.Module] = nn.SiLU) -> nn.Sequential:
    """A multilayer perceptron with layer widths ``sizes`` (input first, output last) and
    ``activation`` between the linear layers."""
    sizes = list(check_widths("sizes", sizes))
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    check_callable("activation", activation)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
            if not isinstance(layers[-1], nn.Module):
                raise TypeError(f"activation must build a torch.nn.Module (e.g. torch.nn.ReLU), "
                                f"got {type(layers[-1]).__name__}")
    return nn.Sequential(*layers)


class MLPEnergy(nn.Module):
    r"""An energy $E_\theta(x)$ given by a multilayer perceptron with SiLU units.

    Maps (B, in_dim) to (B,). SiLU (smooth) rather than ReLU, so that $\nabla_x E$, which
    Langevin sampling follows, is continuous.
    """

    def __init__(self, in_dim: int, hidden: int = 128, n_hidden_layers: int = 2):
        super().__init__()
        in_dim = check_int("in_dim", in_dim, min_value=1)
        hidden = check_int("hidden", hidden, min_value=1)
        n_hidden_layers = check_int("n_hidden_layers", n_hidden_layers, min_value=1)
        self.net = mlp([in_dim] + [hidden] * n_hidden_layers + [1], nn.SiLU)
        self.in_dim = in_dim

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, last_dim=self.in_dim, floating=True)
        return self.net(x).squeeze(1)


def contrastive_loss(e_pos: Tensor, e_neg: Tensor, alpha: float = 0.1) -> tuple[Tensor, dict]:
    r"""The contrastive loss of Du and Mordatch (2019):

    $$\mathcal L = \overline{E(x^+)} - \overline{E(x^-)}
      + \alpha\big(\overline{E(x^+)^2} + \overline{E(x^-)^2}\big).$$

    ``e_pos``: energies of data (B,); ``e_neg``: energies of samples (B',), which must
    carry no gradient into the sampler. The first two terms are the maximum-likelihood
    gradient with the negative phase estimated by the samples; the $\alpha$ term keeps the
    energies near zero, which the loss alone leaves free (only differences matter).
    Returns the loss and a dict of statistics.
    """
    check_tensor("e_pos", e_pos, ndim=1, floating=True, min_batch=1)
    check_tensor("e_neg", e_neg, ndim=1, floating=True, min_batch=1)
    alpha = check_number("alpha", alpha, nonnegative=True)
    loss = e_pos.mean() - e_neg.mean() + alpha * ((e_pos**2).mean() + (e_neg**2).mean())
    stats = {"loss": loss, "e_pos": e_pos.mean().detach(), "e_neg": e_neg.mean().detach()}
    return loss, stats


@dataclass
class LangevinConfig:
    """Sampling settings for :class:`LangevinEBM`.

    ``n_steps`` Langevin steps of size ``step_size`` per training step, with noise scaled by
    ``noise_scale`` (1 = exact Langevin); a replay buffer of ``buffer_size`` persistent
    samples, each restarted from uniform noise on [-``init_range``, ``init_range``]^d with
    probability ``reinit_prob``; ``alpha`` weights the energy regulariser.
    """

    n_steps: int = 30
    step_size: float = 1e-3
    noise_scale: float = 1.0
    buffer_size: int = 10_000
    reinit_prob: float = 0.05
    init_range: float = 3.0
    alpha: float = 0.1
    grad_clip: Optional[float] = None

    def __post_init__(self):
        self.n_steps = check_int("n_steps", self.n_steps, min_value=0)
        self.step_size = check_number("step_size", self.step_size, positive=True)
        self.noise_scale = check_number("noise_scale", self.noise_scale, nonnegative=True)
        self.buffer_size = check_int("buffer_size", self.buffer_size, min_value=1)
        self.reinit_prob = check_probability("reinit_prob", self.reinit_prob)
        self.init_range = check_number("init_range", self.init_range, positive=True)
        self.alpha = check_number("alpha", self.alpha, nonnegative=True)
        if self.grad_clip is not None:
            self.grad_clip = check_number("grad_clip", self.grad_clip, positive=True)


def _check_config(config: LangevinConfig) -> None:
    """Re-check a config's fields (it may have been changed after it was made), naming them
    ``config.field``."""
    try:
        LangevinConfig.__post_init__(config)
    except (TypeError, ValueError) as err:
        raise type(err)(f"config.{err}") from err


class LangevinEBM:
    """Contrastive training of an energy with Langevin samples from a replay buffer.

    Each :meth:`step` draws negatives from the buffer, runs Langevin dynamics on the current
    energy, writes them back and returns :func:`contrastive_loss` (Du and Mordatch, 2019).
    The energy, the sampler and the loss stay separate: ``model`` is any module mapping
    (B, d) to (B,), the sampler is :func:`companion.samplers.langevin`.
    """

    def __init__(self, model: nn.Module, dim: int, config: LangevinConfig = LangevinConfig(),
                 generator: Optional[torch.Generator] = None, device=None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(config, LangevinConfig):
            raise TypeError(f"config must be a LangevinConfig, got {type(config).__name__}")
        _check_config(config)
        self.model, self.config, self.dim = model, config, check_int("dim", dim, min_value=1)
        self.generator = check_generator("generator", generator)
        self.device = device
        r = config.init_range
        self.init_fn = lambda n, g: (2 * r * rand((n, self.dim), g, device) - r)
        self.buffer = samplers.ReplayBuffer(config.buffer_size, self.init_fn,
                                            reinit_prob=config.reinit_prob, generator=generator)

    def sample(self, x0: Tensor, n_steps: Optional[int] = None, **kw):
        """Langevin samples of the current energy, started at ``x0``."""
        check_tensor("x0", x0, ndim=2, last_dim=self.dim, floating=True, min_batch=1)
        if n_steps is not None:
            n_steps = check_int("n_steps", n_steps, min_value=0)
        _check_config(self.config)
        c = self.config
        return samplers.langevin(self.model, x0, n_steps=c.n_steps if n_steps is None else n_steps,
                                 step_size=c.step_size, noise_scale=c.noise_scale,
                                 grad_clip=c.grad_clip, generator=self.generator, **kw)

    def step(self, x_pos: Tensor) -> dict:
        """One contrastive step on a batch of data: returns the loss dict for
        :func:`companion.training.fit`."""
        check_tensor("x_pos", x_pos, ndim=2, last_dim=self.dim, floating=True, min_batch=1)
        if x_pos.shape[0] > self.buffer.capacity:
            raise ValueError(f"x_pos must hold at most config.buffer_size = {self.buffer.capacity} "
                             f"rows (one buffer sample each), got {x_pos.shape[0]}")
        x_neg, idx = self.buffer.sample(x_pos.shape[0], self.generator)
        x_neg = self.sample(x_neg.to(x_pos.device))
        self.buffer.update(idx, x_neg)
        _, stats = contrastive_loss(self.model(x_pos), self.model(x_neg), self.config.alpha)
        return stats


def contrastive_backprop_loss(model: Callable[[Tensor], Tensor], x: Tensor, *, n_steps: int,
                              step_size: float, noise_scale: float = 1.0,
                              generator: Optional[torch.Generator] = None,
                              alpha: float = 0.0, bounds=None) -> tuple[Tensor, Tensor]:
    r"""Contrastive backpropagation (Hinton, Osindero, Welling and Teh, 2006).

    The confabulation $\hat x$ starts *at the data* $x$ and follows the energy's gradient
    noisily for a few (``n_steps``) Langevin steps. The update
    $\Delta w = a\,\big(-\partial E(x)/\partial w + \partial E(\hat x)/\partial w\big)$
    is gradient descent on $E(x) - E(\hat x)$ with $\hat x$ held fixed, which is the loss
    returned (plus $\alpha$ times the mean squared energies, as in :func:`contrastive_loss`).
    Returns ``(loss, x_hat)``.
    """
    check_callable("model", model)
    check_tensor("x", x, floating=True, min_batch=1)
    check_number("alpha", alpha, nonnegative=True)
    x_hat = samplers.langevin(model, x, n_steps=n_steps, step_size=step_size,
                              noise_scale=noise_scale, generator=generator, bounds=bounds)
    loss, _ = contrastive_loss(model(x), model(x_hat), alpha)
    return loss, x_hat


def _check_mean_cov(mean: Tensor, cov: Tensor) -> None:
    """A mean (d,) and a symmetric positive definite covariance (d, d)."""
    check_tensor("mean", mean, ndim=1, floating=True, nonempty=True)
    check_tensor("cov", cov, ndim=2, floating=True)
    if cov.shape != (mean.shape[0], mean.shape[0]):
        raise ValueError(f"cov must have shape (d, d) for mean of shape (d,), got cov "
                         f"{tuple(cov.shape)} and mean {tuple(mean.shape)}")
    if not torch.allclose(cov, cov.T, rtol=1e-5, atol=1e-8):
        raise ValueError("cov must be symmetric")
    if torch.linalg.cholesky_ex(cov).info.item() != 0:
        raise ValueError("cov must be positive definite")


class GaussianNoise:
    """The noise distribution of NCE: a Gaussian with ``mean`` (d,) and covariance ``cov`` (d, d),
    sampled with an explicit generator."""

    def __init__(self, mean: Tensor, cov: Tensor):
        _check_mean_cov(mean, cov)
        self.mean, self.cov = mean, cov
        self.chol = torch.linalg.cholesky(cov)
        self._dist = torch.distributions.MultivariateNormal(mean, scale_tril=self.chol)

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> Tensor:
        n = check_int("n", n, min_value=1)
        check_generator("generator", generator)
        z = randn((n, self.mean.shape[0]), generator, self.mean.device, self.mean.dtype)
        return self.mean + z @ self.chol.T

    def log_prob(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, last_dim=self.mean.shape[0], floating=True)
        return self._dist.log_prob(x)


class GaussianEnergy(nn.Module):
    r"""The energy of a Gaussian $\mathcal N(\mu, \Sigma)$ without its normaliser:
    $E(x) = \tfrac12 (x - \mu)^\top \Sigma^{-1} (x - \mu)$, so that
    $\log Z = \log\int e^{-E} = \tfrac12 \log\det(2\pi\Sigma)$ is known exactly
    (:meth:`log_normaliser`): a test case for methods that learn or avoid $Z$.
    ``mean`` (d,), ``cov`` (d, d) are fixed (buffers, not parameters). Maps (B, d) to (B,)."""

    def __init__(self, mean: Tensor, cov: Tensor):
        super().__init__()
        _check_mean_cov(mean, cov)
        self.register_buffer("mean", mean.clone())
        self.register_buffer("precision", torch.linalg.inv(cov))
        self.register_buffer("cov", cov.clone())

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, last_dim=self.mean.shape[0], floating=True)
        d = x - self.mean
        return 0.5 * ((d @ self.precision) * d).sum(1)

    def log_normaliser(self) -> float:
        r"""$\log Z = \tfrac12 \log\det(2\pi\Sigma)$."""
        return 0.5 * torch.logdet(2 * math.pi * self.cov).item()


class NCEModel(nn.Module):
    r"""Noise-contrastive estimation (Gutmann and Hyvärinen, 2010).

    The model's log-density is $\log p_\theta(x) = -E_\theta(x) - c$, with the log
    normaliser $c$ learned as a parameter. NCE trains a logistic classifier between data
    and samples of a noise distribution with known log-density $\log q(x)$, using the logit
    $G(x) = \log p_\theta(x) - \log q(x)$. At the optimum $p_\theta$ is the data density and
    is normalised: no partition function is ever computed, it is *learned*.
    """

    def __init__(self, energy: nn.Module):
        super().__init__()
        if not isinstance(energy, nn.Module):
            raise TypeError(f"energy must be a torch.nn.Module, got {type(energy).__name__}")
        self.energy = energy
        self.log_z = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: Tensor) -> Tensor:
        r"""$\log p_\theta(x) = -E_\theta(x) - c$ for a batch ``x`` (B, d): (B,)."""
        check_tensor("x", x, ndim=2, floating=True)
        e = self.energy(x)
        if not isinstance(e, Tensor) or e.shape != x.shape[:1]:
            raise ValueError(f"energy must map x of shape {tuple(x.shape)} to ({x.shape[0]},), "
                             f"got {tuple(getattr(e, 'shape', ()))}")
        return -e - self.log_z

    def loss(self, x_data: Tensor, x_noise: Tensor, noise_log_prob: Callable[[Tensor], Tensor]
             ) -> Tensor:
        r"""$-\overline{\log\sigma(G(x))} - \nu\,\overline{\log(1-\sigma(G(y)))}$ for data x and
        noise y, with $\nu$ = (number of noise samples) / (number of data samples) and
        $G(u) = \log p_\theta(u) - \log q(u) - \log\nu$."""
        check_tensor("x_data", x_data, ndim=2, floating=True, min_batch=1)
        check_tensor("x_noise", x_noise, ndim=2, floating=True, min_batch=1)
        check_callable("noise_log_prob", noise_log_prob)
        if x_noise.shape[1] != x_data.shape[1]:
            raise ValueError(f"x_noise must have the dimension of x_data ({x_data.shape[1]}), got "
                             f"shapes {tuple(x_noise.shape)} and {tuple(x_data.shape)}")
        nu = x_noise.shape[0] / x_data.shape[0]
        g_data = self.log_prob(x_data) - noise_log_prob(x_data) - math.log(nu)
        g_noise = self.log_prob(x_noise) - noise_log_prob(x_noise) - math.log(nu)
        return -(nn.functional.logsigmoid(g_data).mean()
                 + nu * nn.functional.logsigmoid(-g_noise).mean())


def score_matching_loss(energy_fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    r"""Hyvärinen's (2005) score-matching objective for the model $p \propto e^{-E}$:

    $$J(\theta) = \frac1B \sum_b \Big[\tfrac12\lVert\nabla_x E_\theta(x_b)\rVert^2
      - \Delta_x E_\theta(x_b)\Big],$$

    which equals $\tfrac12\,\mathbb E\lVert \nabla_x \log p_\theta - \nabla_x \log
    p_{\text{data}}\rVert^2$ up to a constant that does not depend on $\theta$ (integration
    by parts). The model's score $-\nabla_x E$ does not involve $Z_\theta$, so neither does
    $J$. ``x``: (B, d) data; the Laplacian $\Delta_x E = \sum_i \partial^2 E / \partial x_i^2$
    is computed exactly by autograd, one coordinate at a time (d backward passes: small d
    only). The result is differentiable with respect to the parameters of ``energy_fn``.
    """
    check_callable("energy_fn", energy_fn)
    check_tensor("x", x, ndim=2, floating=True, min_batch=1)
    x = x.detach().requires_grad_(True)
    e = energy_fn(x)
    if not isinstance(e, Tensor) or e.shape != x.shape[:1]:
        raise ValueError(f"energy_fn must map x of shape {tuple(x.shape)} to ({x.shape[0]},)")
    (grad,) = torch.autograd.grad(e.sum(), x, create_graph=True)            # (B, d)
    laplacian = sum(torch.autograd.grad(grad[:, i].sum(), x, create_graph=True)[0][:, i]
                    for i in range(x.shape[1]))                               # (B,)
    return (0.5 * (grad**2).sum(1) - laplacian).mean()


def make_pairs(labels: Tensor, generator: Optional[torch.Generator] = None,
               p_same: float = 0.5) -> tuple[Tensor, Tensor, Tensor]:
    """Pair every example with a random partner of the same label (with probability
    ``p_same``) or of another label. Returns ``(i, j, same)``: the indices of the two members
    of each pair, (B,) each, and the 0/1 target ``same`` (B,)."""
    check_tensor("labels", labels, ndim=1, min_batch=2)
    check_generator("generator", generator)
    p_same = check_probability("p_same", p_same)
    n, device = labels.shape[0], labels.device
    i = torch.arange(n, device=device)
    # same-label partners: shuffle, group by label, pair each member with the next in its group
    perm = randperm(n, generator, device)
    sorted_labels, order = torch.sort(labels[perm], stable=True)
    members = perm[order]                                    # grouped by label, random within
    _, counts = torch.unique_consecutive(sorted_labels, return_counts=True)
    starts = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    ends = torch.repeat_interleave(torch.cumsum(counts, 0), counts)
    nxt = torch.arange(n, device=device) + 1
    nxt = torch.where(nxt < ends, nxt, starts)               # wrap around within the group
    same_partner = torch.empty_like(i)
    same_partner[members] = members[nxt]
    # other-label partners: the first of a few random candidates with a different label
    cand = torch.stack([randperm(n, generator, device) for _ in range(8)])          # (8, n)
    first = (labels[cand] != labels[None, :]).float().argmax(dim=0)
    other_partner = cand[first, i]
    want_same = rand((n,), generator, device) < p_same
    j = torch.where(want_same, same_partner, other_partner)
    return i, j, (labels[j] == labels).to(torch.float32)


def siamese_loss(z_a: Tensor, z_b: Tensor, same: Tensor, margin: float = 1.0) -> Tensor:
    r"""The contrastive loss of Hadsell, Chopra and LeCun (2006) on pairs of embeddings.

    The energy of a pair is the distance $D = \lVert z_a - z_b \rVert$. Similar pairs
    (``same`` = 1) have their energy pushed down, $D^2$; dissimilar pairs are pushed up
    until they are ``margin`` apart, $\max(0, m - D)^2$. Returns the mean over pairs.
    """
    check_tensor("z_a", z_a, ndim=2, floating=True, min_batch=1)
    check_tensor("z_b", z_b, ndim=2, floating=True, min_batch=1)
    check_tensor("same", same, ndim=1)
    if not bool(((same == 0) | (same == 1)).all()):
        raise ValueError(f"same must hold only 0 and 1, got values {sorted(set(same.tolist()))[:5]}")
    if z_a.shape != z_b.shape or same.shape != z_a.shape[:1]:
        raise ValueError(f"z_a, z_b must share a shape (B, k) and same must be (B,), got "
                         f"{tuple(z_a.shape)}, {tuple(z_b.shape)}, {tuple(same.shape)}")
    margin = check_number("margin", margin, positive=True)
    d = (z_a - z_b).pow(2).sum(1).add(1e-12).sqrt()
    same = same.to(d.dtype)
    return (same * d**2 + (1 - same) * nn.functional.relu(margin - d) ** 2).mean()


# ------------------------------------------------------------ regularised latent variables

class SparseCoding(nn.Module):
    r"""Sparse coding (Olshausen and Field, 1996): a regularised latent-variable energy.

    $$E(x, z) = \tfrac12 \lVert x - D z \rVert^2 + \lambda \lVert z \rVert_1,\qquad
      F(x) = \min_z E(x, z).$$

    The dictionary $D$ (n_features, n_atoms) has unit-norm columns (atoms). The $\ell_1$
    penalty limits how many atoms a code may use, and so limits the volume of inputs that
    can be reconstructed well: the energy is low near the data and higher elsewhere, with
    no negative samples. Inference is FISTA (Beck and Teboulle, 2009); learning alternates
    inference with a gradient step on $D$.
    """

    def __init__(self, n_features: int, n_atoms: int, lam: float = 0.1, *,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_features = check_int("n_features", n_features, min_value=1)
        self.n_atoms = check_int("n_atoms", n_atoms, min_value=1)
        self.lam = check_number("lam", lam, nonnegative=True)
        check_generator("generator", generator)
        D = randn((self.n_features, self.n_atoms), generator)
        self.D = nn.Parameter(D / D.norm(dim=0, keepdim=True), requires_grad=False)

    @torch.no_grad()
    def init_from_data_(self, x: Tensor, generator: Optional[torch.Generator] = None
                        ) -> "SparseCoding":
        """Start the atoms at ``n_atoms`` random rows of ``x`` (normalised): every atom then
        begins where the data are, and none is left unused as random noise."""
        check_tensor("x", x, ndim=2, last_dim=self.n_features, floating=True,
                     min_batch=self.n_atoms)
        check_generator("generator", generator)
        rows = x[randperm(x.shape[0], generator, x.device)[: self.n_atoms]]
        self.D.copy_((rows / rows.norm(dim=1, keepdim=True).clamp_min(1e-8)).T)
        return self

    def _check_codes(self, name: str, z: Tensor, x: Tensor) -> None:
        """Codes (B, n_atoms), one per row of the (checked) batch ``x``."""
        check_tensor(name, z, ndim=2, last_dim=self.n_atoms, floating=True)
        if z.shape[0] != x.shape[0]:
            raise ValueError(f"{name} must hold one code per row of x ({x.shape[0]}), "
                             f"got shape {tuple(z.shape)}")

    def energy(self, x: Tensor, z: Tensor) -> Tensor:
        r"""$E(x, z) = \frac12\lVert x - Dz\rVert^2 + \lambda\lVert z\rVert_1$ for (B, n) and (B, k)."""
        check_tensor("x", x, ndim=2, last_dim=self.n_features, floating=True)
        self._check_codes("z", z, x)
        return 0.5 * ((x - z @ self.D.T) ** 2).sum(1) + self.lam * z.abs().sum(1)

    @torch.no_grad()
    def infer(self, x: Tensor, n_steps: int = 100, z0: Optional[Tensor] = None) -> Tensor:
        r"""$z^* = \operatorname{argmin}_z E(x, z)$ by FISTA: a proximal gradient step
        $z \leftarrow S_{\lambda/L}\big(y + D^\top(x - D y)/L\big)$ (soft thresholding
        $S_t(u) = \operatorname{sign}(u)\max(|u| - t, 0)$, $L = \lVert D\rVert_2^2$) with
        Nesterov momentum on $y$."""
        check_tensor("x", x, ndim=2, last_dim=self.n_features, floating=True)
        n_steps = check_int("n_steps", n_steps, min_value=1)
        if z0 is not None:
            self._check_codes("z0", z0, x)
        D = self.D
        L = torch.linalg.matrix_norm(D, ord=2) ** 2
        z = torch.zeros(x.shape[0], self.n_atoms, dtype=x.dtype, device=x.device) \
            if z0 is None else z0.to(x).clone()
        y, t = z.clone(), 1.0
        for _ in range(n_steps):
            u = y + (x - y @ D.T) @ D / L
            z_next = torch.sign(u) * (u.abs() - self.lam / L).clamp_min(0)
            t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
            y = z_next + ((t - 1) / t_next) * (z_next - z)
            z, t = z_next, t_next
        return z

    @torch.no_grad()
    def free_energy(self, x: Tensor, n_steps: int = 100) -> Tensor:
        r"""$F(x) = \min_z E(x, z)$, with $z$ from :meth:`infer` (which checks the arguments)."""
        return self.energy(x, self.infer(x, n_steps))

    @torch.no_grad()
    def dictionary_step(self, x: Tensor, z: Tensor, lr: float) -> float:
        r"""One gradient step on $D$ for $\frac12\lVert x - Dz\rVert^2$ averaged over the batch,
        then columns renormalised to unit length. Returns the mean reconstruction error."""
        lr = check_number("lr", lr, positive=True)
        check_tensor("x", x, ndim=2, last_dim=self.n_features, floating=True, min_batch=1)
        self._check_codes("z", z, x)
        residual = x - z @ self.D.T                                 # (B, n)
        self.D += lr * residual.T @ z / x.shape[0]
        self.D /= self.D.norm(dim=0, keepdim=True).clamp_min(1e-8)
        return float(0.5 * (residual**2).sum(1).mean())


# --------------------------------------------------------------- directed model, densities

class SigmoidBeliefNet(nn.Module):
    r"""A two-layer directed model: $P(h) = \prod_j \sigma(c_j)^{h_j}(1-\sigma(c_j))^{1-h_j}$,
    $P(v \mid h) = \prod_i \operatorname{Bernoulli}(v_i; \sigma(a_i + (W h)_i))$, and
    $P(v) = \sum_h P(h) P(v \mid h)$. Sampling is ancestral (first $h$, then $v$): exact and
    cheap; $P(v)$ needs a sum over all $h$ (done here by enumeration, small models only)."""

    def __init__(self, n_visible: int, n_hidden: int, *, init_std: float = 1.0,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_visible = check_int("n_visible", n_visible, min_value=1)
        self.n_hidden = check_int("n_hidden", n_hidden, min_value=1, max_value=20)
        init_std = check_number("init_std", init_std, nonnegative=True)
        check_generator("generator", generator)
        self.W = nn.Parameter(init_std * randn((self.n_visible, self.n_hidden), generator))
        self.a = nn.Parameter(init_std * randn((self.n_visible,), generator))
        self.c = nn.Parameter(init_std * randn((self.n_hidden,), generator))

    @torch.no_grad()
    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> Tensor:
        """``n`` exact samples of v by ancestral sampling: (n, n_visible)."""
        n = check_int("n", n, min_value=1)
        check_generator("generator", generator)
        dtype, device = self.W.dtype, self.W.device
        h = (rand((n, self.n_hidden), generator, device, dtype) < torch.sigmoid(self.c)).to(dtype)
        p_v = torch.sigmoid(h @ self.W.T + self.a)
        return (rand(p_v.shape, generator, device, dtype) < p_v).to(dtype)

    def log_prob(self, v: Tensor) -> Tensor:
        r"""$\log P(v) = \log \sum_h P(h) P(v \mid h)$ by enumerating all $2^H$ hidden states."""
        check_tensor("v", v, ndim=2, last_dim=self.n_visible, floating=True)
        if not bool(((v == 0) | (v == 1)).all()):
            raise ValueError("v must hold binary states (only 0 and 1)")
        h = all_binary_states(self.n_hidden, v.dtype, v.device)                # (2^H, H)
        log_ph = (h * nn.functional.logsigmoid(self.c)
                  + (1 - h) * nn.functional.logsigmoid(-self.c)).sum(1)       # (2^H,)
        logits = h @ self.W.T + self.a                                        # (2^H, D)
        log_pv_h = -nn.functional.binary_cross_entropy_with_logits(
            logits[None].expand(v.shape[0], -1, -1), v[:, None, :].expand(-1, len(h), -1),
            reduction="none").sum(-1)                                         # (B, 2^H)
        return torch.logsumexp(log_ph[None] + log_pv_h, dim=1)


def _check_energies(energies: Sequence[Tensor]) -> None:
    """A non-empty sequence of energy tensors of one shape; +inf (an impossible state) is a
    valid energy, NaN and -inf are not."""
    if isinstance(energies, Tensor) or not isinstance(energies, Sequence):
        raise TypeError(f"energies must be a list of tensors, got {type(energies).__name__}")
    if not energies:
        raise ValueError("energies must hold at least one tensor")
    for k, e in enumerate(energies):
        check_tensor(f"energies[{k}]", e, finite=False)
        if (e.is_floating_point() and bool(torch.isnan(e).any())) or bool((e == -math.inf).any()):
            raise ValueError(f"energies[{k}] must hold no NaN and no -inf")
        if e.shape != energies[0].shape:
            raise ValueError(f"energies must all have one shape, got {tuple(energies[0].shape)} "
                             f"and {tuple(e.shape)} (energies[{k}])")


def product_energy(energies: Sequence[Tensor]) -> Tensor:
    r"""Energy of a product of experts, $\prod_k p_k \propto e^{-\sum_k E_k}$: the sum of energies."""
    _check_energies(energies)
    return torch.stack(list(energies)).sum(0)


def mixture_energy(energies: Sequence[Tensor], weights: Optional[Sequence[float]] = None) -> Tensor:
    r"""Energy of a mixture of normalised densities, $\sum_k w_k e^{-E_k}$:
    $-\log\sum_k w_k e^{-E_k}$, a soft minimum of the experts' energies."""
    _check_energies(energies)
    if weights is not None:
        weights = check_numbers("weights", weights, nonnegative=True)
    stacked = torch.stack(list(energies))
    k = stacked.shape[0]
    w = torch.full((k,), 1.0 / k, dtype=stacked.dtype) if weights is None else \
        torch.as_tensor(list(weights), dtype=stacked.dtype)
    if w.shape != (k,) or (w < 0).any() or abs(float(w.sum()) - 1) > 1e-6:
        raise ValueError(f"weights must be {k} non-negative numbers summing to 1, got {weights}")
    w = w.to(stacked.device).view(k, *([1] * (stacked.dim() - 1)))
    return -torch.logsumexp(torch.log(w) - stacked, dim=0)


# ------------------------------------------------------------------ targets for samplers

def gaussian_mixture_energy(x: Tensor, means: Tensor, std: float) -> Tensor:
    r"""$E(x) = -\log \sum_k \exp\big(-\lVert x - \mu_k\rVert^2 / 2s^2\big)$: an equal-weight
    mixture of Gaussians of standard deviation $s$ = ``std``, up to its normaliser.

    ``x``: (B, d); ``means``: (K, d). Returns (B,). Its gradient grows at most linearly, so
    Langevin chains on it are stable for step sizes below $2s^2$.
    """
    check_tensor("x", x, ndim=2, floating=True)
    check_tensor("means", means, ndim=2, last_dim=x.shape[1], floating=True, min_batch=1)
    std = check_number("std", std, positive=True)
    sq = ((x[:, None, :] - means.to(x)[None]) ** 2).sum(-1)                 # (B, K)
    return -torch.logsumexp(-sq / (2 * std**2), dim=1)


def two_mode_rbm(n_visible: int = 6, coupling: float = 2.0) -> RBM:
    r"""An RBM with one hidden unit and two equally likely modes, "mostly off" and "mostly on".

    $W_{i1} = w$, $a_i = -w/2$, $b_1 = -n w / 2$ with $w$ = ``coupling`` and $n$ =
    ``n_visible``: then $p(v)$ depends only on $s = \sum_i v_i$ and is symmetric under
    $s \to n - s$. The larger $w$, the less likely the states in between, and the longer a
    Gibbs chain takes to cross from one mode to the other. Float64.
    """
    n_visible = check_int("n_visible", n_visible, min_value=1, max_value=20)
    w = check_number("coupling", coupling)
    rbm = RBM(n_visible, 1, init_std=0.0).double()
    with torch.no_grad():
        rbm.W.fill_(w)
        rbm.a.fill_(-w / 2)
        rbm.b.fill_(-n_visible * w / 2)
    return rbm


@torch.no_grad()
def gibbs_autocorrelation(rbm: RBM, max_lag: int,
                          statistic: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
    r"""Exact autocorrelation $\rho_k$, $k = 0, \dots,$ ``max_lag``, of a statistic $f(v)$
    along an equilibrium block-Gibbs chain ($v \to h \to v$) of a small RBM.

    With $T(v, v') = \sum_h p(h \mid v)\,p(v' \mid h)$ the chain's transition matrix over all
    $2^D$ visible states and $\pi$ the exact $p(v)$,
    $\rho_k = \big(\sum_v \pi(v) f(v)\,(T^k f)(v) - m^2\big) / \sigma^2$ with $m$, $\sigma^2$ the
    mean and variance of $f$ under $\pi$. ``statistic`` maps (N, D) states to (N,) values
    (default: the number of active units). Small models only (D, H <= 12). Returns
    (max_lag + 1,), starting with $\rho_0 = 1$.
    """
    if not isinstance(rbm, RBM):
        raise TypeError(f"rbm must be a boltzmann.RBM, got {type(rbm).__name__}")
    if rbm.n_visible > 12 or rbm.n_hidden > 12:
        raise ValueError(f"rbm must have at most 12 visible and 12 hidden units for exact "
                         f"enumeration, got {rbm.n_visible} and {rbm.n_hidden}")
    max_lag = check_int("max_lag", max_lag, min_value=0)
    if statistic is not None:
        check_callable("statistic", statistic)
    dtype, device = torch.float64, rbm.W.device
    model = RBM(rbm.n_visible, rbm.n_hidden).to(device, dtype)
    model.load_state_dict({k: t.to(dtype) for k, t in rbm.state_dict().items()})
    v = all_binary_states(rbm.n_visible, dtype, device)                     # (2^D, D)
    h = all_binary_states(rbm.n_hidden, dtype, device)                      # (2^H, H)

    def bernoulli_table(p: Tensor, states: Tensor) -> Tensor:               # (N, 2^K)
        return torch.exp(states @ p.clamp_min(1e-300).log().T
                         + (1 - states) @ (1 - p).clamp_min(1e-300).log().T).T

    T = bernoulli_table(model.p_h_given_v(v), h) @ bernoulli_table(model.p_v_given_h(h), v)
    pi = model.log_prob(v).exp()
    f = v.sum(1) if statistic is None else statistic(v)
    if not isinstance(f, Tensor) or f.shape != v.shape[:1]:
        raise ValueError(f"statistic must map states (N, D) to values (N,), got "
                         f"{tuple(getattr(f, 'shape', ())) or type(f).__name__}")
    f = check_tensor("statistic(v)", f.to(dtype))
    m = (pi * f).sum()
    var = (pi * f**2).sum() - m**2
    if not var > 0:
        raise ValueError("the statistic is constant under the RBM's distribution")
    rho, g = [], f
    for _ in range(max_lag + 1):
        rho.append(((pi * f * g).sum() - m**2) / var)
        g = T @ g
    return torch.stack(rho)

r"""Chapter 7: autoencoders.

An autoencoder maps an input $x \in \mathbb R^n$ to a code $h \in \mathbb R^d$ and back:

$$h = f(W_h x + b_h)\quad\text{(encoder)},\qquad
  \hat x = g(W_x h + b_x)\quad\text{(decoder)},$$

with $W_h \in \mathbb R^{d\times n}$, $W_x \in \mathbb R^{n\times d}$ and element-wise
activations $f$, $g$. With $d < n$ (an *under-complete* code) the network cannot copy its
input and must keep what matters most for reconstructing it. It is trained without labels
by backpropagating a reconstruction loss averaged over the data,
$L = \frac1m\sum_j \ell(x^{(j)}, \hat x^{(j)})$ (:func:`reconstruction_loss`, with
:func:`mean_squared_error` or :func:`binary_cross_entropy` for $\ell$). A *denoising*
autoencoder (Vincent et al., 2008) reconstructs the clean $x$ from a corrupted copy
$\tilde x$ (:func:`corrupt`, :func:`denoising_loss`).

Read as an energy-based model, the reconstruction error
$E(x) = \lVert x - \hat x(x)\rVert^2$ (:func:`reconstruction_energy`) is low where the
autoencoder has learned to reconstruct, near the data, and high elsewhere; $p \propto e^{-E}$
as everywhere in the book. :func:`pca` and :func:`pca_reconstruct` give the optimum of a
*linear* autoencoder (Baldi and Hornik, 1989), the reference it is measured against;
:func:`ranking_auc` and :func:`principal_angles` measure separations and subspaces;
:func:`tangent_directions` gives directions along the surface of reconstructions, along
which the energy should grow slowly.

What a denoising autoencoder learns can be computed exactly on a density with a known score
(:func:`ring_mixture`): the best reconstruction is the posterior mean
$r^*(\tilde x) = \tilde x + \sigma^2\nabla\log p_\sigma(\tilde x)$ (:func:`optimal_denoiser`),
which tends to the data's score as $\sigma \to 0$ (Alain and Bengio, 2014).
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor, nn

from ._checks import (check_choice, check_float_dtype, check_generator, check_int, check_interval,
                      check_like, check_number, check_probability, check_same_shape, check_tensor,
                      check_widths)
from .seeding import rand, randn

__all__ = [
    "ACTIVATIONS",
    "Autoencoder",
    "LOSSES",
    "binary_cross_entropy",
    "corrupt",
    "denoising_loss",
    "mean_squared_error",
    "pca",
    "pca_reconstruct",
    "principal_angles",
    "ranking_auc",
    "optimal_denoiser",
    "reconstruction_energy",
    "reconstruction_loss",
    "ring_mixture",
    "tangent_directions",
]

#: The activations an autoencoder's layers may use, by name (each value builds the module).
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "identity": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


def _layers(sizes: list[int], activation: str, last: str) -> nn.Sequential:
    """Linear layers of widths ``sizes``: ``activation`` between them, ``last`` after the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        act = last if i == len(sizes) - 2 else activation
        if act != "identity":
            layers.append(ACTIVATIONS[act]())
    return nn.Sequential(*layers)


def _check_input(model: nn.Module, name: str, t: Tensor, size: int) -> None:
    """(B, size) floating and finite, in the dtype and on the device of the model's parameters."""
    check_tensor(name, t, ndim=2, last_dim=size, floating=True)
    check_like(name, t, next(model.parameters()))


class Autoencoder(nn.Module):
    r"""An autoencoder with an ``n_inputs``-dimensional input and a ``d``-dimensional code.

    Without ``hidden`` layers it is the one-layer model of the equations,
    $h = f(W_h x + b_h)$ and $\hat x = g(W_x h + b_x)$, with $f$ = ``code_activation`` and
    $g$ = ``output``. ``hidden`` lists the widths of extra layers on the encoder's side
    (the decoder mirrors them), with ``activation`` after each. Activations are named:
    ``"identity"``, ``"relu"``, ``"sigmoid"``, ``"silu"``, ``"tanh"``. For pixel
    intensities in [0, 1] use ``output="sigmoid"``, whose range is (0, 1); a linear
    autoencoder has ``code_activation = output = "identity"`` and no hidden layers.

    ``generator`` draws the initial weights and biases, uniform on
    $\pm 1/\sqrt{\text{fan-in}}$ (the range PyTorch's default initialisation uses), so that
    a model's starting point depends on the seed and nothing else.

    The loss is not part of the model: :func:`reconstruction_loss` and
    :func:`denoising_loss` compute it from ``forward``.
    """

    def __init__(self, n_inputs: int, d: int, hidden: Sequence[int] = (), *,
                 activation: str = "relu", code_activation: str = "identity",
                 output: str = "sigmoid", generator: Optional[torch.Generator] = None):
        super().__init__()
        self.n_inputs = check_int("n_inputs", n_inputs, min_value=1)
        self.d = check_int("d", d, min_value=1)
        self.hidden = check_widths("hidden", hidden, nonempty=False)
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("code_activation", code_activation, ACTIVATIONS)
        check_choice("output", output, ACTIVATIONS)
        check_generator("generator", generator)
        self.encoder = _layers([self.n_inputs, *self.hidden, self.d], activation, code_activation)
        self.decoder = _layers([self.d, *reversed(self.hidden), self.n_inputs], activation, output)
        if generator is not None:
            self._init_(generator)

    @torch.no_grad()
    def _init_(self, generator: torch.Generator) -> None:
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                bound = 1.0 / math.sqrt(layer.in_features)
                for p in (layer.weight, layer.bias):
                    p.copy_(bound * (2 * rand(p.shape, generator, p.device, p.dtype) - 1))

    @torch.no_grad()
    def init_output_bias_(self, x: Tensor, eps: float = 1e-3) -> "Autoencoder":
        r"""Start the decoder's output bias $b_x$ where the output equals the data's mean
        $\bar x$ when the rest of the decoder is silent: $b_x = g^{-1}(\bar x)$, i.e. the
        log-odds $\log(\bar x / (1 - \bar x))$ for a sigmoid output (as Hinton (2012) sets the
        visible biases of an RBM), $\operatorname{artanh}\bar x$ for tanh, $\bar x$ for a
        linear output; $\bar x$ is clipped ``eps`` inside the output's range.

        With a sigmoid output, a pixel that is always 0 needs a very negative bias, and
        Adam moves a parameter by about its learning rate per step: from a zero-mean start
        it would take thousands of steps to get there. ``x``: (m, n) training inputs."""
        check_tensor("x", x, ndim=2, last_dim=self.n_inputs, floating=True, min_batch=1)
        eps = check_number("eps", eps, positive=True)
        if not eps < 0.5:
            raise ValueError(f"eps must be < 0.5 (the mean is clipped to [eps, 1 - eps] for a "
                             f"sigmoid output), got {eps}")
        if not isinstance(self.decoder[-1], (nn.Sigmoid, nn.Tanh, nn.Linear)):
            raise ValueError(f"init_output_bias_ supports sigmoid, tanh and identity outputs, "
                             f"got {self.decoder[-1].__class__.__name__}")
        last = [m for m in self.decoder if isinstance(m, nn.Linear)][-1]
        mean = x.mean(dim=0).to(last.bias.dtype)
        kind = self.decoder[-1]
        if isinstance(kind, nn.Sigmoid):
            mean = mean.clamp(eps, 1 - eps)
            bias = torch.log(mean) - torch.log1p(-mean)
        elif isinstance(kind, nn.Tanh):
            bias = torch.atanh(mean.clamp(-1 + eps, 1 - eps))
        else:                                               # identity output
            bias = mean
        last.bias.copy_(bias.to(last.bias.device))
        return self

    def encode(self, x: Tensor) -> Tensor:
        r"""The code $h = f(W_h x + b_h)$: (B, n) -> (B, d)."""
        _check_input(self, "x", x, self.n_inputs)
        return self.encoder(x)

    def decode(self, h: Tensor) -> Tensor:
        r"""The reconstruction $\hat x = g(W_x h + b_x)$: (B, d) -> (B, n)."""
        _check_input(self, "h", h, self.d)
        return self.decoder(h)

    def forward(self, x: Tensor) -> Tensor:
        r"""$\hat x = \mathrm{dec}(\mathrm{enc}(x))$: (B, n) -> (B, n)."""
        return self.decode(self.encode(x))

    def energy(self, x: Tensor) -> Tensor:
        r"""$E(x) = \lVert x - \mathrm{dec}(\mathrm{enc}(x))\rVert^2$: (B, n) -> (B,).
        See :func:`reconstruction_energy`."""
        return reconstruction_energy(self, x)


# ----------------------------------------------------------------------------- losses

def _check_pair(x_hat: Tensor, x: Tensor) -> None:
    check_tensor("x_hat", x_hat, ndim=2, floating=True)
    check_tensor("x", x, ndim=2, floating=True)
    check_same_shape("x_hat", x_hat, "x", x)


def mean_squared_error(x_hat: Tensor, x: Tensor) -> Tensor:
    r"""Per-example mean squared error $\ell(x, \hat x) = \frac1n\sum_i (\hat x_i - x_i)^2$:
    (B, n), (B, n) -> (B,). A Gaussian likelihood's negative log, up to constants."""
    _check_pair(x_hat, x)
    return ((x_hat - x) ** 2).mean(dim=1)


def binary_cross_entropy(x_hat: Tensor, x: Tensor) -> Tensor:
    r"""Per-example binary cross-entropy
    $\ell(x, \hat x) = -\frac1n\sum_i \big[x_i \log \hat x_i + (1 - x_i)\log(1 - \hat x_i)\big]$:
    (B, n), (B, n) -> (B,).

    Both arguments must lie in [0, 1] ($\hat x$ from a sigmoid output; $x$ binary or an
    intensity). For binary $x$ it is the negative log-likelihood of independent Bernoulli
    pixels (per pixel). For grey levels it is a loss, not a negative log-density over
    [0, 1]: $\hat x^x (1 - \hat x)^{1 - x}$ integrates to less than 1 over $x \in [0, 1]$, and
    the continuous Bernoulli distribution (Loaiza-Ganem and Cunningham, 2019) adds the
    missing normaliser. Each logarithm is clamped at $-100$, as
    ``torch.nn.functional.binary_cross_entropy`` does, so that $\hat x_i \in \{0, 1\}$ gives
    a large finite loss. Its minimum over
    $\hat x$ is at $\hat x = x$, where it equals the entropy of $x$ (zero only for binary $x$).
    """
    _check_pair(x_hat, x)
    for name, t in (("x_hat", x_hat), ("x", x)):
        if t.numel() and (t.min() < 0 or t.max() > 1):
            raise ValueError(f"{name} must lie in [0, 1] for the binary cross-entropy, got range "
                             f"[{t.min().item():.3g}, {t.max().item():.3g}]")
    log_p = torch.log(x_hat).clamp(min=-100.0)
    log_q = torch.log1p(-x_hat).clamp(min=-100.0)
    return -(x * log_p + (1 - x) * log_q).mean(dim=1)


#: The reconstruction losses by name: ``loss(x_hat, x)`` returns one value per example.
LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mse": mean_squared_error, "bce": binary_cross_entropy,
}


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _check_reconstruction(x_hat, x: Tensor) -> None:
    """What ``model`` returned for ``x``: a finite tensor of the same shape."""
    if not isinstance(x_hat, Tensor) or x_hat.shape != x.shape:
        got = tuple(x_hat.shape) if isinstance(x_hat, Tensor) else type(x_hat).__name__
        raise ValueError(f"model must map x of shape {tuple(x.shape)} to a reconstruction of "
                         f"the same shape, got {got}")
    if x_hat.is_floating_point() and not torch.isfinite(x_hat).all():
        raise ValueError("model must give a finite reconstruction, got NaN or infinite values "
                         "(a diverged model?)")


def _check_noise(name: str, t, x: Tensor) -> None:
    """``keep`` or ``eps`` of :func:`corrupt`: a finite tensor shaped like ``x``."""
    check_tensor(name, t, floating=(name == "eps"))
    check_same_shape(name, t, "x", x)
    if name == "keep" and ((t != 0) & (t != 1)).any():
        raise ValueError(f"keep must hold only zeros and ones (the mask m), got values "
                         f"{sorted(set(t.unique().tolist()))[:5]}")


def _check_clamp(clamp) -> Optional[tuple[float, float]]:
    return None if clamp is None else check_interval("clamp", clamp)


def reconstruction_loss(model: nn.Module, x: Tensor, loss: str = "mse") -> Tensor:
    r"""The training loss $L = \frac1m \sum_j \ell(x^{(j)}, \hat x^{(j)})$ on a batch ``x`` (m, n),
    with $\ell$ = ``LOSSES[loss]`` (``"mse"`` or ``"bce"``). Returns a scalar."""
    _check_model(model)
    check_choice("loss", loss, LOSSES)
    check_tensor("x", x, ndim=2, floating=True, min_batch=1)
    x_hat = model(x)
    _check_reconstruction(x_hat, x)
    return LOSSES[loss](x_hat, x).mean()


def corrupt(x: Tensor, generator: Optional[torch.Generator] = None, *, noise_std: float = 0.0,
            mask_prob: float = 0.0, clamp: Optional[tuple[float, float]] = None,
            keep: Optional[Tensor] = None, eps: Optional[Tensor] = None) -> Tensor:
    r"""A corrupted copy $\tilde x = m \odot x + \sigma\varepsilon$ of ``x`` (any shape).

    *Masking noise*: each component is set to zero independently with probability
    ``mask_prob`` ($m_i \sim \mathrm{Bernoulli}(1 - p)$). *Gaussian noise*:
    $\varepsilon \sim \mathcal N(0, I)$ scaled by $\sigma$ = ``noise_std``. Both are drawn
    with ``generator`` and placed on ``x``'s device; ``clamp=(low, high)`` then clips the
    result (e.g. to the pixel range). With both set to zero, ``x`` is returned unchanged.

    The caller may pass the noise in instead: ``keep`` (the mask $m$, zeros and ones, shaped
    like ``x``) replaces the masking draw and ``eps`` ($\varepsilon$, shaped like ``x``) the
    Gaussian draw, so that a test can give two implementations the same noise.
    """
    check_tensor("x", x, floating=True)
    noise_std = check_number("noise_std", noise_std, nonnegative=True)
    mask_prob = check_probability("mask_prob", mask_prob)
    check_generator("generator", generator)
    if keep is not None:
        _check_noise("keep", keep, x)
    if eps is not None:
        _check_noise("eps", eps, x)
    clamp = _check_clamp(clamp)
    out = x
    if keep is None and mask_prob > 0:
        keep = rand(x.shape, generator, x.device, x.dtype) >= mask_prob     # m_i = 1 w.p. 1 - p
    if keep is not None:
        out = out * keep.to(x.dtype)
    if eps is None and noise_std > 0:
        eps = randn(x.shape, generator, x.device, x.dtype)
    if eps is not None and noise_std > 0:
        out = out + noise_std * eps.to(x.dtype)
    if clamp is not None:
        out = out.clamp(*clamp)
    return out


def denoising_loss(model: nn.Module, x: Tensor, generator: Optional[torch.Generator] = None, *,
                   noise_std: float = 0.0, mask_prob: float = 0.0, loss: str = "mse",
                   clamp: Optional[tuple[float, float]] = None, keep: Optional[Tensor] = None,
                   eps: Optional[Tensor] = None) -> Tensor:
    r"""The denoising autoencoder's loss on a clean batch ``x`` (m, n):
    $\frac1m\sum_j \ell\big(x^{(j)}, \mathrm{dec}(\mathrm{enc}(\tilde x^{(j)}))\big)$ with
    $\tilde x$ = :func:`corrupt` (x). The target is the *clean* input; a fresh corruption is
    drawn at every call (or given as ``keep`` and ``eps``, see :func:`corrupt`). Returns a
    scalar, ready for :func:`companion.training.fit`."""
    _check_model(model)
    check_choice("loss", loss, LOSSES)
    check_tensor("x", x, ndim=2, floating=True, min_batch=1)
    x_tilde = corrupt(x, generator, noise_std=noise_std, mask_prob=mask_prob, clamp=clamp,
                      keep=keep, eps=eps)
    x_hat = model(x_tilde)
    _check_reconstruction(x_hat, x)
    return LOSSES[loss](x_hat, x).mean()


def reconstruction_energy(model: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    r"""The reconstruction error as an energy: (B, n) -> (B,),

    $$E(x) = \lVert x - \mathrm{dec}(\mathrm{enc}(x))\rVert^2 .$$


    ``model`` maps (B, n) to its reconstruction (B, n). The energy is differentiable in
    ``x`` and in the model's parameters; wrap the call in ``torch.no_grad()`` to measure.
    """
    if not callable(model):
        raise TypeError(f"model must be callable (an autoencoder), got {type(model).__name__}")
    check_tensor("x", x, ndim=2, floating=True)
    x_hat = model(x)
    _check_reconstruction(x_hat, x)
    return ((x - x_hat) ** 2).sum(dim=1)


def tangent_directions(model: Autoencoder, x: Tensor,
                       generator: Optional[torch.Generator] = None) -> Tensor:
    r"""Unit vectors along the autoencoder's manifold at the reconstructions of ``x`` (B, n):
    $u = J v / \lVert J v\rVert$, with $J = \partial\,\mathrm{dec}(h)/\partial h$ the decoder's
    Jacobian at the code $h = \mathrm{enc}(x)$ and $v \sim \mathcal N(0, I_d)$ drawn with
    ``generator``, one per row. Moving along $u$ moves along the surface of reconstructions
    $\{\mathrm{dec}(h)\}$, which the autoencoder has fitted to the data. Returns (B, n)."""
    if not isinstance(model, Autoencoder):
        raise TypeError(f"model must be an Autoencoder, got {type(model).__name__}")
    check_tensor("x", x, ndim=2, last_dim=model.n_inputs, floating=True, min_batch=1)
    check_generator("generator", generator)
    with torch.no_grad():
        h = model.encode(x)
    v = randn(h.shape, generator, h.device, h.dtype)
    with torch.enable_grad():               # J v as the gradient of w -> J^T w (double backward)
        h = h.requires_grad_(True)
        out = model.decode(h)
        w = torch.zeros_like(out, requires_grad=True)
        (jt_w,) = torch.autograd.grad(out, h, grad_outputs=w, create_graph=True)   # J^T w
        (jv,) = torch.autograd.grad(jt_w, w, grad_outputs=v)                      # J v, (B, n)
    return (jv / jv.norm(dim=1, keepdim=True).clamp_min(torch.finfo(jv.dtype).tiny)).detach()


# ------------------------------------------------------------------- reference points

def pca(x: Tensor, d: int) -> tuple[Tensor, Tensor]:
    r"""Principal component analysis of the rows of ``x`` (m, n): returns the mean $\mu$ (n,)
    and the top-``d`` principal directions $V_d$ (d, n), orthonormal rows.

    $V_d$ holds the right singular vectors of $x - \mu$ with the ``d`` largest singular
    values, computed in float64 and returned in ``x``'s dtype. Projecting onto them,
    $\hat x = \mu + (x - \mu)V_d^\top V_d$ (:func:`pca_reconstruct`), gives the smallest
    total squared reconstruction error of any rank-``d`` affine map: the optimum a linear
    autoencoder with a ``d``-dimensional code can reach (Baldi and Hornik, 1989).
    """
    check_tensor("x", x, ndim=2, floating=True, min_batch=2)
    d = check_int("d", d, min_value=1, max_value=min(x.shape))
    x64 = x.double()
    mean = x64.mean(dim=0)
    _, _, vh = torch.linalg.svd(x64 - mean, full_matrices=False)   # rows of vh: directions
    return mean.to(x.dtype), vh[:d].to(x.dtype)


def _check_components(components: Tensor, x: Tensor, mean: Tensor) -> None:
    for name, t in (("mean", mean), ("components", components)):
        if t.dtype != x.dtype:
            raise TypeError(f"{name} must have the dtype of x, {x.dtype}, got {t.dtype}")
    v = components.double()
    gram = v @ v.T
    tol = math.sqrt(torch.finfo(components.dtype).eps)
    err = (gram - torch.eye(len(v), dtype=v.dtype, device=v.device)).abs().max().item()
    if err > tol:
        raise ValueError(f"components must have orthonormal rows (principal directions, as pca "
                         f"returns them), got V V^T off the identity by {err:.3g}")


def pca_reconstruct(x: Tensor, mean: Tensor, components: Tensor) -> Tensor:
    r"""$\hat x = \mu + (x - \mu)V^\top V$: ``x`` (B, n), ``mean`` (n,), ``components`` (d, n)
    with orthonormal rows (as :func:`pca` returns them), all three in the same dtype."""
    check_tensor("x", x, ndim=2, floating=True)
    check_tensor("mean", mean, ndim=1, last_dim=x.shape[1], floating=True)
    check_tensor("components", components, ndim=2, last_dim=x.shape[1], floating=True,
                 min_batch=1)
    _check_components(components, x, mean)
    centred = x - mean
    return mean + (centred @ components.T) @ components


def _check_full_rank(name: str, a: Tensor) -> None:
    """QR's Q spans the column space only when the columns are independent (or span R^n)."""
    if a.numel() == 0:
        return
    rank = int(torch.linalg.matrix_rank(a.detach().double(),
                                        rtol=torch.finfo(a.dtype).eps * max(a.shape)))
    if rank < min(a.shape):
        raise ValueError(f"{name} must have linearly independent columns (a basis of the "
                         f"subspace), got rank {rank} for shape {tuple(a.shape)}")


def principal_angles(a: Tensor, b: Tensor) -> Tensor:
    r"""The principal angles (radians, ascending) between the column spaces of ``a`` (n, p)
    and ``b`` (n, q): $\cos\theta_k$ are the singular values of $Q_a^\top Q_b$, with $Q$
    orthonormal bases from QR. Returns min(p, q) angles; all zero when the spaces coincide."""
    check_tensor("a", a, ndim=2, floating=True)
    check_tensor("b", b, ndim=2, floating=True)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"a and b must have the same number of rows, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    _check_full_rank("a", a)
    _check_full_rank("b", b)
    qa, _ = torch.linalg.qr(a.double())
    qb, _ = torch.linalg.qr(b.double())
    cos = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)
    return torch.arccos(cos).sort().values.to(a.dtype)


def ranking_auc(low: Tensor, high: Tensor) -> float:
    r"""The probability that a value drawn from ``high`` exceeds one drawn from ``low``
    (ties count one half): the area under the ROC curve of the score, computed by ranking
    (the Mann-Whitney statistic divided by $|\text{low}|\,|\text{high}|$).

    1 means every ``high`` value lies above every ``low`` value, 0.5 no separation. With
    ``low`` the energies of data and ``high`` those of non-data, it measures how well the
    energy tells them apart."""
    check_tensor("low", low, ndim=1, min_batch=1)
    check_tensor("high", high, ndim=1, min_batch=1)
    if low.is_complex() or high.is_complex():
        name, t = ("low", low) if low.is_complex() else ("high", high)
        raise TypeError(f"{name} must hold real values to rank, got dtype {t.dtype}")
    values = torch.cat([low, high]).double().cpu()
    order = values.argsort()
    ranks = torch.empty_like(values)
    ranks[order] = torch.arange(1, len(values) + 1, dtype=torch.float64)
    # ties get the mean of their ranks
    uniq, inverse = torch.unique(values, return_inverse=True)
    if len(uniq) < len(values):
        sums = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inverse, ranks)
        counts = torch.bincount(inverse, minlength=len(uniq)).double()
        ranks = (sums / counts)[inverse]
    n_low, n_high = len(low), len(high)
    u = ranks[n_low:].sum() - n_high * (n_high + 1) / 2      # pairs with high > low
    return float(u / (n_low * n_high))


# ------------------------------------------------------------ a density with a known score

def ring_mixture(n_modes: int = 4, radius: float = 2.0, std: float = 0.5,
                 dtype: torch.dtype = torch.float32):
    r"""A 2-D test density with a known score: ``n_modes`` equal-weight isotropic Gaussians
    of standard deviation ``std``, centred evenly on a circle of ``radius``. Returns a
    :class:`companion.diffusion.GaussianMixture` (exact ``log_prob``, ``score``, ``sample``,
    and ``convolved(noise_std=σ)`` for the noised density $p_\sigma$)."""
    from .diffusion import GaussianMixture

    n_modes = check_int("n_modes", n_modes, min_value=1)
    radius = check_number("radius", radius, nonnegative=True)
    std = check_number("std", std, positive=True)
    check_float_dtype("dtype", dtype)
    angle = 2 * math.pi * torch.arange(n_modes, dtype=torch.float64) / n_modes
    means = radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    return GaussianMixture(torch.full((n_modes,), 1 / n_modes, dtype=dtype), means.to(dtype),
                           torch.full((n_modes,), std, dtype=dtype))


def optimal_denoiser(mixture, x: Tensor, noise_std: float) -> Tensor:
    r"""The reconstruction $r^*(\tilde x) = \mathbb E[x \mid \tilde x]$ that minimises the
    denoising loss $\mathbb E\,\lVert r(\tilde x) - x\rVert^2$ for data $x \sim p$ (a
    ``GaussianMixture``) and corruption $\tilde x = x + \sigma\varepsilon$:

    $$r^*(\tilde x) = \tilde x + \sigma^2\,\nabla \log p_\sigma(\tilde x),$$

    with $p_\sigma$ the density of $\tilde x$ (Tweedie's formula). As $\sigma \to 0$,
    $(r^*(x) - x)/\sigma^2 \to \nabla\log p(x)$ (Alain and Bengio, 2014).
    ``x``: (..., d); returns the same shape."""
    from .diffusion import GaussianMixture

    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"mixture must be a companion.diffusion.GaussianMixture (e.g. from "
                        f"ring_mixture), got {type(mixture).__name__}")
    sigma = check_number("noise_std", noise_std, positive=True)
    check_tensor("x", x, floating=True)
    return x + sigma ** 2 * mixture.convolved(noise_std=sigma).score(x)

r"""Chapter 1: energy functions and inference.

An energy function $F(x, y)$ scores how compatible an output $y$ is with an input $x$:
low energy means compatible. Inference is minimisation,
$\tilde y = \operatorname{argmin}_y F(x, y)$; with a latent variable $z$,
$\tilde y, \tilde z = \operatorname{argmin}_{y, z} E(x, y, z)$. The Gibbs-Boltzmann
distribution $P_\beta(y \mid x) \propto e^{-\beta F(x, y)}$ turns energies into
probabilities, and the free energy
$F_\beta(x, y) = -\frac1\beta \log \int e^{-\beta E(x, y, z)}\,dz$ eliminates a latent
variable; as $\beta \to \infty$ it tends to $\min_z E(x, y, z)$.

Shapes: ``y`` is (B, 2), ``z`` is (B,), ``x`` is a number or a (B,) tensor; energies are (B,).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence, Union

import torch
from torch import Tensor

from . import samplers
from ._checks import (check_callable, check_int, check_interval, check_number, check_same_shape,
                      check_tensor)

__all__ = [
    "EllipseLVM",
    "Wells",
    "boltzmann",
    "entropy",
    "free_energy",
    "gradient_descent",
    "grid",
    "laplace_free_energy",
    "moments",
    "wells_log_partition",
]

Number = Union[float, Tensor]


def _check_energy_fn(energy_fn, y0: Tensor) -> None:
    with torch.no_grad():
        e = energy_fn(y0.detach())
    if not isinstance(e, Tensor) or e.shape != y0.shape[:1]:
        raise ValueError(f"energy_fn must map the batch y0 (shape {tuple(y0.shape)}) to one "
                         f"energy per row, got {tuple(getattr(e, 'shape', ()))}")


def gradient_descent(energy_fn: Callable[[Tensor], Tensor], y0: Tensor, *, n_steps: int,
                     step_size: float, return_trajectory: bool = False):
    r"""Inference by gradient descent: $y \leftarrow y - \eta\,\nabla_y E(y)$, from each row of ``y0``.

    This is :func:`companion.samplers.langevin` with the noise switched off: Langevin
    dynamics at zero temperature ($\beta \to \infty$) is gradient descent. Returns the final
    points (and with ``return_trajectory`` the whole path, (n_steps + 1, *y0.shape)).
    """
    check_tensor("y0", y0, floating=True, min_batch=1)
    check_callable("energy_fn", energy_fn)
    _check_energy_fn(energy_fn, y0)
    return samplers.langevin(energy_fn, y0, n_steps=n_steps, step_size=step_size,
                             noise_scale=0.0, return_trajectory=return_trajectory)


def grid(xlim: Sequence[float], ylim: Sequence[float], n: int) -> tuple[Tensor, float]:
    """An ``n`` x ``n`` grid over a rectangle: points (n*n, 2), row-major in y, and the cell area."""
    n = check_int("n", n, min_value=2)
    (x0, x1), (y0, y1) = (float(v) for v in xlim), (float(v) for v in ylim)
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"xlim and ylim must be (low, high) with low < high, got {xlim}, {ylim}")
    xs, ys = torch.linspace(x0, x1, n), torch.linspace(y0, y1, n)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    cell = (x1 - x0) / (n - 1) * ((y1 - y0) / (n - 1))       # exact, not float32 differences
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1), cell


def _as_input(x: Number, like: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        if x.dim() == 0:
            return x.to(like).expand(like.shape[0])
        check_tensor("x", x, ndim=1)
        if x.shape[0] != like.shape[0]:
            raise ValueError(f"x must be a number or hold one value per row of y "
                             f"({like.shape[0]}), got shape {tuple(x.shape)}")
        return x.to(like)
    return torch.full((like.shape[0],), check_number("x", x), dtype=like.dtype, device=like.device)


class Wells:
    r"""An input-dependent landscape with three wells.

    $$F(x, y) = -\log \sum_{k=1}^{3}
        \exp\Big(-\frac{\lVert y - \mu_k\rVert^2}{2 s^2} - (x - c_k)^2\Big)$$

    Well $k$ sits at $\mu_k$ and is deepest when the input $x$ is near its preferred value
    $c_k$: the input decides which outputs are compatible, and for inputs between two
    preferred values there are two good answers (a multimodal output).
    """

    def __init__(self, centers=((-1.6, -1.0), (1.6, -1.0), (0.0, 1.6)),
                 preferred=(-1.0, 0.0, 1.0), width: float = 0.6):
        self.centers = torch.as_tensor(centers, dtype=torch.float32)
        self.preferred = torch.as_tensor(preferred, dtype=torch.float32)
        if self.centers.dim() != 2 or self.centers.shape[1] != 2:
            raise ValueError(f"centers must have shape (K, 2), got {tuple(self.centers.shape)}")
        if self.preferred.shape != (self.centers.shape[0],):
            raise ValueError(f"preferred must hold one value per centre "
                             f"({self.centers.shape[0]}), got {tuple(self.preferred.shape)}")
        self.width = check_number("width", width, positive=True)

    def __call__(self, x: Number, y: Tensor) -> Tensor:
        check_tensor("y", y, ndim=2, last_dim=2, floating=True)
        x = _as_input(x, y)
        mu, c = self.centers.to(y), self.preferred.to(y)
        sq = ((y[:, None, :] - mu[None]) ** 2).sum(-1) / (2 * self.width**2)   # (B, K)
        return -torch.logsumexp(-sq - (x[:, None] - c[None]) ** 2, dim=1)


def wells_log_partition(wells: Wells, x: float, xlim: Sequence[float],
                        ylim: Sequence[float]) -> float:
    r"""Exact $\log Z_1(x) = \log \int_{\text{box}} e^{-F(x, y)}\,dy$ of a :class:`Wells` energy at $\beta = 1$.

    At $\beta = 1$, $e^{-F}$ is a sum of Gaussian bumps, and each factorises over the two
    coordinates, so the integral over the box $[l_1, h_1] \times [l_2, h_2]$ = ``xlim`` x
    ``ylim`` is a sum of products of error functions:

    $$Z_1(x) = \sum_k e^{-(x - c_k)^2} \prod_{d=1}^{2} s\sqrt{\tfrac{\pi}{2}}
        \Big[\operatorname{erf}\tfrac{h_d - \mu_{kd}}{s\sqrt2}
             - \operatorname{erf}\tfrac{l_d - \mu_{kd}}{s\sqrt2}\Big].$$
    """
    if not isinstance(wells, Wells):
        raise TypeError(f"wells must be a Wells energy, got {type(wells).__name__}")
    x = check_number("x", x)
    xlim, ylim = check_interval("xlim", xlim), check_interval("ylim", ylim)
    s, z = wells.width, 0.0
    for mu, c in zip(wells.centers.tolist(), wells.preferred.tolist()):
        term = math.exp(-(x - c) ** 2)
        for (lo, hi), m in zip((xlim, ylim), mu):
            term *= s * math.sqrt(math.pi / 2) * (math.erf((hi - m) / (s * math.sqrt(2)))
                                                  - math.erf((lo - m) / (s * math.sqrt(2))))
        z += term
    return math.log(z)


class EllipseLVM:
    r"""A latent-variable energy whose compatible outputs form an ellipse.

    $$E(x, y, z) = \lVert y - g(x, z) \rVert^2,\qquad
      g(x, z) = \big(a(x)\cos z,\; b(x)\sin z\big),$$

    with semi-axes $a(x) = a_0 + a_1 x$ and $b(x) = b_0 + b_1 x$. For a given input the
    zero-energy set $\{g(x, z) : z \in [0, 2\pi)\}$ is an ellipse: the latent angle $z$
    says *where* on it the output lies, which the input alone does not determine.
    """

    def __init__(self, a=(1.5, 0.5), b=(1.0, -0.3)):
        self.a0, self.a1 = (float(v) for v in a)
        self.b0, self.b1 = (float(v) for v in b)

    def axes(self, x: float) -> tuple[float, float]:
        """Semi-axes (a(x), b(x)); both must be positive."""
        x = check_number("x", x)
        a, b = self.a0 + self.a1 * x, self.b0 + self.b1 * x
        if a <= 0 or b <= 0:
            raise ValueError(f"x = {x} gives semi-axes ({a:.3g}, {b:.3g}); both must be > 0")
        return a, b

    def decode(self, x: Number, z: Tensor) -> Tensor:
        r"""$g(x, z)$ for angles ``z`` (B,): points (B, 2) on the ellipse."""
        check_tensor("z", z, ndim=1, floating=True)
        x = _as_input(x, z[:, None])
        a, b = self.a0 + self.a1 * x, self.b0 + self.b1 * x
        return torch.stack([a * torch.cos(z), b * torch.sin(z)], dim=1)

    def energy(self, x: Number, y: Tensor, z: Tensor) -> Tensor:
        r"""$E(x, y, z) = \lVert y - g(x, z)\rVert^2$ for ``y`` (B, 2), ``z`` (B,)."""
        check_tensor("y", y, ndim=2, last_dim=2, floating=True)
        check_tensor("z", z, ndim=1, floating=True)
        if z.shape[0] != y.shape[0]:
            raise ValueError(f"z must hold one angle per row of y ({y.shape[0]}), "
                             f"got shape {tuple(z.shape)}")
        return ((y - self.decode(x, z)) ** 2).sum(dim=1)

    def joint(self, x: Number) -> Callable[[Tensor], Tensor]:
        """The energy as a function of u = (y1, y2, z), (B, 3), for joint minimisation."""
        return lambda u: self.energy(x, u[:, :2], u[:, 2])

    def energy_grid(self, x: Number, y: Tensor, n_z: int = 512) -> tuple[Tensor, Tensor, float]:
        """Energies of every y (B, 2) at ``n_z`` angles evenly covering [0, 2π): (B, n_z), the angles, and Δz."""
        check_tensor("y", y, ndim=2, last_dim=2, floating=True)
        n_z = check_int("n_z", n_z, min_value=4)
        z = torch.arange(n_z, dtype=y.dtype, device=y.device) * (2 * math.pi / n_z)
        g = self.decode(x, z)                                           # (n_z, 2)
        e = ((y[:, None, :] - g[None, :, :]) ** 2).sum(-1)             # (B, n_z)
        return e, z, 2 * math.pi / n_z

    def free_energy(self, x: Number, y: Tensor, beta: float, n_z: int = 512) -> Tensor:
        r"""$F_\beta(x, y) = -\frac1\beta \log \int_0^{2\pi} e^{-\beta E(x, y, z)}\,dz$ (rectangle rule)."""
        e, _, dz = self.energy_grid(x, y, n_z)
        return free_energy(e, beta, dz)

    def min_energy(self, x: float, y: Tensor, n_z: int = 2048,
                   refine_steps: int = 100) -> tuple[Tensor, Tensor]:
        r"""$F_\infty(x, y) = \min_z E(x, y, z)$ and the minimising angle, for each row of ``y``.

        A grid search over ``n_z`` angles finds the basin, then ``refine_steps`` of gradient
        descent on $z$ polish the minimum (step $1/L$, with $L$ a bound on
        $|\partial^2 E / \partial z^2| \le 2(m^2 + (\lVert y\rVert + m)\,m)$, $m = \max(a, b)$).
        """
        a, b = self.axes(x)
        e, z, _ = self.energy_grid(x, y, n_z)
        z0 = z[e.argmin(dim=1)]
        m = max(a, b)
        lipschitz = 2 * (m * m + (float(y.norm(dim=1).max()) + m) * m)
        z_star = gradient_descent(lambda zz: self.energy(x, y, zz[:, 0]), z0[:, None],
                                  n_steps=check_int("refine_steps", refine_steps, min_value=0),
                                  step_size=1.0 / lipschitz)[:, 0]
        return self.energy(x, y, z_star), z_star


def free_energy(energies: Tensor, beta: float, dz: float = 1.0) -> Tensor:
    r"""Free energy over the last axis: $F_\beta = -\frac1\beta \log \sum_j e^{-\beta E_j}\,\Delta z$.

    ``energies`` (..., n) holds $E$ at n evenly spaced values of the latent variable
    (spacing ``dz``); the sum is the rectangle rule for $\int e^{-\beta E(z)} dz$, computed
    stably with ``logsumexp``.
    """
    check_tensor("energies", energies, floating=True, nonempty=True)
    beta = check_number("beta", beta, positive=True)
    dz = check_number("dz", dz, positive=True)
    return -(torch.logsumexp(-beta * energies, dim=-1) + math.log(dz)) / beta


def boltzmann(energies: Tensor, beta: float, cell: float = 1.0) -> Tensor:
    r"""Gibbs-Boltzmann density on a grid: $p_j = e^{-\beta E_j} / \sum_k e^{-\beta E_k} \,/\, \text{cell}$.

    ``energies`` holds $E$ at grid points, each standing for a cell of area ``cell``; the
    result has the same shape and satisfies $\sum_j p_j \cdot \text{cell} = 1$.
    """
    check_tensor("energies", energies, floating=True, nonempty=True)
    beta = check_number("beta", beta, positive=True)
    cell = check_number("cell", cell, positive=True)
    flat = torch.softmax(-beta * energies.reshape(-1), dim=0) / cell
    return flat.reshape(energies.shape)


def entropy(density: Tensor, cell: float = 1.0) -> float:
    r"""Differential entropy $-\sum_j p_j \log p_j \cdot \text{cell}$ of a density on a grid (nats)."""
    check_tensor("density", density, floating=True, nonempty=True)
    cell = check_number("cell", cell, positive=True)
    if (density < 0).any():
        raise ValueError(f"density must be non-negative, got a minimum of {density.min().item():.3g}")
    p = density.reshape(-1)
    nz = p > 0
    return float(-(p[nz] * p[nz].log()).sum() * cell)


def moments(values: Tensor, density: Tensor, cell: float = 1.0) -> tuple[float, float]:
    """Mean and standard deviation of a one-dimensional density given on the grid ``values``."""
    check_tensor("values", values, ndim=1, floating=True)
    check_tensor("density", density, ndim=1, floating=True)
    check_same_shape("values", values, "density", density)
    cell = check_number("cell", cell, positive=True)
    mass = density.sum() * cell
    mean = (values * density).sum() * cell / mass
    var = ((values - mean) ** 2 * density).sum() * cell / mass
    return float(mean), float(var.sqrt())


def laplace_free_energy(e_min: Number, curvature: Number, beta: float) -> Number:
    r"""Laplace's approximation for a one-dimensional latent variable:

    $$F_\beta \approx E_{\min} + \frac{1}{2\beta}\log\frac{\beta E''}{2\pi},$$

    from $\int e^{-\beta E(z)} dz \approx e^{-\beta E_{\min}} \sqrt{2\pi / (\beta E'')}$,
    accurate when $\beta E''$ is large (the Gaussian bump is narrow).
    """
    beta = check_number("beta", beta, positive=True)
    if not isinstance(e_min, Tensor):
        e_min = check_number("e_min", e_min)
    if not isinstance(curvature, Tensor):
        curvature = check_number("curvature", curvature, positive=True)
    if isinstance(curvature, Tensor):
        if (curvature <= 0).any():
            raise ValueError("curvature must be > 0 at a minimum")
        return e_min + torch.log(beta * curvature / (2 * math.pi)) / (2 * beta)
    curvature = check_number("curvature", curvature, positive=True)
    return e_min + math.log(beta * curvature / (2 * math.pi)) / (2 * beta)

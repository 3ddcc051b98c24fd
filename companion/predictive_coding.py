r"""Chapter 5: the free energy principle and predictive coding.

Variational free energy
    For a generative model $p(s, \psi) = p(\psi)\,p(s \mid \psi)$ and any recognition
    density $q(\psi)$,

    $$F[q] = \mathbb E_q[-\log p(s, \psi)] - H[q]
           = -\log p(s) + D_{\mathrm{KL}}[q \,\|\, p(\psi \mid s)] \;\ge\; -\log p(s):$$

    energy minus entropy, equal to surprise plus divergence, with equality in the bound
    exactly when $q$ is the posterior. :class:`GaussianModel` (a scalar
    Gaussian prior and a Gaussian likelihood around $g(\psi) = a\psi + b\psi^2$, Bogacz's
    2017 tutorial example when $a = 0, b = 1$) and :class:`DiscreteModel` evaluate every
    term: in closed form where one exists, otherwise by quadrature or enumeration.

Perception as gradient descent
    :meth:`GaussianModel.perceive` descends $E(s, \phi) = -\log p(s, \phi)$;
    :meth:`GaussianModel.perceive_with_errors` runs Bogacz's network with explicit
    prediction-error units $\varepsilon_p, \varepsilon_s$.

Hierarchical predictive coding
    :class:`PCNetwork` has value nodes $x_0, \dots, x_L$, predictions
    $\mu_{l+1} = f_l(W_l x_l + b_l)$, errors $\varepsilon_{l+1} = x_{l+1} - \mu_{l+1}$ and
    energy $F = \sum_{l=1}^{L} \tfrac{\pi_l}2 \lVert \varepsilon_l \rVert^2$. Inference descends
    $F$ on the hidden value nodes; learning applies the local rule
    $\Delta W_l = (\pi_{l+1}\varepsilon_{l+1} \odot f_l'(a_{l+1}))\,x_l^\top$. With the
    predictions held at their feed-forward values the updates equal backprop's gradients;
    with the strict dynamics they approach them (divided by $\gamma$) as the output
    precision $\pi_L = \gamma \to 0$, but not when the target is moved towards the output
    (:func:`nudged_target`).

Active inference
    :class:`ThermalAgent` and :func:`active_inference`: an agent in a one-dimensional world
    (:func:`heat_source`) that believes it sits at a preferred temperature, senses the
    temperature with noise, and lowers its free energy by perception (its belief $\mu$),
    action (its position) and, optionally, learning (its prior mean).

Sign convention of the book: energies are returned, $p \propto e^{-E}$. Bogacz's tutorial
maximises $F_{\text{Bogacz}} = \log p(s, \phi)$, which is $-E$ here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from ._checks import (check_broadcast_together, check_choice, check_generator, check_int,
                      check_number, check_same_shape, check_tensor, check_widths)
from .energy import free_energy as _free_energy
from .seeding import rand, randn

__all__ = [
    "DiscreteModel",
    "FreeEnergyTerms",
    "GaussianModel",
    "PCNetwork",
    "PCState",
    "ThermalAgent",
    "active_inference",
    "alignment",
    "backprop_gradients",
    "cosine_similarity",
    "gaussian_entropy",
    "heat_source",
    "mse_loss",
    "nudged_target",
    "pc_train_step",
]

Number = Union[float, Tensor]


# ----------------------------------------------------------------------------- free energy

@dataclass
class FreeEnergyTerms:
    r"""The four terms of the variational free energy, each a tensor of the same shape.

    ``energy`` $= \mathbb E_q[-\log p(s, \psi)]$, ``entropy`` $= H[q]$,
    ``surprise`` $= -\log p(s)$, ``divergence`` $= D_{\mathrm{KL}}[q \,\|\, p(\psi \mid s)]$.
    """

    energy: Tensor
    entropy: Tensor
    surprise: Tensor
    divergence: Tensor

    @property
    def free_energy(self) -> Tensor:
        r"""$F = \text{energy} - \text{entropy}$."""
        return self.energy - self.entropy

    @property
    def surprise_plus_divergence(self) -> Tensor:
        r"""$-\log p(s) + D_{\mathrm{KL}}[q \,\|\, p(\psi \mid s)]$, equal to ``free_energy``."""
        return self.surprise + self.divergence


def gaussian_entropy(v: Number) -> Tensor:
    r"""$H[\mathcal N(m, v)] = \tfrac12 \log(2\pi e\, v)$ nats, for variances ``v`` > 0."""
    v = _as_tensor("v", v)
    if (v <= 0).any():
        raise ValueError("v must hold variances > 0")
    return 0.5 * torch.log(2 * math.pi * math.e * v)


def _as_tensor(name: str, x: Number, like: Optional[Tensor] = None) -> Tensor:
    """A number, or a floating tensor of finite values, as a tensor (float64 for a number)."""
    if isinstance(x, Tensor):
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor or a number, got dtype {x.dtype}")
        return check_tensor(name, x)
    check_number(name, x)
    device = like.device if like is not None else None
    return torch.tensor(float(x), dtype=torch.float64, device=device)


class GaussianModel:
    r"""A scalar generative model with a Gaussian prior and a Gaussian likelihood:

    $$p(\psi) = \mathcal N(\psi;\, \mu_p, \sigma_p^2),\qquad
      p(s \mid \psi) = \mathcal N(s;\, g(\psi), \sigma_s^2),\qquad g(\psi) = a\psi + b\psi^2.$$

    ``prior_var`` $= \sigma_p^2$ and ``sensory_var`` $= \sigma_s^2$ are variances (Bogacz's
    $\Sigma_p$ and $\Sigma_u$). The defaults are the example of Bogacz's tutorial: a food
    item of size $\psi$ reflects light of mean intensity $g(\psi) = \psi^2$, the prior
    size is $3 \pm 1$. With $b = 0$ the model is linear-Gaussian and the evidence and
    posterior have closed forms; otherwise they are computed by quadrature on ``grid``.
    """

    def __init__(self, prior_mean: float = 3.0, prior_var: float = 1.0, sensory_var: float = 1.0,
                 a: float = 0.0, b: float = 1.0):
        self.prior_mean = check_number("prior_mean", prior_mean)
        self.prior_var = check_number("prior_var", prior_var, positive=True)
        self.sensory_var = check_number("sensory_var", sensory_var, positive=True)
        self.a, self.b = check_number("a", a), check_number("b", b)
        # the normalising constants of the two Gaussians, 1/2 log(2 pi s_p^2) + 1/2 log(2 pi s_s^2)
        self._log_norm = 0.5 * (math.log(2 * math.pi * self.prior_var)
                                + math.log(2 * math.pi * self.sensory_var))

    def __repr__(self) -> str:
        return (f"GaussianModel(prior_mean={self.prior_mean:g}, prior_var={self.prior_var:g}, "
                f"sensory_var={self.sensory_var:g}, g(psi) = {self.a:g} psi + {self.b:g} psi^2)")

    @property
    def is_linear(self) -> bool:
        """True when $g$ is linear ($b = 0$): then evidence and posterior are Gaussian."""
        return self.b == 0.0

    def g(self, psi: Tensor) -> Tensor:
        r"""The generative function $g(\psi) = a\psi + b\psi^2$."""
        check_tensor("psi", psi, floating=True)
        return self._g(psi)

    def _g(self, psi: Tensor) -> Tensor:
        return self.a * psi + self.b * psi**2

    def dg(self, psi: Tensor) -> Tensor:
        r"""Its derivative $g'(\psi) = a + 2b\psi$."""
        check_tensor("psi", psi, floating=True)
        return self._dg(psi)

    def _dg(self, psi: Tensor) -> Tensor:
        return self.a + 2 * self.b * psi

    def default_grid(self, n: int = 20001) -> Tensor:
        r"""Quadrature points: $\mu_p \pm 12\,\sigma_p$, ``n`` of them, float64."""
        n = check_int("n", n, min_value=101)
        half = 12 * math.sqrt(self.prior_var)
        return torch.linspace(self.prior_mean - half, self.prior_mean + half, n, dtype=torch.float64)

    # --------------------------------------------------------------------- point energies
    def prediction_errors(self, s: Number, psi: Tensor) -> tuple[Tensor, Tensor]:
        r"""Precision-weighted prediction errors (Bogacz's $\varepsilon_p$ and $\varepsilon_u$):

        $\varepsilon_p = (\psi - \mu_p) / \sigma_p^2$, $\varepsilon_s = (s - g(\psi)) / \sigma_s^2$.
        """
        check_tensor("psi", psi, floating=True)
        s = _as_tensor("s", s, psi)
        check_broadcast_together(s=s, psi=psi)
        return self._prediction_errors(s, psi)

    def _prediction_errors(self, s: Tensor, psi: Tensor) -> tuple[Tensor, Tensor]:
        eps_p = (psi - self.prior_mean) / self.prior_var
        eps_s = (s - self._g(psi)) / self.sensory_var
        return eps_p, eps_s

    def energy(self, s: Number, psi: Tensor) -> Tensor:
        r"""$E(s, \psi) = -\log p(s, \psi)
        = \frac{(\psi - \mu_p)^2}{2\sigma_p^2} + \frac{(s - g(\psi))^2}{2\sigma_s^2}
          + \tfrac12\log(2\pi\sigma_p^2) + \tfrac12\log(2\pi\sigma_s^2)$, elementwise in ``psi``."""
        check_tensor("psi", psi, floating=True)
        s = _as_tensor("s", s, psi)
        check_broadcast_together(s=s, psi=psi)
        return ((psi - self.prior_mean) ** 2 / (2 * self.prior_var)
                + (s - self._g(psi)) ** 2 / (2 * self.sensory_var) + self._log_norm)

    def energy_gradient(self, s: Number, psi: Tensor) -> Tensor:
        r"""The hand-derived $\partial E / \partial \psi = \varepsilon_p - \varepsilon_s\, g'(\psi)$.

        Unlike the other methods, ``psi`` may hold infinities and NaN: they are what a
        diverged run of gradient descent leaves (e.g. many step sizes tried at once), and
        their gradient is NaN or infinite, so that they stay marked as diverged."""
        check_tensor("psi", psi, floating=True, finite=False)
        s = _as_tensor("s", s, psi)
        check_broadcast_together(s=s, psi=psi)
        eps_p, eps_s = self._prediction_errors(s, psi)
        return eps_p - eps_s * self._dg(psi)

    # ------------------------------------------------------------ Gaussian recognition q
    def expected_energy(self, s: Number, m: Number, v: Number) -> Tensor:
        r"""$\mathbb E_q[-\log p(s, \psi)]$ for $q = \mathcal N(m, v)$, in closed form.

        $\mathbb E_q[(\psi - \mu_p)^2] = (m - \mu_p)^2 + v$, and, writing
        $\psi = m + \sqrt v\, z$, $g(\psi)$ has mean $am + b(m^2 + v)$ and variance
        $(a + 2bm)^2 v + 2b^2 v^2$, so
        $\mathbb E_q[(s - g)^2] = (s - am - b(m^2 + v))^2 + (a + 2bm)^2 v + 2 b^2 v^2$.
        """
        m = _as_tensor("m", m)
        v = _as_tensor("v", v, m)
        if (v <= 0).any():
            raise ValueError("v must hold variances > 0")
        s = _as_tensor("s", s, m)
        check_broadcast_together(s=s, m=m, v=v)
        mean_g = self.a * m + self.b * (m**2 + v)
        var_g = (self.a + 2 * self.b * m) ** 2 * v + 2 * self.b**2 * v**2
        return (((m - self.prior_mean) ** 2 + v) / (2 * self.prior_var)
                + ((s - mean_g) ** 2 + var_g) / (2 * self.sensory_var) + self._log_norm)

    def free_energy(self, s: Number, m: Number, v: Number) -> Tensor:
        r"""$F(s, q) = \mathbb E_q[-\log p(s, \psi)] - H[q]$ for $q = \mathcal N(m, v)$ (closed form)."""
        return self.expected_energy(s, m, v) - gaussian_entropy(_as_tensor("v", v))

    # ------------------------------------------------------------- evidence, posterior
    def log_evidence(self, s: Number, grid: Optional[Tensor] = None) -> Tensor:
        r"""$\log p(s) = \log \int p(\psi)\, p(s \mid \psi)\, d\psi$.

        Linear $g$: $s \sim \mathcal N(a\mu_p,\; a^2\sigma_p^2 + \sigma_s^2)$ in closed form.
        Otherwise $-F_{\beta=1}$ of chapter 1, $\log \sum_j e^{-E(s, \psi_j)}\,\Delta\psi$, on
        ``grid`` (equally spaced; default :meth:`default_grid`).
        """
        s = _as_tensor("s", s)
        if self.is_linear and grid is None:
            var = self.a**2 * self.prior_var + self.sensory_var
            return -0.5 * math.log(2 * math.pi * var) - (s - self.a * self.prior_mean) ** 2 / (2 * var)
        grid, dpsi = self._grid(grid)
        return -_free_energy(self.energy(s, grid), 1.0, dpsi)

    def posterior(self, s: Number) -> tuple[Tensor, Tensor]:
        r"""Mean and variance of the exact posterior, for linear $g$ only:
        precision $1/\sigma_p^2 + a^2/\sigma_s^2$, mean
        $(\mu_p/\sigma_p^2 + a s/\sigma_s^2) / \text{precision}$."""
        if not self.is_linear:
            raise ValueError("posterior in closed form needs a linear g (b = 0); "
                             "use posterior_on_grid for a non-linear one")
        s = _as_tensor("s", s)
        precision = 1 / self.prior_var + self.a**2 / self.sensory_var
        mean = (self.prior_mean / self.prior_var + self.a * s / self.sensory_var) / precision
        return mean, torch.as_tensor(1 / precision, dtype=torch.float64)

    def posterior_on_grid(self, s: Number, grid: Optional[Tensor] = None) -> Tensor:
        r"""The exact posterior density $p(\psi \mid s) = e^{-E(s, \psi)} / p(s)$ at the points of
        ``grid`` (normalised so that $\sum_j p_j \Delta\psi = 1$)."""
        grid, dpsi = self._grid(grid)
        e = self.energy(s, grid)
        return torch.softmax(-e, dim=0) / dpsi

    def divergence(self, s: Number, m: Number, v: Number, grid: Optional[Tensor] = None) -> Tensor:
        r"""$D_{\mathrm{KL}}[\mathcal N(m, v) \,\|\, p(\psi \mid s)]$.

        Linear $g$ (and no ``grid``): the Gaussian formula
        $\tfrac12[v/v^* + (m - m^*)^2/v^* - 1 + \log(v^*/v)]$. Otherwise by quadrature,
        $\sum_j q_j \log(q_j / p_j)\,\Delta\psi$ with $p_j$ from :meth:`posterior_on_grid`.
        """
        m = _as_tensor("m", m)
        v = _as_tensor("v", v, m)
        if (v <= 0).any():
            raise ValueError("v must hold variances > 0")
        check_broadcast_together(m=m, v=v)
        if self.is_linear and grid is None:
            m_star, v_star = self.posterior(s)
            return 0.5 * (v / v_star + (m - m_star) ** 2 / v_star - 1 + torch.log(v_star / v))
        grid, dpsi = self._grid(grid)
        log_post = torch.log_softmax(-self.energy(s, grid), dim=0) - math.log(dpsi)   # (n,)
        m_, v_ = m[..., None], v[..., None]
        log_q = -0.5 * torch.log(2 * math.pi * v_) - (grid - m_) ** 2 / (2 * v_)        # (..., n)
        return (log_q.exp() * (log_q - log_post)).sum(-1) * dpsi

    def terms(self, s: Number, m: Number, v: Number, grid: Optional[Tensor] = None) -> FreeEnergyTerms:
        r"""All four terms for $q = \mathcal N(m, v)$: energy and entropy in closed form;
        surprise and divergence in closed form for linear $g$, by quadrature otherwise."""
        m = _as_tensor("m", m)
        v = _as_tensor("v", v, m)
        check_broadcast_together(m=m, v=v)
        shape = torch.broadcast_shapes(m.shape, v.shape)
        return FreeEnergyTerms(energy=self.expected_energy(s, m, v),
                               entropy=gaussian_entropy(v).expand(shape),
                               surprise=-self.log_evidence(s, grid).expand(shape),
                               divergence=self.divergence(s, m, v, grid))

    def _grid(self, grid: Optional[Tensor]) -> tuple[Tensor, float]:
        if grid is None:
            grid = self.default_grid()
        check_tensor("grid", grid, ndim=1, floating=True)
        if grid.numel() < 3:
            raise ValueError(f"grid must hold at least 3 points, got {grid.numel()}")
        steps = grid[1:] - grid[:-1]
        dpsi = float(steps[0])
        if dpsi <= 0 or (steps - dpsi).abs().max() > 1e-6 * abs(dpsi) + 1e-12:
            raise ValueError("grid must be equally spaced and increasing")
        return grid, dpsi

    # --------------------------------------------------------------------- perception
    def perceive(self, s: Number, phi0: Tensor, *, n_steps: int, dt: float,
                 return_trajectory: bool = False):
        r"""Perception as gradient descent on $E(s, \phi) = -\log p(s, \phi)$:

        $$\phi \leftarrow \phi + \Delta t\,\big(\varepsilon_s\, g'(\phi) - \varepsilon_p\big)
          = \phi - \Delta t\, \partial E / \partial \phi$$

        (Bogacz's exercise 2, an Euler step of $\dot\phi = \partial \log p(s, \phi)/\partial\phi$).
        ``phi0`` holds any number of starting points (any shape). Returns the final
        $\phi$ (and with ``return_trajectory`` all of them, (n_steps + 1, *phi0.shape)).
        """
        check_tensor("phi0", phi0, floating=True)
        n_steps = check_int("n_steps", n_steps, min_value=0)
        dt = check_number("dt", dt, positive=True)
        phi, path = phi0.clone(), [phi0.clone()]
        for _ in range(n_steps):
            phi = phi - dt * self.energy_gradient(s, phi)
            if return_trajectory:
                path.append(phi)
        return (phi, torch.stack(path)) if return_trajectory else phi

    def perceive_with_errors(self, s: Number, phi0: Tensor, *, n_steps: int,
                             dt: float) -> dict[str, Tensor]:
        r"""Bogacz's network with prediction-error units (his exercise 3), Euler steps of

        $$\dot\phi = \varepsilon_s g'(\phi) - \varepsilon_p,\quad
          \dot\varepsilon_p = \phi - \mu_p - \sigma_p^2 \varepsilon_p,\quad
          \dot\varepsilon_s = s - g(\phi) - \sigma_s^2 \varepsilon_s,$$

        from $\phi = $ ``phi0`` and $\varepsilon_p = \varepsilon_s = 0$. At a fixed point the
        errors equal their definitions in :meth:`prediction_errors` and $\phi$ is a
        stationary point of $E$. Returns trajectories ``phi``, ``eps_p``, ``eps_s``, each
        (n_steps + 1, *phi0.shape), and ``t`` (n_steps + 1,).
        """
        check_tensor("phi0", phi0, floating=True)
        n_steps = check_int("n_steps", n_steps, min_value=0)
        dt = check_number("dt", dt, positive=True)
        s = _as_tensor("s", s, phi0)
        phi, eps_p, eps_s = phi0.clone(), torch.zeros_like(phi0), torch.zeros_like(phi0)
        out = {"phi": [phi], "eps_p": [eps_p], "eps_s": [eps_s]}
        for _ in range(n_steps):
            d_phi = eps_s * self._dg(phi) - eps_p
            d_eps_p = phi - self.prior_mean - self.prior_var * eps_p
            d_eps_s = s - self._g(phi) - self.sensory_var * eps_s
            phi, eps_p, eps_s = phi + dt * d_phi, eps_p + dt * d_eps_p, eps_s + dt * d_eps_s
            out["phi"].append(phi), out["eps_p"].append(eps_p), out["eps_s"].append(eps_s)
        result = {k: torch.stack(v) for k, v in out.items()}
        result["t"] = torch.arange(n_steps + 1, dtype=phi0.dtype, device=phi0.device) * dt
        return result


class DiscreteModel:
    r"""A generative model over finitely many hidden states and observations:
    ``prior`` (K,) $= p(\psi)$, ``likelihood`` (K, M) with rows $p(s \mid \psi)$.
    Every term of the free energy is a finite sum (enumeration)."""

    def __init__(self, prior: Tensor, likelihood: Tensor):
        check_tensor("prior", prior, ndim=1, floating=True, nonempty=True)
        check_tensor("likelihood", likelihood, ndim=2, floating=True, nonempty=True)
        if likelihood.shape[0] != prior.shape[0]:
            raise ValueError(f"likelihood must have one row per hidden state ({prior.shape[0]}), "
                             f"got shape {tuple(likelihood.shape)}")
        for name, p, dim in (("prior", prior, 0), ("likelihood", likelihood, -1)):
            if (p < 0).any() or not torch.allclose(p.sum(dim), torch.ones((), dtype=p.dtype), atol=1e-9):
                raise ValueError(f"{name} must hold non-negative probabilities summing to 1 "
                                 f"(over each row for the likelihood)")
        self.prior, self.likelihood = prior.double(), likelihood.double()

    def log_joint(self, s: int) -> Tensor:
        r"""$\log p(s, \psi)$ for every hidden state: (K,)."""
        s = check_int("s", s, min_value=0, max_value=self.likelihood.shape[1] - 1)
        return self.prior.log() + self.likelihood[:, s].log()

    def posterior(self, s: int) -> Tensor:
        r"""$p(\psi \mid s) = p(s, \psi) / \sum_{\psi'} p(s, \psi')$: (K,)."""
        return torch.softmax(self.log_joint(s), dim=0)

    def terms(self, s: int, q: Tensor) -> FreeEnergyTerms:
        r"""The four terms for a recognition distribution ``q`` (..., K), by enumeration:
        $\sum_\psi q(\psi)[-\log p(s, \psi)]$, $-\sum q \log q$, $-\log \sum_\psi p(s, \psi)$ and
        $\sum q \log(q / p(\psi \mid s))$ (with $0 \log 0 = 0$)."""
        check_tensor("q", q, last_dim=self.prior.shape[0], floating=True)
        if (q < 0).any() or not torch.allclose(q.sum(-1), torch.ones((), dtype=q.dtype), atol=1e-9):
            raise ValueError("q must hold non-negative probabilities summing to 1")
        q = q.double()
        log_joint = self.log_joint(s)
        log_post = torch.log_softmax(log_joint, dim=0)
        q_log_q = torch.where(q > 0, q * q.clamp_min(1e-300).log(), torch.zeros_like(q))
        return FreeEnergyTerms(
            energy=-(q * log_joint).sum(-1),
            entropy=-q_log_q.sum(-1),
            surprise=-torch.logsumexp(log_joint, dim=0).expand(q.shape[:-1]),
            divergence=(q_log_q - q * log_post).sum(-1),
        )


# --------------------------------------------------------------- predictive-coding network

def _tanh_prime(a: Tensor) -> Tensor:
    return 1 - torch.tanh(a) ** 2


def _sigmoid_prime(a: Tensor) -> Tensor:
    s = torch.sigmoid(a)
    return s * (1 - s)


_ACTIVATIONS = {
    "tanh": (torch.tanh, _tanh_prime),
    "sigmoid": (torch.sigmoid, _sigmoid_prime),
    "relu": (torch.relu, lambda a: (a > 0).to(a.dtype)),
    "linear": (lambda a: a, torch.ones_like),
}


@dataclass
class PCState:
    r"""The state of a :class:`PCNetwork` after inference.

    ``values``: $x_0, \dots, x_L$ (each (B, n_l)); ``inputs``: the presynaptic activities
    $x_0, \dots, x_{L-1}$ that the predictions were computed from (the relaxed values, or
    the feed-forward ones under the fixed-prediction assumption); ``pre``: $a_1, \dots, a_L$,
    $a_{l+1} = W_l x_l + b_l$ at those inputs; ``errors``: $\varepsilon_1, \dots, \varepsilon_L$;
    ``output_precision``: $\pi_L$; ``energies``: the batch-mean energy before each
    iteration and after the last, (n_iters + 1,).
    """

    values: list[Tensor]
    inputs: list[Tensor]
    pre: list[Tensor]
    errors: list[Tensor]
    output_precision: float = 1.0
    energies: Tensor = field(default_factory=lambda: torch.zeros(0))


def _weighted(errors: Sequence[Tensor], output_precision: float) -> list[Tensor]:
    """Precision-weighted errors: 1 for the hidden layers, ``output_precision`` at the output."""
    return list(errors[:-1]) + [output_precision * errors[-1]]


class PCNetwork(nn.Module):
    r"""A hierarchical predictive-coding network (Whittington and Bogacz, 2017).

    Layer widths ``sizes`` $= (n_0, \dots, n_L)$. Value nodes $x_l$; layer $l$ predicts
    layer $l + 1$:

    $$\mu_{l+1} = f_l(a_{l+1}),\quad a_{l+1} = W_l x_l + b_l,\qquad
      \varepsilon_{l+1} = x_{l+1} - \mu_{l+1},\qquad
      F = \sum_{l=1}^{L} \tfrac{\pi_l}2 \lVert \varepsilon_l \rVert^2,$$

    with $f_l$ = ``activation`` for the hidden layers and the identity for the output.
    The precisions (inverse variances) are $\pi_l = 1$ for the hidden layers and
    $\pi_L$ = ``output_precision`` (default 1) for the output: $F$ is
    $-\log p$ of a chain of Gaussians, up to a constant. The feed-forward pass
    $x_{l+1} = \mu_{l+1}$ makes every error zero: it is the MLP that backprop would train
    (:meth:`forward`). Weights and biases are drawn uniformly in $\pm 1/\sqrt{n_l}$
    (PyTorch's default range) with ``generator``.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "tanh",
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        sizes = list(check_widths("sizes", sizes))
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
        check_choice("activation", activation, tuple(_ACTIVATIONS))
        check_generator("generator", generator)
        self.sizes, self.activation = sizes, activation
        self.f, self.f_prime = _ACTIVATIONS[activation]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(n_in)
            self.weights.append(nn.Parameter(bound * (2 * rand((n_out, n_in), generator) - 1)))
            self.biases.append(nn.Parameter(bound * (2 * rand((n_out,), generator) - 1)))

    @property
    def n_layers(self) -> int:
        """$L$, the number of weight layers."""
        return len(self.weights)

    def _act(self, l: int, a: Tensor) -> Tensor:
        return self.f(a) if l < self.n_layers - 1 else a          # identity at the output

    def _act_prime(self, l: int, a: Tensor) -> Tensor:
        return self.f_prime(a) if l < self.n_layers - 1 else torch.ones_like(a)

    def _check_x(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=2, last_dim=self.sizes[0], floating=True)
        w = self.weights[0]
        if x.device != w.device or x.dtype != w.dtype:
            raise ValueError(f"x must be on the network's device and dtype ({w.device}, "
                             f"{w.dtype}), got ({x.device}, {x.dtype})")
        return x

    def _check_layers(self, name: str, tensors: Sequence[Tensor], batch: Optional[int] = None,
                      sizes: Optional[Sequence[int]] = None) -> None:
        """One (B, n_l) floating tensor per layer l = 1..L (or of ``sizes``), B shared."""
        sizes = self.sizes[1:] if sizes is None else sizes
        if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
            raise TypeError(f"{name} must be a list of {len(sizes)} tensors, got "
                            f"{type(tensors).__name__}")
        if len(tensors) != len(sizes):
            raise ValueError(f"{name} must hold {len(sizes)} tensors, one per layer, got "
                             f"{len(tensors)}")
        for l, (t, n) in enumerate(zip(tensors, sizes)):
            check_tensor(f"{name}[{l}]", t, ndim=2, last_dim=n, floating=True)
            batch = t.shape[0] if batch is None else batch
            if t.shape[0] != batch:
                raise ValueError(f"{name} must share one batch size, got {batch} and "
                                 f"{t.shape[0]} ({name}[{l}])")

    def feedforward(self, x: Tensor) -> list[Tensor]:
        r"""The values of the feed-forward pass, $x_0 = x$, $x_{l+1} = f_l(W_l x_l + b_l)$:
        a list of $L + 1$ tensors (B, n_l), where every prediction error is zero."""
        xs = [self._check_x(x)]
        for l in range(self.n_layers):
            xs.append(self._act(l, xs[-1] @ self.weights[l].T + self.biases[l]))
        return xs

    def forward(self, x: Tensor) -> Tensor:
        """The network's output $x_L$ by the feed-forward pass: (B, n_0) -> (B, n_L)."""
        return self.feedforward(x)[-1]

    def errors(self, values: Sequence[Tensor]) -> list[Tensor]:
        r"""$\varepsilon_{l+1} = x_{l+1} - f_l(W_l x_l + b_l)$ for $l = 0, \dots, L-1$."""
        self._check_layers("values", values, sizes=self.sizes)       # x_0..x_L
        return [values[l + 1] - self._act(l, values[l] @ self.weights[l].T + self.biases[l])
                for l in range(self.n_layers)]

    def energy(self, values: Sequence[Tensor], output_precision: float = 1.0) -> Tensor:
        r"""$F = \sum_l \tfrac{\pi_l}2 \lVert \varepsilon_l \rVert^2$ for each example: (B,)."""
        output_precision = check_number("output_precision", output_precision, positive=True)
        errors = self.errors(values)
        xi = _weighted(errors, output_precision)
        return sum(0.5 * (e * w).sum(dim=1) for e, w in zip(errors, xi))

    def value_gradients(self, errors: Sequence[Tensor], pre: Sequence[Tensor],
                        output_precision: float = 1.0) -> list[Tensor]:
        r"""The hand-derived $\partial F / \partial x_l$ for the hidden layers $l = 1, \dots, L-1$:

        $$\frac{\partial F}{\partial x_l} = \xi_l - W_l^\top\big(f_l'(a_{l+1}) \odot \xi_{l+1}\big),
          \qquad \xi_l = \pi_l\, \varepsilon_l,$$

        the node's own error minus the errors it failed to predict, fed back through $W_l$
        ($\xi$ are the precision-weighted errors). ``errors`` $= (\varepsilon_1..\varepsilon_L)$,
        ``pre`` $= (a_1..a_L)$.
        """
        output_precision = check_number("output_precision", output_precision, positive=True)
        self._check_layers("errors", errors)
        self._check_layers("pre", pre, errors[0].shape[0])
        xi = _weighted(errors, output_precision)
        return [xi[l - 1] - (self._act_prime(l, pre[l]) * xi[l]) @ self.weights[l]
                for l in range(1, self.n_layers)]

    @torch.no_grad()
    def infer(self, x: Tensor, target: Tensor, *, n_iters: int = 20, step_size: float = 0.1,
              fixed_predictions: bool = False, output_precision: float = 1.0) -> PCState:
        r"""Inference: clamp $x_0$ = ``x`` and $x_L$ = ``target``, start the hidden value nodes
        at their feed-forward values, and take ``n_iters`` gradient steps
        $x_l \leftarrow x_l - \eta\, \partial F / \partial x_l$ (``step_size`` $= \eta$).

        Strict dynamics (default): the predictions $\mu_{l+1} = f_l(W_l x_l + b_l)$ move with
        the value nodes. ``fixed_predictions=True``: the predictions, and the gains
        $f'(a)$, stay at their feed-forward values (the fixed-prediction assumption), so
        $\varepsilon_l = x_l - \bar\mu_l$ and the dynamics is linear.
        ``output_precision`` $= \pi_L$ weights the output error in $F$.
        """
        check_tensor("x", x, ndim=2, min_batch=1)
        check_tensor("target", target, ndim=2, last_dim=self.sizes[-1], floating=True)
        n_iters = check_int("n_iters", n_iters, min_value=0)
        step_size = check_number("step_size", step_size, positive=True)
        output_precision = check_number("output_precision", output_precision, positive=True)
        ff = self.feedforward(x)
        if target.shape[0] != x.shape[0] or target.device != x.device:
            raise ValueError(f"target must have one row per row of x ({x.shape[0]}) on "
                             f"{x.device}, got shape {tuple(target.shape)} on {target.device}")
        values = ff[:-1] + [target.to(x.dtype)]
        # a_{l+1} = W_l x_l + b_l; x_0 is clamped, so a_1 never changes
        pre = [ff[l] @ self.weights[l].T + self.biases[l] for l in range(self.n_layers)]
        mu = ff[1:]                                                    # feed-forward predictions
        energies = []
        for it in range(n_iters + 1):
            if not fixed_predictions and it > 0:
                pre = pre[:1] + [values[l] @ self.weights[l].T + self.biases[l]
                                 for l in range(1, self.n_layers)]
                mu = [self._act(l, a) for l, a in enumerate(pre)]
            errors = [v - m for v, m in zip(values[1:], mu)]           # eps_{l+1} = x_{l+1} - mu_{l+1}
            xi = _weighted(errors, output_precision)
            energies.append(sum(0.5 * (e * w).sum(dim=1) for e, w in zip(errors, xi)).mean())
            if it == n_iters:
                break
            grads = self.value_gradients(errors, pre, output_precision)
            values = ([values[0]] + [v - step_size * g for v, g in zip(values[1:-1], grads)]
                      + [values[-1]])
        inputs = ff[:-1] if fixed_predictions else values[:-1]
        return PCState(values=values, inputs=list(inputs), pre=pre, errors=errors,
                       output_precision=output_precision, energies=torch.stack(energies))

    def _check_state(self, state: PCState) -> None:
        """A state of this network's shape (errors, pre, inputs of one batch)."""
        try:
            self._check_layers("errors", state.errors)
            batch = state.errors[0].shape[0]
            self._check_layers("pre", state.pre, batch)
            self._check_layers("inputs", state.inputs, batch, self.sizes[:-1])
            check_number("output_precision", state.output_precision, positive=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"state must come from this network's infer: {exc}") from None

    @torch.no_grad()
    def weight_updates(self, state: PCState) -> list[tuple[Tensor, Tensor]]:
        r"""The local, Hebbian-type updates at the end of inference, averaged over the batch:

        $$\Delta W_l = \big\langle (\xi_{l+1} \odot f_l'(a_{l+1}))\, x_l^\top \big\rangle,\qquad
          \Delta b_l = \big\langle \xi_{l+1} \odot f_l'(a_{l+1}) \big\rangle,$$

        a postsynaptic term (the precision-weighted error $\xi_{l+1} = \pi_{l+1}\varepsilon_{l+1}$
        times the gain) times the presynaptic activity; $\Delta W_l = -\partial \bar F / \partial W_l$.
        Returns one pair (dW (n_{l+1}, n_l), db (n_{l+1},)) per layer.
        """
        if not isinstance(state, PCState):
            raise TypeError(f"state must be a PCState (from PCNetwork.infer), "
                            f"got {type(state).__name__}")
        self._check_state(state)
        batch = state.errors[0].shape[0]
        xi = _weighted(state.errors, state.output_precision)
        updates = []
        for l in range(self.n_layers):
            delta = xi[l] * self._act_prime(l, state.pre[l])             # (B, n_{l+1})
            updates.append((delta.T @ state.inputs[l] / batch, delta.mean(dim=0)))
        return updates

    @torch.no_grad()
    def set_gradients(self, updates: Sequence[tuple[Tensor, Tensor]]) -> None:
        r"""Store $-\Delta W$ in each parameter's ``.grad``, so that any torch optimiser steps
        along the predictive-coding update."""
        _check_pairs("updates", updates)
        if len(updates) != self.n_layers:
            raise ValueError(f"updates must hold {self.n_layers} (dW, db) pairs, got {len(updates)}")
        for (dw, db), w, b in zip(updates, self.weights, self.biases):
            if dw.shape != w.shape or db.shape != b.shape:
                raise ValueError(f"updates: shapes {tuple(dw.shape)}, {tuple(db.shape)} do not "
                                 f"match the parameters {tuple(w.shape)}, {tuple(b.shape)}")
        for (dw, db), w, b in zip(updates, self.weights, self.biases):
            w.grad, b.grad = -dw.clone(), -db.clone()


def _check_pairs(name: str, pairs) -> None:
    """A sequence of (weight, bias) pairs of finite floating tensors, one per layer."""
    if isinstance(pairs, Tensor) or not isinstance(pairs, (list, tuple)):
        raise TypeError(f"{name} must be a list of (weight, bias) pairs of tensors, got "
                        f"{type(pairs).__name__}")
    for l, pair in enumerate(pairs):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"{name}[{l}] must be a (weight, bias) pair of tensors, got {pair!r}")
        for t, what in zip(pair, ("weight", "bias")):
            check_tensor(f"{name}[{l}] ({what})", t, floating=True)


def mse_loss(output: Tensor, target: Tensor) -> Tensor:
    r"""$\mathcal L = \big\langle \tfrac12 \lVert y - x_L \rVert^2 \big\rangle$, the batch mean: the
    energy of the feed-forward state with the output clamped to the target."""
    check_tensor("output", output, ndim=2, floating=True, min_batch=1)
    check_tensor("target", target, ndim=2, floating=True)
    check_same_shape("output", output, "target", target)
    return 0.5 * ((target - output) ** 2).sum(dim=1).mean()


def backprop_gradients(net: PCNetwork, x: Tensor, target: Tensor) -> list[tuple[Tensor, Tensor]]:
    r"""Backprop's gradients of :func:`mse_loss` for the feed-forward network, by autograd:
    one pair $(\partial \mathcal L / \partial W_l, \partial \mathcal L / \partial b_l)$ per layer."""
    if not isinstance(net, PCNetwork):
        raise TypeError(f"net must be a PCNetwork, got {type(net).__name__}")
    check_tensor("x", x, ndim=2, min_batch=1)
    check_tensor("target", target, ndim=2, last_dim=net.sizes[-1], min_batch=x.shape[0])
    if target.shape[0] != x.shape[0]:
        raise ValueError(f"target must have one row per row of x ({x.shape[0]}), got shape "
                         f"{tuple(target.shape)}")
    params = [p for pair in zip(net.weights, net.biases) for p in pair]
    grads = torch.autograd.grad(mse_loss(net(x), target), params)
    return [(grads[2 * l], grads[2 * l + 1]) for l in range(net.n_layers)]


def nudged_target(output: Tensor, target: Tensor, gamma: float) -> Tensor:
    r"""$\hat x_L + \gamma\,(y - \hat x_L)$: the target moved a fraction ``gamma`` of the way
    from the network's own output $\hat x_L$, so that the output error is $\gamma$ times
    the feed-forward one. As $\gamma \to 0$ the strict dynamics linearise, but the weight
    updates divided by $\gamma$ do **not** tend to backprop's: they tend to the linear
    response of the strict equilibrium, whose output error is the feed-forward error
    filtered by a matrix that depends on the weights and precisions but not on $\gamma$
    (with one hidden layer, $(I + \pi_L J J^\top)^{-1}$, $J$ the Jacobian of the output
    with respect to the hidden layer). A small output precision, ``PCNetwork.infer(...,
    output_precision=gamma)``, is what makes them converge."""
    check_tensor("output", output, ndim=2, floating=True)
    check_tensor("target", target, ndim=2, floating=True)
    check_same_shape("output", output, "target", target)
    gamma = check_number("gamma", gamma, positive=True)
    return output + gamma * (target - output)


def cosine_similarity(u: Tensor, v: Tensor) -> float:
    r"""$\langle u, v\rangle / (\lVert u\rVert \lVert v\rVert)$ of two same-shaped tensors, flattened."""
    check_tensor("u", u, floating=True)
    check_tensor("v", v, floating=True)
    check_same_shape("u", u, "v", v)
    u, v = u.reshape(-1).double(), v.reshape(-1).double()
    norm = u.norm() * v.norm()
    if norm == 0:
        raise ValueError("cosine similarity is undefined for a zero tensor")
    return float(u @ v / norm)


def alignment(updates: Sequence[tuple[Tensor, Tensor]],
              gradients: Sequence[tuple[Tensor, Tensor]], scale: float = 1.0) -> dict[str, list[float]]:
    r"""Per layer, how close the updates $\Delta\theta_l$ (weights and biases together) are to
    the negative gradients $-\nabla_{\theta_l}\mathcal L$: the cosine similarity, and the
    relative error $\lVert \Delta\theta_l / \text{scale} + \nabla_{\theta_l} \mathcal L \rVert
    / \lVert \nabla_{\theta_l}\mathcal L \rVert$."""
    _check_pairs("updates", updates)
    _check_pairs("gradients", gradients)
    if len(updates) != len(gradients):
        raise ValueError(f"updates and gradients must have as many layers, got {len(updates)} "
                         f"and {len(gradients)}")
    for l, ((dw, db), (gw, gb)) in enumerate(zip(updates, gradients)):
        if dw.shape != gw.shape or db.shape != gb.shape:
            raise ValueError(f"updates[{l}] and gradients[{l}] must have the same shapes, got "
                             f"{tuple(dw.shape)}, {tuple(db.shape)} and {tuple(gw.shape)}, "
                             f"{tuple(gb.shape)}")
    scale = check_number("scale", scale, positive=True)
    cos, rel = [], []
    for (dw, db), (gw, gb) in zip(updates, gradients):
        d = torch.cat([dw.reshape(-1), db.reshape(-1)]).double() / scale
        g = -torch.cat([gw.reshape(-1), gb.reshape(-1)]).double()
        cos.append(cosine_similarity(d, g))
        rel.append(float((d - g).norm() / g.norm()))
    return {"cosine": cos, "relative_error": rel}


def pc_train_step(net: PCNetwork, optimizer: torch.optim.Optimizer, x: Tensor, target: Tensor, *,
                  n_iters: int = 20, step_size: float = 0.1,
                  fixed_predictions: bool = False) -> dict[str, float]:
    r"""One learning step of predictive coding: inference (:meth:`PCNetwork.infer`), the local
    updates (:meth:`PCNetwork.weight_updates`) written into ``.grad`` as $-\Delta W$, and
    ``optimizer.step()``. Returns ``loss``, the feed-forward :func:`mse_loss` before the
    step (the energy before inference), and ``energy``, the energy after inference."""
    if not isinstance(net, PCNetwork):
        raise TypeError(f"net must be a PCNetwork, got {type(net).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    state = net.infer(x, target, n_iters=n_iters, step_size=step_size,
                      fixed_predictions=fixed_predictions)
    net.set_gradients(net.weight_updates(state))
    optimizer.step()
    return {"loss": state.energies[0], "energy": state.energies[-1]}


# ------------------------------------------------------------------------ active inference

def heat_source(x: Tensor, peak: float = 20.0) -> tuple[Tensor, Tensor]:
    r"""The temperature of a one-dimensional world with a heat source at $x = 0$, and its slope:

    $$T(x) = \frac{T_0}{1 + x^2},\qquad T'(x) = -\frac{2 T_0\, x}{(1 + x^2)^2},$$

    elementwise in ``x`` (any shape); ``peak`` $= T_0$."""
    check_tensor("x", x, floating=True)
    return _heat_source(x, check_number("peak", peak, positive=True))


def _heat_source(x: Tensor, peak: float) -> tuple[Tensor, Tensor]:
    denom = 1 + x * x
    return peak / denom, -2 * peak * x / (denom * denom)


@dataclass
class ThermalAgent:
    r"""A minimal active-inference agent (after the agent of Buckley et al., 2017, without
    generalised coordinates).

    Its generative model says that the temperature $\psi$ it experiences is
    $\mathcal N(m, \sigma_p^2)$, with $m$ = ``preferred`` (what it expects is what it
    prefers), and that the sensed temperature is $s \mid \psi \sim \mathcal N(\psi, \sigma_s^2)$.
    Its internal state $\mu$ encodes $q(\psi) = \mathcal N(\mu, v^*)$ with the posterior
    variance $v^* = (1/\sigma_p^2 + 1/\sigma_s^2)^{-1}$ (the Laplace approximation, exact for
    this linear model), so that

    $$F(s, \mu) = \frac{(\mu - m)^2}{2\sigma_p^2} + \frac{(s - \mu)^2}{2\sigma_s^2}
      + \tfrac12\log\frac{2\pi\sigma_p^2\,\sigma_s^2}{v^*}
      = \underbrace{\tfrac12\log 2\pi(\sigma_p^2 + \sigma_s^2)
        + \frac{(s - m)^2}{2(\sigma_p^2 + \sigma_s^2)}}_{-\log p(s)}
      + \underbrace{\frac{(\mu - \mu^*)^2}{2 v^*}}_{D_{\mathrm{KL}}[q \,\|\, p(\psi \mid s)]},$$

    $\mu^* = v^*(m/\sigma_p^2 + s/\sigma_s^2)$ the posterior mean. The three rates scale the
    three routes that lower $F$ (see :func:`active_inference`): perception, action (0 turns
    it off) and learning of $m$ (0 by default: a preference is not given up).
    """

    preferred: float = 4.0
    prior_var: float = 1.0
    sensory_var: float = 0.25
    perception_rate: float = 1.0
    action_rate: float = 0.05
    learning_rate: float = 0.0

    def __post_init__(self):
        self.preferred = check_number("preferred", self.preferred)
        self.prior_var = check_number("prior_var", self.prior_var, positive=True)
        self.sensory_var = check_number("sensory_var", self.sensory_var, positive=True)
        for name in ("perception_rate", "action_rate", "learning_rate"):
            setattr(self, name, check_number(name, getattr(self, name), nonnegative=True))

    def _checked_prior_mean(self, s: Tensor, mu: Optional[Tensor],
                      prior_mean: Optional[Number]) -> Number:
        """Sensations ``s`` and beliefs ``mu`` (floating tensors that broadcast), and the
        prior mean (``None``: the preferred temperature; a number, or a tensor); returns it."""
        check_tensor("s", s, floating=True)
        named = {"s": s}
        if mu is not None:
            named["mu"] = check_tensor("mu", mu, floating=True)
        if prior_mean is None:
            prior_mean = self.preferred
        elif isinstance(prior_mean, Tensor):
            named["prior_mean"] = check_tensor("prior_mean", prior_mean, floating=True)
        else:
            prior_mean = check_number("prior_mean", prior_mean)
        check_broadcast_together(**named)
        return prior_mean

    @property
    def posterior_var(self) -> float:
        r"""$v^* = (1/\sigma_p^2 + 1/\sigma_s^2)^{-1}$, the width of $q$."""
        return 1 / (1 / self.prior_var + 1 / self.sensory_var)

    def prediction_errors(self, s: Tensor, mu: Tensor, prior_mean: Optional[Tensor] = None
                          ) -> tuple[Tensor, Tensor]:
        r"""$\varepsilon_s = (s - \mu)/\sigma_s^2 = \partial F/\partial s$ and
        $\varepsilon_p = (\mu - m)/\sigma_p^2 = -\partial F/\partial m$;
        $\partial F / \partial \mu = \varepsilon_p - \varepsilon_s$."""
        m = self._checked_prior_mean(s, mu, prior_mean)
        return (s - mu) / self.sensory_var, (mu - m) / self.prior_var

    def free_energy(self, s: Tensor, mu: Tensor, prior_mean: Optional[Tensor] = None) -> Tensor:
        r"""$F(s, \mu)$ of the class docstring, elementwise (nats)."""
        m = self._checked_prior_mean(s, mu, prior_mean)
        const = 0.5 * math.log(2 * math.pi * self.prior_var * self.sensory_var / self.posterior_var)
        return ((mu - m) ** 2 / (2 * self.prior_var) + (s - mu) ** 2 / (2 * self.sensory_var)
                + const)

    def surprise(self, s: Tensor, prior_mean: Optional[Tensor] = None) -> Tensor:
        r"""$-\log p(s) = \tfrac12\log 2\pi(\sigma_p^2 + \sigma_s^2) + (s - m)^2 / (2(\sigma_p^2 + \sigma_s^2))$:
        what $F$ comes down to when $\mu$ is the posterior mean."""
        m = self._checked_prior_mean(s, None, prior_mean)
        var = self.prior_var + self.sensory_var
        return 0.5 * math.log(2 * math.pi * var) + (s - m) ** 2 / (2 * var)


@torch.no_grad()
def active_inference(agent: ThermalAgent, x0: Tensor, *, n_steps: int, dt: float = 0.01,
                     mu0: Optional[Tensor] = None, peak: float = 20.0,
                     generator: Optional[torch.Generator] = None,
                     noise: Optional[Tensor] = None) -> dict[str, Tensor]:
    r"""Simulate ``agent`` in the world of :func:`heat_source`, from positions ``x0`` (any
    shape: one agent per entry) and beliefs ``mu0`` (default: the preferred temperature).

    Each step of length $\Delta t$ senses $s = T(x) + \sigma_s \omega$, $\omega \sim \mathcal N(0, 1)$
    (drawn with ``generator``, or given as ``noise`` (n_steps, *x0.shape)), then descends $F$:

    $$\begin{aligned}
      \text{perception}\quad & \mu \leftarrow \mu - \Delta t\,\kappa_\mu\,\partial F/\partial\mu
          = \mu + \Delta t\,\kappa_\mu(\varepsilon_s - \varepsilon_p),\\
      \text{action}\quad & x \leftarrow x + \Delta t\,a,\qquad
          a = -\kappa_a\,\frac{\partial F}{\partial s}\,\frac{\partial s}{\partial x}
            = -\kappa_a\,\varepsilon_s\,T'(x),\\
      \text{learning}\quad & m \leftarrow m - \Delta t\,\kappa_m\,\partial F/\partial m
          = m + \Delta t\,\kappa_m\,\varepsilon_p,
    \end{aligned}$$

    with the errors of :meth:`ThermalAgent.prediction_errors`. The agent is assumed to
    know how its sensation changes when it moves, $\partial s/\partial x = T'(x)$ (a
    reflex), but not where the preferred temperature is. Returns trajectories, each
    (n_steps, *x0.shape), recorded before each step's updates: ``x``, ``temperature``
    $T(x)$, ``s``, ``mu``, ``prior_mean``, ``action``, ``free_energy`` $F(s, \mu)$ and
    ``surprise`` $-\log p(s)$; and ``t`` (n_steps,).
    """
    if not isinstance(agent, ThermalAgent):
        raise TypeError(f"agent must be a ThermalAgent, got {type(agent).__name__}")
    check_tensor("x0", x0, floating=True)
    n_steps = check_int("n_steps", n_steps, min_value=1)
    dt = check_number("dt", dt, positive=True)
    check_generator("generator", generator)
    if mu0 is None:
        mu0 = torch.full_like(x0, agent.preferred)
    check_tensor("mu0", mu0, floating=True)
    check_same_shape("x0", x0, "mu0", mu0)
    if noise is None:
        noise = randn((n_steps, *x0.shape), generator, device=x0.device, dtype=x0.dtype)
    check_tensor("noise", noise, floating=True)
    if tuple(noise.shape) != (n_steps, *x0.shape):
        raise ValueError(f"noise must have shape {(n_steps, *x0.shape)}, got {tuple(noise.shape)}")
    peak = check_number("peak", peak, positive=True)
    x, mu, m = x0.clone(), mu0.clone(), torch.full_like(x0, agent.preferred)
    keys = ("x", "temperature", "s", "mu", "prior_mean", "action")
    out: dict[str, list] = {k: [] for k in keys}
    sd = math.sqrt(agent.sensory_var)
    for t in range(n_steps):
        temp, slope = _heat_source(x, peak)
        s = temp + sd * noise[t]
        eps_s, eps_p = agent.prediction_errors(s, mu, m)
        a = -agent.action_rate * eps_s * slope               # -k_a (dF/ds)(ds/dx), dF/ds = eps_s
        for k, v in zip(keys, (x, temp, s, mu, m, a)):
            out[k].append(v)
        mu = mu + dt * agent.perception_rate * (eps_s - eps_p)
        x = x + dt * a
        m = m + dt * agent.learning_rate * eps_p
    result = {k: torch.stack(v) for k, v in out.items()}
    result["free_energy"] = agent.free_energy(result["s"], result["mu"], result["prior_mean"])
    result["surprise"] = agent.surprise(result["s"], result["prior_mean"])
    result["t"] = torch.arange(n_steps, dtype=x0.dtype, device=x0.device) * dt
    return result

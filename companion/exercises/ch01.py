"""Checkers for the exercises of chapter 1, energy functions and inference.

Every checker compares the reader's answer with an independent computation: a numerical
limit (softmax at an extreme inverse temperature), adaptive quadrature, automatic
differentiation, or the companion's own implementation on fresh random inputs.
"""
from __future__ import annotations

import math

import torch
from scipy import integrate, optimize

from .. import energy
from ._core import Mistake, function_exercise, value_exercise
from ._inputs import uniform

SEC_INFERENCE = "Inference is minimisation"
SEC_GIBBS = "The Gibbs-Boltzmann distribution"
SEC_FREE = "Free energy: eliminating the latent variable"


def _log_uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return float(math.exp(uniform(gen, math.log(lo), math.log(hi), 1)))


# --------------------------------------------------------------------- 01-beta-limits
def _limit_cases(gen):
    """Energies of a few states: integer ones with a tied minimum, and continuous ones."""
    cases = []
    for n in (6, 9):
        e = torch.randint(0, 4, (n,), generator=gen).to(torch.float64)
        i, j = torch.randperm(n, generator=gen)[:2].tolist()
        e[i] = e[j] = e.min()                         # at least two minimisers
        cases.append((e,))
    cases.append((uniform(gen, 0.0, 3.0, 7),))
    return cases


def _numerical_limits(e):
    """The Gibbs-Boltzmann probabilities at a tiny and a huge inverse temperature."""
    return energy.boltzmann(e, 1e-9), energy.boltzmann(e, 1e9)


def _one_minimiser(e):
    cold = torch.zeros_like(e)
    cold[e.argmin()] = 1.0
    return torch.full_like(e, 1 / len(e)), cold


function_exercise(
    "01-beta-limits", kind="derive", section=SEC_GIBBS,
    cases=_limit_cases, reference=_numerical_limits, rtol=0.0, atol=1e-6,
    mistakes=[
        Mistake("all the mass on one minimiser",
                "when several states share the lowest energy, e^{-beta E} is the same for each "
                "of them at every beta, so the cold limit splits the mass equally among them.",
                _one_minimiser),
        Mistake("hot and cold limits swapped",
                "beta -> 0 is the hot limit (every state alike), beta -> infinity the cold one.",
                lambda e: tuple(reversed(_numerical_limits(e)))),
    ],
    hint="return (p_hot, p_cold): the beta -> 0 and beta -> infinity limits of "
         "e^{-beta E_i} / sum_j e^{-beta E_j}; test your answer on energies with ties.")


# --------------------------------------------------------------------- 01-laplace-gap
def _gap_cases(gen):
    return [(_log_uniform(gen, 0.05, 300.0), float(uniform(gen, 0.5, 8.0, 1)))
            for _ in range(5)]


def _quadratic_gap_by_quadrature(beta, k):
    r"""$F_\beta - E_{\min}$ for $E(z) = E_{\min} + \frac k2 z^2$ on the real line, by quadrature."""
    value, _ = integrate.quad(lambda z: math.exp(-beta * k * z * z / 2), -math.inf, math.inf,
                              epsabs=0.0, epsrel=1e-12, limit=200)
    return -math.log(value) / beta


function_exercise(
    "01-laplace-gap", kind="derive", section=SEC_FREE,
    cases=_gap_cases, reference=_quadratic_gap_by_quadrature, rtol=1e-7, atol=1e-10,
    mistakes=[
        Mistake("forgetting the 1/beta",
                "F_beta = -(1/beta) log of the integral: divide the log by beta.",
                lambda beta, k: 0.5 * math.log(beta * k / (2 * math.pi))),
        Mistake("a missing minus sign",
                "F_beta is MINUS (1/beta) times the log of the integral; check the sign by "
                "letting beta grow: the integral shrinks, so F_beta - E_min must become positive.",
                lambda beta, k: -math.log(beta * k / (2 * math.pi)) / (2 * beta)),
    ],
    hint="the integral of exp(-beta k z^2 / 2) over the real line is a Gaussian integral.")


# --------------------------------------------------------------------- 01-free-energy-grad
_LVM = energy.EllipseLVM()


def _grad_cases(gen):
    return [(uniform(gen, -2.5, 2.5, 6, 2), _log_uniform(gen, 0.3, 30.0)) for _ in range(3)]


def _free_energy_grad_autograd(y, beta):
    y = y.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_LVM.free_energy(0.0, y, beta, n_z=512).sum(), y)
    return grad


def _zero_temperature_grad(y, beta):
    e, z, _ = _LVM.energy_grid(0.0, y, n_z=512)
    return 2 * (y - _LVM.decode(0.0, z[e.argmin(dim=1)]))


function_exercise(
    "01-free-energy-grad", kind="derive", section=SEC_FREE,
    cases=_grad_cases, reference=_free_energy_grad_autograd, rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("the zero-temperature gradient",
                "that is the gradient at the best angle only (the beta -> infinity limit); at "
                "finite beta every angle contributes, weighted by P_beta(z | x, y).",
                _zero_temperature_grad),
    ],
    hint="differentiate -(1/beta) log sum_j exp(-beta E(y, z_j)) dz with respect to y: the "
         "result is an average of grad_y E(y, z_j) = 2 (y - g(0, z_j)) with softmax weights.")


# --------------------------------------------------------------------- 01-free-energy
def _free_energy_cases(gen):
    return [(uniform(gen, 0.0, 3.0, 4, 50), _log_uniform(gen, 0.2, 5.0), 0.1),
            (uniform(gen, 0.0, 2.0, 64), _log_uniform(gen, 0.5, 2.0), 2 * math.pi / 64),
            (uniform(gen, 5.0, 10.0, 3, 200), 300.0, 0.03)]       # exp(-beta E) underflows


def _lse(e, beta, dz, sign=-1.0):
    return torch.logsumexp(sign * beta * e, dim=-1) + math.log(dz)


function_exercise(
    "01-free-energy", kind="code", section=SEC_FREE,
    cases=_free_energy_cases, reference=energy.free_energy, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("argmin instead of min",
                "the argmin is where the lowest energy sits (an angle), not an energy; and at "
                "finite beta the free energy is a soft minimum of the energies, not the minimum.",
                lambda e, beta, dz: e.argmin(dim=-1).to(e.dtype) * dz),
        Mistake("the minimum at every beta",
                "min_z E is only the beta -> infinity limit; at finite beta add up "
                "exp(-beta E) over the grid (log-sum-exp).",
                lambda e, beta, dz: e.min(dim=-1).values),
        Mistake("forgetting the 1/beta",
                "F_beta = -(1/beta) log sum_j exp(-beta E_j) dz: divide by beta.",
                lambda e, beta, dz: -_lse(e, beta, dz)),
        Mistake("the sign of the exponent",
                "the exponent is -beta E: low energies must dominate the sum.",
                lambda e, beta, dz: -_lse(e, beta, dz, sign=1.0) / beta),
        Mistake("forgetting dz",
                "the sum approximates an integral: multiply by dz (add log dz inside).",
                lambda e, beta, dz: -torch.logsumexp(-beta * e, dim=-1) / beta),
    ],
    hint="F = -(1/beta) (logsumexp(-beta E) + log dz) over the last axis; torch.logsumexp "
         "keeps it finite when exp(-beta E) underflows.")


# --------------------------------------------------------------------- 01-boltzmann
def _boltzmann_cases(gen):
    return [(uniform(gen, 0.0, 4.0, 30), _log_uniform(gen, 0.5, 3.0), 0.1),
            (uniform(gen, 0.0, 3.0, 8, 9), _log_uniform(gen, 0.3, 2.0), 0.04),
            (uniform(gen, 20.0, 30.0, 50), 50.0, 0.2)]             # exp(-beta E) underflows


def _plus_sign(e, beta, cell):
    return torch.exp(-beta * e) / (torch.exp(beta * e).sum() * cell)


function_exercise(
    "01-boltzmann", kind="code", section=SEC_GIBBS,
    cases=_boltzmann_cases, reference=energy.boltzmann, rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("a plus sign in the normaliser",
                "the denominator is the sum of the numerator, exp(-beta E), over every grid "
                "point: the same sign as the numerator.",
                _plus_sign),
        Mistake("forgetting the cell area",
                "those are probabilities of the grid cells; a density divides them by the "
                "cell's area, so that sum(p) * cell = 1.",
                lambda e, beta, cell: torch.softmax(-beta * e.reshape(-1), 0).reshape(e.shape)),
        Mistake("normalising each row separately",
                "the grid is one distribution: normalise over all its points, not along the "
                "last axis.",
                lambda e, beta, cell: torch.softmax(-beta * e, dim=-1) / cell),
    ],
    hint="p = exp(-beta E) / (sum over all points of exp(-beta E) * cell); subtract the "
         "smallest energy before exponentiating (or use torch.softmax), so nothing underflows.")


# --------------------------------------------------------------------- 01-gradient-descent
def _quadratic(A, b):
    return lambda y: 0.5 * torch.einsum("bi,ij,bj->b", y, A, y) - y @ b


def _descent_cases(gen):
    cases = []
    for d in (2, 3):
        M = torch.randn(d, d, generator=gen, dtype=torch.float64)
        A, b = M @ M.T / d + torch.eye(d, dtype=torch.float64), torch.randn(d, generator=gen,
                                                                             dtype=torch.float64)
        cases.append((_quadratic(A, b), uniform(gen, -2.0, 2.0, 5, d), 30, 0.05))
    x = float(uniform(gen, -1.0, 1.0, 1))
    wells = energy.Wells()
    cases.append((lambda y: wells(x, y), uniform(gen, -2.0, 2.0, 6, 2), 40, 0.05))
    return cases


def _descent_reference(energy_fn, y0, n_steps, step_size):
    return energy.gradient_descent(energy_fn, y0, n_steps=n_steps, step_size=step_size)


def _descent_with(energy_fn, y0, n_steps, step_size, sign=-1.0, reduce="sum"):
    y = y0.clone()
    for _ in range(n_steps):
        y.requires_grad_(True)
        e = energy_fn(y)
        (g,) = torch.autograd.grad(e.sum() if reduce == "sum" else e.mean(), y)
        y = (y + sign * step_size * g).detach()
    return y


function_exercise(
    "01-gradient-descent", kind="code", section=SEC_INFERENCE,
    cases=_descent_cases, reference=_descent_reference, rtol=1e-7, atol=1e-9,
    mistakes=[
        Mistake("a missing minus sign",
                "that walks uphill (gradient ascent): y <- y - step_size * grad E.",
                lambda *a: _descent_with(*a, sign=1.0)),
        Mistake("averaging the batch's energies before differentiating",
                "the gradient of the mean over the batch is each point's gradient divided by "
                "the batch size; differentiate the sum, whose gradient with respect to row b "
                "is the gradient of E(y_b) alone.",
                lambda *a: _descent_with(*a, reduce="mean")),
    ],
    hint="n_steps times: y <- y - step_size * grad_y E(y), the gradient from "
         "torch.autograd.grad(energy_fn(y).sum(), y).")


# --------------------------------------------------------------------- 01-split-beta
def _centre_curvature(beta: float) -> float:
    """Smallest eigenvalue of the Hessian of F_beta(x = 0, y) at the centre y = 0, by autograd."""
    fn = lambda y: _LVM.free_energy(0.0, y[None], beta, n_z=512).sum()  # noqa: E731
    hess = torch.autograd.functional.hessian(fn, torch.zeros(2, dtype=torch.float64))
    return float(torch.linalg.eigvalsh(hess).min())


def split_beta() -> float:
    r"""The inverse temperature at which $P_\beta(y \mid x = 0)$ of the ellipse model stops
    peaking at the centre: where the centre stops being a minimum of $F_\beta$ (bisection)."""
    return optimize.brentq(_centre_curvature, 0.1, 2.0, xtol=1e-6)


value_exercise(
    "01-split-beta", kind="explore", section=SEC_FREE, expected=split_beta, rtol=0.0, atol=0.1,
    hint="move the slider up from beta = 0.1 and watch the free energy along the axis y2 = 0: "
         "find the first beta at which its minimum at the centre turns into two minima.",
    show=lambda v: f"(the single peak at the centre splits at beta = {v:.3f})")


# --------------------------------------------------------------------- 01-gap-beta
GAP_POINT = (1.9, 0.6)


def gap_beta(target: float = 0.01) -> float:
    r"""The $\beta$ above which $F_\beta(0, y_0) - \min_z E(0, y_0, z)$ stays below ``target``
    for $y_0$ = ``GAP_POINT`` (bisection in $\log\beta$ on the grid free energy)."""
    y0 = torch.tensor([GAP_POINT], dtype=torch.float64)
    e_min = _LVM.min_energy(0.0, y0)[0].item()
    gap = lambda lb: _LVM.free_energy(0.0, y0, 10**lb, n_z=8192).item() - e_min - target  # noqa: E731
    return 10 ** optimize.brentq(gap, 1.0, 4.0, xtol=1e-6)


value_exercise(
    "01-gap-beta", kind="explore", section=SEC_FREE, expected=gap_beta, rtol=0.2,
    hint="the gap falls like log(beta)/beta: find where the numerical curve crosses 1e-2, "
         "or put more values of beta into the table cell.",
    show=lambda v: f"(the gap falls below 0.01 at beta = {v:.0f})")

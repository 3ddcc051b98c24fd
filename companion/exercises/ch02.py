"""Checkers for the exercises of chapter 2, training energy functions.

Every checker compares the reader's answer with an independent computation: automatic
differentiation through an exactly enumerated partition function, Monte Carlo with the
companion's own sampler, the companion's own implementation (RBM free energies, the NCE
loss, a step of FISTA), numerical minimisation of the score-matching objective, or the
exact stationary law of a discretised Markov kernel.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .. import boltzmann, ebm, samplers
from ._core import (Mistake, Wrong, custom_exercise, function_exercise, name_mistake,
                    value_exercise)
from ._inputs import binary, randn, rbm_from

SEC_ML = "What maximum likelihood asks for"
SEC_MCMC = "Markov chains are slow and correlated"
SEC_LANGEVIN = "Langevin dynamics and its bias"
SEC_CD = "Contrastive divergence"
SEC_NCE = "Noise-contrastive estimation"
SEC_SCORE = "Score matching"
SEC_SPARSE = "Regularised latent-variable methods: sparse coding"

# The sliders of the chapter (the explore exercises read values off them).
STEP_SIZES = (0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4)   # fig-02-ula-mala
MIXTURE_MEANS = ((-1.5,), (1.5,))                                  # its target
MIXTURE_STD = 0.5
COUPLINGS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)                    # fig-02-mixing


# ----------------------------------------------------------------------- 02-ml-gradient
def _ml_cases(gen):
    cases = []
    for d, h, n in [(4, 2, 6), (6, 3, 10), (8, 4, 5)]:
        cases.append((randn(gen, d, h), randn(gen, d, scale=0.5), randn(gen, h, scale=0.5),
                      binary(gen, n, d)))
    return cases


def _loglik_grad_autograd(W, a, b, v):
    """The gradient of the mean exact log-likelihood, by autograd through log Z."""
    rbm = rbm_from(W, a, b)
    return torch.autograd.grad(rbm.log_prob(v).mean(), [rbm.W, rbm.a, rbm.b])


def _phases(W, a, b, v):
    """(positive, negative): data and model averages of (v p(h|v)^T, v, p(h|v))."""
    rbm = rbm_from(W, a, b)
    with torch.no_grad():
        v_all = boltzmann.all_binary_states(W.shape[0], torch.float64)
        p = rbm.log_prob(v_all).exp()
        ph_data, ph_all = rbm.p_h_given_v(v), rbm.p_h_given_v(v_all)
        pos = (v.T @ ph_data / len(v), v.mean(0), ph_data.mean(0))
        neg = ((v_all * p[:, None]).T @ ph_all, p @ v_all, p @ ph_all)
    return pos, neg


function_exercise(
    "02-ml-gradient", kind="derive", section=SEC_ML,
    cases=_ml_cases, reference=_loglik_grad_autograd, rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("leaving out the negative phase",
                "the derivative of -log Z contributes minus the model's average of the same "
                "statistics: sum over all visible vectors, weighted by p(v).",
                lambda W, a, b, v: _phases(W, a, b, v)[0]),
        Mistake("adding the negative phase instead of subtracting it",
                "d log Z / d theta = -E_p[dE/d theta], so the model's average enters with the "
                "opposite sign to the data's.",
                lambda W, a, b, v: tuple(p + n for p, n in zip(*_phases(W, a, b, v)))),
        Mistake("the gradient of the negative log-likelihood",
                "the exercise asks for the gradient of the log-likelihood (data minus model), "
                "the direction in which learning moves the parameters.",
                lambda W, a, b, v: tuple(-g for g in _loglik_grad_autograd(W, a, b, v))),
    ],
    hint="d/dW log p(v) = v p(h|v)^T - E_p[v p(h|v)^T], and similarly for a (v) and b "
         "(p(h|v)); average the first term over the data, compute the second by enumerating "
         "all 2^D visible vectors with their exact probabilities.")


# ----------------------------------------------------------------------- 02-ula-variance
def _ula_cases(gen):
    """(sigma2, eta) with eta / sigma2 in [0.6, 1.6]: a large bias, a stable chain."""
    out = []
    for _ in range(3):
        sigma2 = math.exp(float(torch.empty(1, dtype=torch.float64).uniform_(
            math.log(0.3), math.log(3.0), generator=gen)))
        ratio = float(torch.empty(1, dtype=torch.float64).uniform_(0.6, 1.6, generator=gen))
        out.append((sigma2, ratio * sigma2))
    return out


def _ula_variance_mc(sigma2, eta, gen, n=40_000, n_steps=40):
    """The variance of n unadjusted Langevin chains on N(0, sigma2) after n_steps steps."""
    x0 = math.sqrt(sigma2) * torch.randn(n, 1, generator=gen, dtype=torch.float64)
    x = samplers.langevin(lambda x: x[:, 0] ** 2 / (2 * sigma2), x0, n_steps=n_steps,
                          step_size=eta, generator=gen)
    return x.var().item()


_ULA_MISTAKES = [
    Mistake("ignoring the step-size bias",
            "sigma^2 is the stationary variance of the continuous-time dynamics only; the chain "
            "with a finite step eta overshoots, and its variance is larger.",
            lambda sigma2, eta: sigma2),
    Mistake("keeping only the first-order correction",
            "sigma^2 (1 + eta / (2 sigma^2)) is the first term of the expansion; solve the "
            "fixed-point equation v = (1 - eta/sigma^2)^2 v + 2 eta exactly.",
            lambda sigma2, eta: sigma2 * (1 + eta / (2 * sigma2))),
    Mistake("the standard deviation instead of the variance",
            "the exercise asks for the variance of the stationary distribution, not its square "
            "root.",
            lambda sigma2, eta: math.sqrt(sigma2 / (1 - eta / (2 * sigma2)))),
]


def _check_ula_variance(answer, gen):
    rtol = 0.03                                  # about 4 Monte Carlo standard errors
    cases = _ula_cases(gen)
    got = [float(answer(s2, eta)) for s2, eta in cases]
    mc = [_ula_variance_mc(s2, eta, gen) for s2, eta in cases]
    if all(abs(g - m) <= rtol * m for g, m in zip(got, mc)):
        return "(Monte Carlo with 40,000 chains agrees within 3%.)"
    name_mistake(got, _ULA_MISTAKES, cases, rtol=1e-6, atol=1e-12)
    s2, eta = cases[0]
    raise Wrong(f"for sigma^2 = {s2:.3f}, eta = {eta:.3f} your formula gives {got[0]:.4f}, "
                f"Monte Carlo {mc[0]:.4f}. Hint: at stationarity Var(x_(t+1)) = Var(x_t).")


custom_exercise("02-ula-variance", kind="derive", section=SEC_LANGEVIN,
                checker=_check_ula_variance, mistakes=_ULA_MISTAKES)


# ----------------------------------------------------------------------- 02-cd1
def _cd1_cases(gen):
    cases = []
    for d, h, n in [(6, 3, 5), (10, 4, 8), (7, 5, 12)]:
        W, a, b = randn(gen, d, h, scale=0.7), randn(gen, d, scale=0.5), randn(gen, h, scale=0.5)
        rbm = rbm_from(W, a, b)
        v0 = binary(gen, n, d)
        h0 = rbm.sample_h(v0, gen)
        v1 = rbm.sample_v(h0, gen)
        cases.append((W, a, b, v0, h0, v1))
    return cases


def _cd1_reference(W, a, b, v0, h0, v1):
    """Minus the gradient of the companion's CD loss mean F(v0) - mean F(v1), v1 held fixed."""
    rbm = rbm_from(W, a, b)
    loss = rbm.free_energy(v0).mean() - rbm.free_energy(v1).mean()
    return tuple(-g for g in torch.autograd.grad(loss, [rbm.W, rbm.a, rbm.b]))


def _cd1_with_samples(W, a, b, v0, h0, v1):
    p1 = torch.sigmoid(v1 @ W + b)
    n = len(v0)
    return (v0.T @ h0 / n - v1.T @ p1 / n, (v0 - v1).mean(0), (h0 - p1).mean(0))


def _cd1_positive_only(W, a, b, v0, h0, v1):
    p0 = torch.sigmoid(v0 @ W + b)
    return (v0.T @ p0 / len(v0), v0.mean(0), p0.mean(0))


function_exercise(
    "02-cd1", kind="code", section=SEC_CD,
    cases=_cd1_cases, reference=_cd1_reference, rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("hidden samples instead of probabilities",
                "use p(h = 1 | v0) = sigmoid(v0 W + b) in the positive phase, as the chapter's "
                "cd_loss does (the gradient of the free energy), not the binary sample h0: "
                "it gives the same expected update with less noise.",
                _cd1_with_samples),
        Mistake("the update with the wrong sign",
                "the update raises the log-likelihood: data statistics minus confabulation "
                "statistics (it is minus the gradient of the CD loss).",
                lambda *args: tuple(-g for g in _cd1_reference(*args))),
        Mistake("leaving out the negative phase",
                "subtract the same statistics computed on the confabulation v1: without it, "
                "the update lowers the energy of everything, not only of the data.",
                _cd1_positive_only),
    ],
    hint="dW = (v0^T p(h|v0) - v1^T p(h|v1)) / B, da = mean(v0 - v1), "
         "db = mean(p(h|v0) - p(h|v1)), with p(h|v) = sigmoid(v W + b).")


# ----------------------------------------------------------------------- 02-nce-loss
class _LookupEnergy(nn.Module):
    """E(u) = -u[:, 0]: a 'point' u = (log p~, log q) carries its own model log-density."""

    def forward(self, u):
        return -u[:, 0]


def _nce_reference(lp_d, lq_d, lp_n, lq_n):
    """The companion's NCEModel.loss on points that carry (log p~(x), log q(x))."""
    model = ebm.NCEModel(_LookupEnergy()).double()
    with torch.no_grad():
        return model.loss(torch.stack([lp_d, lq_d], 1), torch.stack([lp_n, lq_n], 1),
                          lambda u: u[:, 1])


def _nce_cases(gen):
    cases = []
    for n, nu in [(6, 2), (10, 4), (8, 5)]:
        m = n * nu
        cases.append((randn(gen, n) - 1, randn(gen, n) - 1.5,
                      randn(gen, m) - 2, randn(gen, m) - 1))
    return cases


def _nce_variant(lp_d, lq_d, lp_n, lq_n, *, log_nu=True, weight=True, sign=1.0):
    nu = len(lp_n) / len(lp_d)
    shift = math.log(nu) if log_nu else 0.0
    g_d = sign * (lp_d - lq_d) - shift
    g_n = sign * (lp_n - lq_n) - shift
    w = nu if weight else 1.0
    return -(nn.functional.logsigmoid(g_d).mean() + w * nn.functional.logsigmoid(-g_n).mean())


function_exercise(
    "02-nce-loss", kind="code", section=SEC_NCE,
    cases=_nce_cases, reference=_nce_reference, rtol=1e-8, atol=1e-10,
    mistakes=[
        Mistake("leaving log ν out of the logit",
                "with nu noise samples per data point the prior odds of 'data' are 1 : nu, so "
                "the logit is log p(x) - log q(x) - log nu; without -log nu the learned density "
                "integrates to 1/nu.",
                lambda *a: _nce_variant(*a, log_nu=False)),
        Mistake("not weighting the noise term by ν",
                "the loss sums over all samples per data point: the mean over the noise "
                "samples is multiplied by nu = (number of noise samples) / (number of data).",
                lambda *a: _nce_variant(*a, weight=False)),
        Mistake("the logit with the wrong sign",
                "the classifier's logit is the log-odds of 'data': log p(x) - log q(x) - log nu.",
                lambda *a: _nce_variant(*a, sign=-1.0)),
    ],
    hint="nu = len(noise) / len(data), G(u) = log p(u) - log q(u) - log nu, loss = "
         "-mean(log sigmoid(G(data))) - nu * mean(log sigmoid(-G(noise))).")


# ----------------------------------------------------------------------- 02-ista
def _ista_cases(gen):
    cases = []
    for b, n, k in [(3, 10, 15), (5, 20, 12), (2, 8, 30)]:
        D = randn(gen, n, k)
        D = D / D.norm(dim=0, keepdim=True)
        z = randn(gen, b, k) * binary(gen, b, k)
        lam = float(torch.empty(1, dtype=torch.float64).uniform_(0.05, 0.5, generator=gen))
        cases.append((randn(gen, b, n), D, z, lam))
    return cases


def _ista_reference(x, D, z, lam):
    """One step of the companion's FISTA from z (its first step is an ISTA step)."""
    sc = ebm.SparseCoding(D.shape[0], D.shape[1], lam=lam).double()
    with torch.no_grad():
        sc.D.copy_(D)
    return sc.infer(x, n_steps=1, z0=z)


def _ista_variant(x, D, z, lam, *, threshold_scale=True, hard=False, sign=1.0):
    L = torch.linalg.matrix_norm(D, ord=2) ** 2
    u = z + sign * (x - z @ D.T) @ D / L
    t = lam / L if threshold_scale else lam
    if hard:
        return u * (u.abs() > t)
    return torch.sign(u) * (u.abs() - t).clamp_min(0)


function_exercise(
    "02-ista", kind="code", section=SEC_SPARSE,
    cases=_ista_cases, reference=_ista_reference, rtol=1e-8, atol=1e-10,
    mistakes=[
        Mistake("thresholding at λ instead of λ/L",
                "the proximal step of size 1/L shrinks by lambda / L, the step size times the "
                "penalty's weight.",
                lambda *a: _ista_variant(*a, threshold_scale=False)),
        Mistake("hard thresholding",
                "the proximal operator of lambda |z| is soft thresholding: shrink the surviving "
                "entries towards zero by the threshold as well.",
                lambda *a: _ista_variant(*a, hard=True)),
        Mistake("a gradient step uphill",
                "the gradient of 1/2 |x - D z|^2 is -D^T (x - D z); descending it adds "
                "D^T (x - D z) / L to z.",
                lambda *a: _ista_variant(*a, sign=-1.0)),
    ],
    hint="L = largest singular value of D, squared; u = z + (x - z D^T) D / L; "
         "then sign(u) * max(|u| - lam / L, 0).")


# ----------------------------------------------------------------------- 02-sm-gaussian
def _sm_cases(gen):
    out = []
    for n in (8, 20, 50):
        m, s = float(randn(gen, 1)), math.exp(float(randn(gen, 1, scale=0.5)))
        out.append((m + s * randn(gen, n),))
    return out


def _sm_by_minimisation(x):
    """Minimise the companion's score-matching objective over (m, log v) numerically."""
    m = x.mean().clone().requires_grad_(True)
    log_v = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([m, log_v], max_iter=500, tolerance_grad=1e-12,
                            tolerance_change=1e-15, line_search_fn="strong_wolfe")
    xs = x.reshape(-1, 1)

    def closure():
        opt.zero_grad()
        loss = ebm.score_matching_loss(lambda z: (z[:, 0] - m) ** 2 / (2 * log_v.exp()), xs)
        loss.backward()
        return loss

    opt.step(closure)
    return m.detach(), log_v.exp().detach()


function_exercise(
    "02-sm-gaussian", kind="derive", section=SEC_SCORE,
    cases=_sm_cases, reference=_sm_by_minimisation, rtol=1e-6, atol=1e-8,
    mistakes=[
        Mistake("the unbiased variance",
                "setting dJ/dv = 0 gives the mean of (x - m)^2 over the n points, divided by "
                "n, not n - 1.",
                lambda x: (x.mean(), x.var(unbiased=True))),
        Mistake("the standard deviation instead of the variance",
                "the exercise asks for v, the variance of the fitted Gaussian.",
                lambda x: (x.mean(), x.var(unbiased=False).sqrt())),
    ],
    hint="for E = (x - m)^2 / (2v): dE/dx = (x - m)/v, d2E/dx2 = 1/v; write J(m, v) and set "
         "both partial derivatives to zero.")


# ----------------------------------------------------------------------- 02-step-size
def ula_stationary_tv(step_size: float, n_grid: int = 601) -> float:
    r"""Total variation between the unadjusted Langevin chain's stationary law and its target,
    the chapter's mixture of two Gaussians: the stationary vector of the chain's transition
    kernel $K(y \to y') \propto \exp(-(y' - y + \eta E'(y))^2 / 4\eta)$ discretised on a grid."""
    means = torch.tensor(MIXTURE_MEANS, dtype=torch.float64)
    energy = lambda x: ebm.gaussian_mixture_energy(x, means, MIXTURE_STD)   # noqa: E731
    y = torch.linspace(-5, 5, n_grid, dtype=torch.float64)
    e, grad = samplers.energy_and_grad(energy, y[:, None])
    target = torch.softmax(-e, 0)
    drift = y - step_size * grad[:, 0]
    K = torch.softmax(-(y[None, :] - drift[:, None]) ** 2 / (4 * step_size), dim=1)
    A = K.T - torch.eye(n_grid, dtype=torch.float64)
    A[-1] = 1.0                                       # replace one equation by sum(pi) = 1
    rhs = torch.zeros(n_grid, dtype=torch.float64)
    rhs[-1] = 1.0
    pi = torch.linalg.solve(A, rhs)
    return 0.5 * (pi - target).abs().sum().item()


def first_step_size_above(tv: float = 0.15) -> float:
    """The smallest step size on the slider at which ULA's total variation exceeds ``tv``."""
    return next(eta for eta in STEP_SIZES if ula_stationary_tv(eta) > tv)


value_exercise(
    "02-step-size", kind="explore", section=SEC_LANGEVIN, expected=first_step_size_above,
    rtol=0.0, atol=0.101,
    hint="move the slider from the smallest step size up and read the unadjusted chain's "
         "total variation in the title of each frame.",
    show=lambda v: f"(the exact stationary law of the discretised chain first differs from the "
                   f"target by more than 0.15 at eta = {v:g})")


# ----------------------------------------------------------------------- 02-mixing
def integrated_autocorrelation_time(coupling: float, max_lag: int = 3000) -> float:
    r"""$\tau = 1 + 2\sum_{k \ge 1} \rho_k$ for the number of active units of the chapter's
    two-mode RBM (6 visible units), from the exact autocorrelation."""
    rho = ebm.gibbs_autocorrelation(ebm.two_mode_rbm(6, coupling), max_lag)
    return (1 + 2 * rho[1:].sum()).item()


def first_coupling_above(tau: float = 10.0) -> float:
    """The smallest coupling on the slider whose integrated autocorrelation time exceeds ``tau``."""
    return next(w for w in COUPLINGS if integrated_autocorrelation_time(w) > tau)


value_exercise(
    "02-mixing", kind="explore", section=SEC_MCMC, expected=first_coupling_above,
    rtol=0.0, atol=0.501,
    hint="move the slider up from w = 1 and read the integrated autocorrelation time in the "
         "title of each frame.",
    show=lambda v: f"(exactly, tau first exceeds 10 sweeps at w = {v:g})")

__all__ = ["STEP_SIZES", "COUPLINGS", "MIXTURE_MEANS", "MIXTURE_STD", "first_coupling_above",
           "first_step_size_above", "integrated_autocorrelation_time", "ula_stationary_tv"]

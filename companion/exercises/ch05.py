"""Checkers for the exercises of chapter 5, the free energy principle and predictive coding.

Derive exercises are checked against an independent computation (quadrature of the free
energy, automatic differentiation of the network's energy); code exercises against the
companion's own implementation on fresh random inputs, with the slips the chapter warns
about registered as named mistakes; explore exercises against a simulation.
"""
from __future__ import annotations

import math

import torch

from .. import predictive_coding as pc
from ._core import Mistake, function_exercise, value_exercise
from ._inputs import randn, uniform

F64 = torch.float64
_LOG2PI = math.log(2 * math.pi)

FREE_ENERGY = "Free energy: energy minus entropy, surprise plus divergence"
PERCEPTION = "Perception as gradient descent"
ACTION = "Action: active inference"
NETWORK = "A hierarchical predictive-coding network"


# ------------------------------------------------------- 05-gaussian-free-energy (derive)

def _linear_gaussian_cases(gen: torch.Generator):
    """(m, v, s, prior_mean, prior_var, sensory_var, a): random models and Gaussian q."""
    return [(randn(gen, scale=2.0).item(), math.exp(uniform(gen, -2.0, 1.0).item()), randn(gen, scale=2.0).item(),
             randn(gen).item(), math.exp(uniform(gen, -1.0, 1.0).item()), math.exp(uniform(gen, -1.0, 1.0).item()),
             uniform(gen, -2.0, 2.0).item()) for _ in range(4)]


def _free_energy_by_quadrature(m, v, s, prior_mean, prior_var, sensory_var, a):
    r"""$\int q(\psi)[\log q(\psi) - \log p(s, \psi)]\,d\psi$ by the trapezoid rule over
    $m \pm 12\sqrt v$ (20,001 points): no closed form involved."""
    psi = torch.linspace(m - 12 * math.sqrt(v), m + 12 * math.sqrt(v), 20001, dtype=F64)
    log_q = -0.5 * math.log(2 * math.pi * v) - (psi - m) ** 2 / (2 * v)
    log_joint = (-0.5 * math.log(2 * math.pi * prior_var) - (psi - prior_mean) ** 2 / (2 * prior_var)
                 - 0.5 * math.log(2 * math.pi * sensory_var) - (s - a * psi) ** 2 / (2 * sensory_var))
    return torch.trapezoid(log_q.exp() * (log_q - log_joint), psi).item()


def _free_energy_without_v(m, v, s, prior_mean, prior_var, sensory_var, a):
    energy = (0.5 * (_LOG2PI + math.log(prior_var)) + (m - prior_mean) ** 2 / (2 * prior_var)
              + 0.5 * (_LOG2PI + math.log(sensory_var)) + (s - a * m) ** 2 / (2 * sensory_var))
    return energy - 0.5 * math.log(2 * math.pi * math.e * v)


def _free_energy_entropy_added(m, v, s, prior_mean, prior_var, sensory_var, a):
    entropy = 0.5 * math.log(2 * math.pi * math.e * v)
    energy = _free_energy_by_quadrature(m, v, s, prior_mean, prior_var, sensory_var, a) + entropy
    return energy + entropy


function_exercise(
    "05-gaussian-free-energy", kind="derive", section=FREE_ENERGY,
    cases=_linear_gaussian_cases, reference=_free_energy_by_quadrature,
    mistakes=[
        Mistake("variance of q left out of the energy",
                "the expectation of a square under q = N(m, v) is E[(psi - c)^2] = (m - c)^2 + v: "
                "both error terms gain a term in v (the sensory one a^2 v).",
                _free_energy_without_v),
        Mistake("entropy added instead of subtracted",
                "F = energy - entropy: the entropy of q, 1/2 log(2 pi e v), is subtracted.",
                _free_energy_entropy_added),
    ],
    rtol=1e-6, atol=1e-8,
    hint="F = E_q[-log p(psi)] + E_q[-log p(s | psi)] - H[q], with E_q[(psi - c)^2] = (m - c)^2 + v.")


# ------------------------------------------------------------------ 05-pc-chain (derive)

def _chain_cases(gen: torch.Generator):
    """(x0, x1, x2, W0, W1, pi1, pi2) for a few layer widths."""
    cases = []
    for n0, n1, n2 in [(3, 4, 2), (5, 3, 3), (2, 6, 4)]:
        x0, x1, x2 = (torch.randn(n, generator=gen, dtype=F64) for n in (n0, n1, n2))
        W0 = torch.randn(n1, n0, generator=gen, dtype=F64) / math.sqrt(n0)
        W1 = torch.randn(n2, n1, generator=gen, dtype=F64) / math.sqrt(n1)
        cases.append((x0, x1, x2, W0, W1, uniform(gen, 0.2, 3.0).item(), uniform(gen, 0.2, 3.0).item()))
    return cases


def _chain_by_autograd(x0, x1, x2, W0, W1, pi1, pi2):
    r"""$\partial F/\partial x_1$, $-\partial F/\partial W_0$, $-\partial F/\partial W_1$ by autograd of
    $F = \tfrac{\pi_1}2\lVert x_1 - \tanh(W_0x_0)\rVert^2 + \tfrac{\pi_2}2\lVert x_2 - \tanh(W_1x_1)\rVert^2$."""
    x1, W0, W1 = (t.detach().clone().requires_grad_(True) for t in (x1, W0, W1))
    f = (0.5 * pi1 * ((x1 - torch.tanh(W0 @ x0)) ** 2).sum()
         + 0.5 * pi2 * ((x2 - torch.tanh(W1 @ x1)) ** 2).sum())
    g_x1, g_W0, g_W1 = torch.autograd.grad(f, (x1, W0, W1))
    return g_x1, -g_W0, -g_W1


def _chain_formula(x0, x1, x2, W0, W1, pi1, pi2, gain=True):
    a1, a2 = W0 @ x0, W1 @ x1
    e1, e2 = x1 - torch.tanh(a1), x2 - torch.tanh(a2)
    d1 = pi1 * e1 * (1 - torch.tanh(a1) ** 2 if gain else 1.0)
    d2 = pi2 * e2 * (1 - torch.tanh(a2) ** 2 if gain else 1.0)
    return pi1 * e1 - W1.T @ d2, torch.outer(d1, x0), torch.outer(d2, x1)


function_exercise(
    "05-pc-chain", kind="derive", section=NETWORK,
    cases=_chain_cases, reference=_chain_by_autograd,
    mistakes=[
        Mistake("gain f'(a) left out",
                "the prediction is tanh(W x), so the chain rule brings in tanh'(a) = 1 - tanh(a)^2 "
                "wherever an error is passed back through a prediction.",
                lambda *args: _chain_formula(*args, gain=False)),
        Mistake("sign of the error",
                "with eps = x - mu, dF/dx_1 = pi_1 eps_1 - W_1^T(f' * pi_2 eps_2) and the updates "
                "-dF/dW are + (f' * pi eps) x^T: all three of yours have the opposite sign.",
                lambda *args: tuple(-t for t in _chain_formula(*args))),
        Mistake("missing precision weighting",
                "each error enters F multiplied by its precision: pi_1 eps_1 and pi_2 eps_2.",
                lambda x0, x1, x2, W0, W1, pi1, pi2: _chain_formula(x0, x1, x2, W0, W1, 1.0, 1.0)),
    ],
    rtol=1e-8, atol=1e-10,
    hint="return (dF/dx1, -dF/dW0, -dF/dW1), each with the shape of x1, W0, W1.")


# ------------------------------------------------------------- 05-prediction-errors (code)

def _bogacz_cases(gen: torch.Generator):
    """(s, phi, prior_mean, prior_var, sensory_var): phi a vector of 9 estimates."""
    return [(uniform(gen, 0.0, 9.0).item(), uniform(gen, -3.0, 5.0).item() + torch.randn(9, generator=gen, dtype=F64),
             uniform(gen, 1.0, 4.0).item(), math.exp(uniform(gen, -1.0, 1.0).item()),
             math.exp(uniform(gen, -1.0, 1.0).item())) for _ in range(3)]


def _bogacz_reference(s, phi, prior_mean, prior_var, sensory_var):
    model = pc.GaussianModel(prior_mean=prior_mean, prior_var=prior_var, sensory_var=sensory_var,
                             a=0.0, b=1.0)
    return model.energy(s, phi), model.energy_gradient(s, phi)


def _bogacz_parts(s, phi, prior_mean, prior_var, sensory_var):
    """Energy without its constants, the constants, and the two precision-weighted errors."""
    eps_p, eps_s = (phi - prior_mean) / prior_var, (s - phi**2) / sensory_var
    quad = (phi - prior_mean) ** 2 / (2 * prior_var) + (s - phi**2) ** 2 / (2 * sensory_var)
    const = 0.5 * (_LOG2PI + math.log(prior_var)) + 0.5 * (_LOG2PI + math.log(sensory_var))
    return quad, const, eps_p, eps_s


def _bogacz_unweighted(s, phi, prior_mean, prior_var, sensory_var):
    _, const, _, _ = _bogacz_parts(s, phi, prior_mean, prior_var, sensory_var)
    energy = (phi - prior_mean) ** 2 / 2 + (s - phi**2) ** 2 / 2 + const
    return energy, (phi - prior_mean) - (s - phi**2) * 2 * phi


def _bogacz_sign(s, phi, prior_mean, prior_var, sensory_var):
    quad, const, eps_p, eps_s = _bogacz_parts(s, phi, prior_mean, prior_var, sensory_var)
    return quad + const, eps_p + eps_s * 2 * phi


def _bogacz_no_constants(s, phi, prior_mean, prior_var, sensory_var):
    quad, _, eps_p, eps_s = _bogacz_parts(s, phi, prior_mean, prior_var, sensory_var)
    return quad, eps_p - eps_s * 2 * phi


def _bogacz_no_slope(s, phi, prior_mean, prior_var, sensory_var):
    quad, const, eps_p, eps_s = _bogacz_parts(s, phi, prior_mean, prior_var, sensory_var)
    return quad + const, eps_p - eps_s


function_exercise(
    "05-prediction-errors", kind="code", section=PERCEPTION,
    cases=_bogacz_cases, reference=_bogacz_reference,
    mistakes=[
        Mistake("missing precision weighting",
                "each prediction error is divided by its variance (multiplied by its precision): "
                "eps_p = (phi - mu_p) / var_p and eps_s = (s - phi^2) / var_s, in the energy as in "
                "its gradient.", _bogacz_unweighted),
        Mistake("sign of the error",
                "with eps_s = s - g(phi) (over its variance), the sensory term of dE/dphi is "
                "-eps_s g'(phi): a larger phi predicts more light, which lowers the error.",
                _bogacz_sign),
        Mistake("normalising constants left out",
                "E = -log p(s, phi) includes the Gaussians' normalisers, 1/2 log(2 pi var_p) + "
                "1/2 log(2 pi var_s); they do not change the gradient.", _bogacz_no_constants),
        Mistake("slope g'(phi) left out",
                "the sensory error is passed back through the prediction g(phi) = phi^2, so it is "
                "multiplied by g'(phi) = 2 phi.", _bogacz_no_slope),
    ],
    rtol=1e-8, atol=1e-10,
    hint="E = (phi - mu_p)^2 / (2 var_p) + (s - phi^2)^2 / (2 var_s) + 1/2 log(2 pi var_p) "
         "+ 1/2 log(2 pi var_s); dE/dphi = eps_p - eps_s * 2 phi.")


# ------------------------------------------------------- 05-discrete-free-energy (code)

def _discrete_cases(gen: torch.Generator):
    """(prior, likelihood, s, q): random models; the last q has a zero entry."""
    cases = []
    for k, m, zero in [(3, 2, False), (4, 3, False), (5, 4, True)]:
        prior = torch.softmax(torch.randn(k, generator=gen, dtype=F64), 0)
        likelihood = torch.softmax(1.5 * torch.randn(k, m, generator=gen, dtype=F64), 1)
        q = torch.softmax(torch.randn(k, generator=gen, dtype=F64), 0)
        if zero:
            q[0] = 0.0
            q = q / q.sum()
        s = int(torch.randint(m, (), generator=gen))
        cases.append((prior, likelihood, s, q))
    return cases


def _discrete_reference(prior, likelihood, s, q):
    return pc.DiscreteModel(prior, likelihood).terms(s, q).free_energy


def _discrete_entropy_added(prior, likelihood, s, q):
    t = pc.DiscreteModel(prior, likelihood).terms(s, q)
    return t.energy + t.entropy


def _discrete_divergence(prior, likelihood, s, q):
    return pc.DiscreteModel(prior, likelihood).terms(s, q).divergence


def _discrete_naive_log(prior, likelihood, s, q):
    log_joint = prior.log() + likelihood[:, s].log()
    return (q * q.log()).sum() - (q * log_joint).sum()


function_exercise(
    "05-discrete-free-energy", kind="code", section=FREE_ENERGY,
    cases=_discrete_cases, reference=_discrete_reference,
    mistakes=[
        Mistake("entropy added instead of subtracted",
                "F = energy - entropy = sum_psi q (log q - log p(s, psi)).",
                _discrete_entropy_added),
        Mistake("divergence instead of free energy",
                "you used the posterior p(psi | s) where the joint p(s, psi) = p(psi) p(s | psi) "
                "belongs: that gives the KL divergence alone and leaves out the surprise -log p(s).",
                _discrete_divergence),
        Mistake("0 log 0 not set to zero",
                "an entry q = 0 contributes nothing (q log q -> 0 as q -> 0), but 0 * log 0 is NaN "
                "in floating point: use torch.xlogy(q, q) or mask the zeros.",
                _discrete_naive_log),
    ],
    rtol=1e-9, atol=1e-12,
    hint="F = sum_psi q(psi) [log q(psi) - log p(psi) - log p(s | psi)], with 0 log 0 = 0; "
         "likelihood[psi, s] = p(s | psi).")


# --------------------------------------------------------------------- 05-action (code)

def _action_cases(gen: torch.Generator):
    """(s, mu, x, sensory_var, action_rate, peak): vectors of 6 agents."""
    cases = []
    for _ in range(3):
        x = torch.empty(6, dtype=F64).uniform_(-3.0, 3.0, generator=gen)
        s = 20 * torch.rand(6, generator=gen, dtype=F64)
        mu = 20 * torch.rand(6, generator=gen, dtype=F64)
        cases.append((s, mu, x, math.exp(uniform(gen, -2.0, 0.5).item()), uniform(gen, 0.01, 0.5).item(),
                      uniform(gen, 5.0, 30.0).item()))
    return cases


def _action_reference(s, mu, x, sensory_var, action_rate, peak):
    """The companion's agent, one step of :func:`predictive_coding.active_inference`, with
    the noise chosen so that it senses ``s``."""
    agent = pc.ThermalAgent(sensory_var=sensory_var, action_rate=action_rate)
    noise = (s - pc.heat_source(x, peak)[0]) / math.sqrt(sensory_var)
    out = pc.active_inference(agent, x, mu0=mu, n_steps=1, peak=peak, noise=noise[None])
    return out["action"][0]


function_exercise(
    "05-action", kind="code", section=ACTION,
    cases=_action_cases, reference=_action_reference,
    mistakes=[
        Mistake("climbing the free energy",
                "action descends F: a = -kappa_a dF/ds ds/dx; your agent moves the way that "
                "raises its prediction error.",
                lambda s, mu, x, var, k, peak: k * (s - mu) / var * pc.heat_source(x, peak)[1]),
        Mistake("missing precision weighting",
                "dF/ds is the precision-weighted error eps_s = (s - mu) / sensory_var.",
                lambda s, mu, x, var, k, peak: -k * (s - mu) * pc.heat_source(x, peak)[1]),
        Mistake("slope of the world left out",
                "the agent changes s only through its position: multiply by ds/dx = T'(x) "
                "(pc.heat_source returns it).",
                lambda s, mu, x, var, k, peak: -k * (s - mu) / var),
    ],
    rtol=1e-8, atol=1e-10,
    hint="a = -action_rate * eps_s * T'(x), with eps_s = (s - mu) / sensory_var and T'(x) the "
         "second value returned by pc.heat_source(x, peak).")


# ---------------------------------------------------------------- 05-step-size (explore)

def _largest_stable_step() -> float:
    """The largest Euler step (on a 0.0005 grid) for which 500 steps of gradient descent on
    Bogacz's energy, from phi = 3, end at the posterior mode; all steps are run at once."""
    model = pc.GaussianModel()                                   # prior N(3, 1), g = phi^2
    mode = model.perceive(2.0, torch.tensor([3.0], dtype=F64), n_steps=3000, dt=0.01).item()
    dts = torch.arange(0.05, 0.30, 0.0005, dtype=F64)
    phi = torch.full_like(dts, 3.0)
    for _ in range(500):
        phi = phi - dts * model.energy_gradient(2.0, phi)
        phi = torch.where(phi.abs() < 1e6, phi, torch.full_like(phi, float("nan")))
    ok = (phi - mode).abs() < 1e-3
    first_fail = int((~ok).nonzero()[0]) if (~ok).any() else len(dts)
    return dts[first_fail - 1].item()


value_exercise(
    "05-step-size", kind="explore", section=PERCEPTION, expected=_largest_stable_step,
    mistakes=[Mistake("linear stability at the mode",
                      "2 / E''(phi*) = 0.17 is the limit for steps that start near the mode; "
                      "from phi = 3 the first steps are taken where the energy is far steeper.",
                      0.17)],          # 2 / E''(phi*), E''(phi*) = 11.74 (computed in the chapter)
    rtol=0.0, atol=0.01,
    hint="try steps between 0.1 and 0.2 with n_steps = 500, from phi = 3, and see where the "
         "end point stops being the posterior mode.",
    show=lambda v: f"Gradient descent from phi = 3 converges for steps up to about {v:.3f}.")


# ----------------------------------------------------------- 05-prior-precision (explore)

def _halfway_prior_var() -> float:
    """The prior variance at which an agent that only perceives (no noise, no action) settles
    on a belief halfway between its preferred 4 degrees and the 10 degrees it senses at x = 1:
    bisection on log(prior_var), each step a simulation."""
    x0 = torch.tensor([1.0], dtype=F64)
    zeros = torch.zeros(600, 1, dtype=F64)          # 6 time units: the belief has settled
    lo, hi = math.log(1e-2), math.log(1e2)
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        agent = pc.ThermalAgent(prior_var=math.exp(mid), action_rate=0.0)
        out = pc.active_inference(agent, x0, n_steps=600, noise=zeros)
        belief = out["mu"][-1].item()
        lo, hi = (mid, hi) if belief < 7.0 else (lo, mid)
    return math.exp(0.5 * (lo + hi))


value_exercise(
    "05-prior-precision", kind="explore", section=ACTION, expected=_halfway_prior_var,
    mistakes=[Mistake("precision given instead of variance",
                      "the slider sets the prior variance sigma_p^2; you gave its inverse, the "
                      "precision 1 / sigma_p^2.", 4.0)],       # 1 / 0.25
    rtol=0.4, atol=0.0,
    hint="with action off, the belief settles where the two precision-weighted errors balance; "
         "find the slider value where it ends at 7 degrees.",
    show=lambda v: f"The belief ends halfway at prior variance {v:.3f}, the sensory variance.")

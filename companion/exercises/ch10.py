"""Checkers for the exercises of chapter 10, generative adversarial networks.

Every checker compares the reader's answer with an independent computation: a numerical
maximisation, autograd through the companion's losses, a simulation of the game, or
quadrature; never with the same formula typed twice.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import gan
from ._core import Mistake, Wrong, close, custom_exercise, function_exercise, \
    mistake_message, value_exercise

# the sliders of the chapter
MU_SLIDER = (0.0, 0.5, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)     # narrow generator's mean
NARROW_STD = 0.5
CLIP_SLIDER = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)             # clipping constants


# ------------------------------------------------------------- 10-weighted-d (derive)

def _argmax_pointwise(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""The y in (0, 1) that maximises $a \log y + b \log(1 - y)$ for each pair (a, b) >= 0,
    by golden-section search (the function is concave in y)."""
    lo, hi = torch.zeros_like(a), torch.ones_like(a)
    r = (math.sqrt(5) - 1) / 2

    def f(y):
        return torch.special.xlogy(a, y) + torch.special.xlogy(b, 1 - y)

    for _ in range(120):
        y1, y2 = hi - r * (hi - lo), lo + r * (hi - lo)
        left = f(y1) > f(y2)                     # the maximum lies in [lo, y2]
        hi = torch.where(left, y2, hi)
        lo = torch.where(left, lo, y1)
    return (lo + hi) / 2


def _weighted_cases(gen):
    cases = []
    for n in (5, 12, 30):
        a = torch.rand(n, generator=gen, dtype=torch.float64) * 2 + 1e-3
        b = torch.rand(n, generator=gen, dtype=torch.float64) * 2 + 1e-3
        pi = float(0.1 + 0.8 * torch.rand((), generator=gen))
        cases.append((a, b, pi))
    return cases


function_exercise(
    "10-weighted-d", kind="derive", section="The optimal discriminator",
    cases=_weighted_cases,
    reference=lambda p_data, p_g, pi: _argmax_pointwise(pi * p_data, (1 - pi) * p_g),
    rtol=1e-6, atol=1e-8,
    mistakes=[
        Mistake("ignoring the class proportions",
                "the data term of the value is weighted by pi and the sample term by 1 - pi; "
                "both weights multiply the densities in the pointwise problem.",
                lambda p_data, p_g, pi: p_data / (p_data + p_g)),
        Mistake("the proportions swapped",
                "pi weights the data (the term with log D), 1 - pi the samples.",
                lambda p_data, p_g, pi: (1 - pi) * p_data / ((1 - pi) * p_data + pi * p_g)),
        Mistake("the odds instead of the probability",
                "setting the derivative to zero gives a / y = b / (1 - y); solve for y, not "
                "for y / (1 - y).",
                lambda p_data, p_g, pi: pi * p_data / ((1 - pi) * p_g)),
    ],
    hint="for each x maximise a log y + b log(1 - y) over y in (0, 1), with a = pi p_data(x) "
         "and b = (1 - pi) p_g(x).")


# ---------------------------------------------------------- 10-logit-gradients (derive)

def _logit_derivatives_by_autograd(d: torch.Tensor):
    """Per-sample derivatives of the companion's two generator losses at logits logit(d)."""
    logits = torch.logit(d).clone().requires_grad_(True)
    n = logits.shape[0]
    (sat,) = torch.autograd.grad(n * gan.saturating_generator_loss(logits), logits)
    (ns,) = torch.autograd.grad(n * gan.nonsaturating_generator_loss(logits), logits)
    return sat, ns


def _probability_cases(gen):
    return [(10 ** (-3 * torch.rand(8, generator=gen, dtype=torch.float64)),),
            (torch.rand(8, generator=gen, dtype=torch.float64) * 0.98 + 0.01,),
            (torch.tensor([0.001, 0.5, 0.999], dtype=torch.float64),)]


function_exercise(
    "10-logit-gradients", kind="derive", section="The GAN as a contrastive energy-based model",
    cases=_probability_cases, reference=_logit_derivatives_by_autograd, rtol=1e-7, atol=1e-12,
    mistakes=[
        Mistake("derivatives with respect to D instead of the logit",
                "the generator's gradient reaches D through the logit l, D = sigma(l), and "
                "d sigma / d l = sigma (1 - sigma): multiply by it.",
                lambda d: (-1 / (1 - d), -1 / d)),
        Mistake("a missing minus sign",
                "both losses fall as the logit of the samples rises (the generator wants them "
                "called data): both derivatives are negative.",
                lambda d: (d, 1 - d)),
        Mistake("the two losses swapped",
                "the saturating loss log(1 - D) is the one whose derivative vanishes as D -> 0.",
                lambda d: (-(1 - d), -d)),
    ],
    hint="with D = sigma(l), d/dl log(1 - sigma(l)) and d/dl [-log sigma(l)] follow from "
         "d sigma/dl = sigma (1 - sigma).")


# ----------------------------------------------------------------- 10-d-loss (code)

def _logit_cases(gen):
    cases = [(3 * torch.randn(n, generator=gen), 3 * torch.randn(m, generator=gen))
             for n, m in [(6, 9), (20, 20)]]
    # a confident discriminator, right on some samples and badly wrong on others
    cases.append((torch.tensor([120.0, -120.0, 2.0]), torch.tensor([-130.0, 110.0, -1.0, 0.5])))
    return cases


def _naive_d_loss(l_real, l_fake):
    return -(torch.log(torch.sigmoid(l_real)).mean() + torch.log(1 - torch.sigmoid(l_fake)).mean())


def _bce_on_sigmoid(l_real, l_fake):
    bce = F.binary_cross_entropy
    return (bce(torch.sigmoid(l_real), torch.ones_like(l_real))
            + bce(torch.sigmoid(l_fake), torch.zeros_like(l_fake)))


function_exercise(
    "10-d-loss", kind="code", section="The GAN as a contrastive energy-based model",
    cases=_logit_cases, reference=gan.discriminator_loss, rtol=1e-5, atol=1e-6,
    mistakes=[
        Mistake("minimising the value function",
                "V(D, G) is what the discriminator maximises; the loss to minimise is -V.",
                lambda l_real, l_fake: -gan.discriminator_loss(l_real, l_fake)),
        Mistake("the log of a rounded sigmoid",
                "sigmoid(-120) rounds to 0 in float32, and BCELoss then clamps log 0 to -100, "
                "so a sample misjudged by a logit of 120 costs 100 and passes back no "
                "gradient. Compute from the logits: log sigmoid(l) = -softplus(-l).",
                _bce_on_sigmoid),
        Mistake("taking log(sigmoid) by hand",
                "log(sigmoid(l)) is -inf once sigmoid(l) rounds to 0 (l around -104 in "
                "float32). Use log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = "
                "-softplus(l).",
                _naive_d_loss),
        Mistake("real and fake labels swapped",
                "the data should be called data (label 1: -log D(x)) and the samples "
                "generated (label 0: -log(1 - D(G(z)))).",
                lambda l_real, l_fake: gan.discriminator_loss(-l_real, -l_fake)),
    ],
    hint="L_D = mean softplus(-l_real) + mean softplus(l_fake), with the means over each "
         "batch separately.")


# ---------------------------------------------------------------- 10-ns-loss (code)

def _fake_logit_cases(gen):
    return [(3 * torch.randn(n, generator=gen, dtype=torch.float64),) for n in (1, 7, 50)]


function_exercise(
    "10-ns-loss", kind="code", section="The GAN as a contrastive energy-based model",
    cases=_fake_logit_cases, reference=gan.nonsaturating_generator_loss, rtol=1e-8, atol=1e-10,
    mistakes=[
        Mistake("the saturating loss",
                "log(1 - D(G(z))) is the minimax game's generator loss; the non-saturating "
                "one is -log D(G(z)), whose gradient does not vanish as D(G(z)) -> 0.",
                gan.saturating_generator_loss),
        Mistake("a missing minus sign",
                "the generator minimises -E log D(G(z)); E log D(G(z)) is what it maximises.",
                lambda logits: -gan.nonsaturating_generator_loss(logits)),
    ],
    hint="-log sigmoid(l) = softplus(-l); average over the batch.")


# -------------------------------------------------------- 10-gradient-penalty (code)

def _critic_cases(gen):
    cases = []
    for d, n in [(2, 16), (3, 9)]:
        critic = gan.MLPDiscriminator(d, hidden=8).double()
        with torch.no_grad():
            for p in critic.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
        cases.append((critic, torch.randn(n, d, generator=gen, dtype=torch.float64),
                      torch.randn(n, d, generator=gen, dtype=torch.float64) + 1.0,
                      torch.rand(n, generator=gen, dtype=torch.float64)))
    return cases


def _gp_at_data(critic, x_real, x_fake, eps):
    return gan.gradient_penalty(critic, x_real, x_real, eps)


def _gp_squared_norm(critic, x_real, x_fake, eps):
    x_hat = (eps[:, None] * x_real + (1 - eps[:, None]) * x_fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (g ** 2).sum(1).mean()


def _gp_no_graph(critic, x_real, x_fake, eps):
    return gan.gradient_penalty(critic, x_real, x_fake, eps).detach()


_GP_MISTAKES = [
    Mistake("the gradient at the data instead of the interpolates",
            "the penalty is taken at x_hat = eps x_real + (1 - eps) x_fake, points on the "
            "segments between data and samples.",
            _gp_at_data),
    Mistake("penalising the squared norm",
            "the penalty pulls the norm towards 1: (|grad f| - 1)^2, not |grad f|^2, which "
            "pulls it towards 0.",
            _gp_squared_norm),
    Mistake("no graph for the penalty",
            "the penalty must be differentiable with respect to the critic's weights: compute "
            "the input gradient with torch.autograd.grad(..., create_graph=True) and do not "
            "detach it.",
            _gp_no_graph),
]


def _check_gradient_penalty(answer, gen):
    for critic, x_r, x_f, eps in _critic_cases(gen):
        got = answer(critic, x_r.clone(), x_f.clone(), eps.clone())
        want = gan.gradient_penalty(critic, x_r, x_f, eps)
        diff = close(got.detach() if isinstance(got, torch.Tensor) else got, want.detach(),
                     rtol=1e-8, atol=1e-10)
        if diff is None:
            if not isinstance(got, torch.Tensor) or not got.requires_grad:
                raise Wrong(mistake_message(_GP_MISTAKES[2]))
            params = list(critic.parameters())
            g_got = torch.autograd.grad(got, params, allow_unused=True)
            g_want = torch.autograd.grad(want, params, allow_unused=True)
            if any(close(torch.zeros_like(p) if a is None else a,
                         torch.zeros_like(p) if b is None else b, rtol=1e-6, atol=1e-9)
                   for a, b, p in zip(g_got, g_want, params)):
                raise Wrong("the value is right, but its gradient with respect to the critic's "
                            "weights is not: is the input gradient computed with "
                            "create_graph=True?")
            continue
        for m in _GP_MISTAKES[:2]:
            if close(got.detach() if isinstance(got, torch.Tensor) else got,
                     m.answer(critic, x_r, x_f, eps).detach(), rtol=1e-8, atol=1e-10) is None:
                raise Wrong(mistake_message(m))
        raise Wrong(f"on a fresh random critic, {diff}. Hint: interpolate, take the gradient "
                    "of the critic's summed output with respect to the interpolates, and "
                    "average (norm - 1)^2 over the batch.")
    return "Checked on two random critics, value and gradient with respect to the weights."


custom_exercise("10-gradient-penalty", kind="code", section="Training a Wasserstein GAN",
                checker=_check_gradient_penalty, mistakes=_GP_MISTAKES)


# ----------------------------------------------------------- 10-invariant (derive)

def _check_invariant(answer, gen):
    for _ in range(3):
        eta = float(0.05 + 1.85 * torch.rand((), generator=gen))
        values = []
        for radius in (1.0, 2.0):
            angle = float(2 * math.pi * torch.rand((), generator=gen))
            path = gan.bilinear_game(radius * math.cos(angle), radius * math.sin(angle), eta, 300,
                                     "alternating")
            q = torch.as_tensor(answer(path[:, 0].clone(), path[:, 1].clone(), eta),
                                dtype=torch.float64)
            if q.shape != path[:, 0].shape:
                raise Wrong(f"return one value per point: shape {tuple(path[:, 0].shape)}, got "
                            f"{tuple(q.shape)}.")
            spread = (q.max() - q.min()).abs().item() / max(q.abs().max().item(), 1e-300)
            if spread > 1e-8:
                for m in _INVARIANT_MISTAKES:
                    mq = m.answer(path[:, 0], path[:, 1], eta)
                    if torch.allclose(q, mq, rtol=1e-9, atol=1e-12):
                        raise Wrong(mistake_message(m))
                raise Wrong(f"along 300 alternating steps with eta = {eta:.3f} your quantity "
                            f"changes by {spread:.2e} of its size: it is not conserved.")
            values.append(q[0].item())
        if abs(values[0] - values[1]) < 1e-9 * max(abs(values[0]), 1.0):
            raise Wrong("your quantity takes the same value on orbits of radius 1 and 2: a "
                        "constant is conserved, but it says nothing about the orbit.")
    return "Conserved to 1e-8 along simulated alternating play, and different on different orbits."


_INVARIANT_MISTAKES = [
    Mistake("the squared distance",
            "x^2 + y^2 grows and shrinks along alternating play (the orbit is an ellipse, not "
            "a circle); expand x'^2 + y'^2 and look for the cross term.",
            lambda x, y, eta: x ** 2 + y ** 2),
    Mistake("the wrong sign of the cross term",
            "expand with x' = x - eta y and y' = y + eta x': the cross term enters with a "
            "minus sign.",
            lambda x, y, eta: x ** 2 + y ** 2 + eta * x * y),
]

custom_exercise("10-invariant", kind="derive", section="Unstable convergence",
                checker=_check_invariant, mistakes=_INVARIANT_MISTAKES)


# ------------------------------------------------------- 10-narrow-generator (explore)

def _value_at_optimum(mu: float, std: float) -> float:
    r"""$V(D^*, G)$ for the chapter's two-Gaussian data and $p_g = \mathcal N(\mu, \sigma^2)$, by
    quadrature of $\int p_{\text{data}} \log D^* + p_g \log(1 - D^*)$ (not through the JSD),
    in log space: $\log D^* = \log p_{\text{data}} - \log(p_{\text{data}} + p_g)$."""
    x = torch.linspace(-14, 14, 56_001, dtype=torch.float64)
    dx = (x[1] - x[0]).item()

    def log_normal(m, s):
        return -0.5 * ((x - m) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))

    lp_d = torch.logaddexp(log_normal(-1.5, 0.5), log_normal(1.5, 0.5)) - math.log(2)
    lp_g = log_normal(mu, std)
    log_sum = torch.logaddexp(lp_d, lp_g)
    value = lp_d.exp() * (lp_d - log_sum) + lp_g.exp() * (lp_g - log_sum)
    return (value.sum() * dx).item()


value_exercise(
    "10-narrow-generator", kind="explore", section="The optimal discriminator",
    expected=lambda: min(MU_SLIDER, key=lambda m: _value_at_optimum(m, NARROW_STD)),
    rtol=0.0, atol=0.2,
    mistakes=[Mistake("the point between the modes",
                      "at mu = 0 the narrow generator puts its mass where the data have "
                      "almost none; watch the title's value as it moves onto a mode.", 0.0)],
    hint="read V(D*, G) in the title of each frame; the generator wants it small.",
    show=lambda m: f"V(D*, G) is smallest at mu = {m}: on a mode, not between the two.")


# ------------------------------------------------------------ 10-clip-explode (explore)

def _first_exploding_clip() -> float:
    profiles = gan.clipping_experiment(CLIP_SLIDER, gp_weight=None)["clip"]
    return min(c for c, norms in profiles.items() if norms[0] > 1)


value_exercise(
    "10-clip-explode", kind="explore", section="Training a Wasserstein GAN",
    expected=_first_exploding_clip,
    rtol=1e-6, atol=0.0,
    mistakes=[Mistake("the last value before the jump",
                      "at that clipping constant the input gradient is still far below 1: "
                      "look at the leftmost point of the curve (layer 0).", 0.03)],
    hint="the leftmost point of each curve is the gradient at the critic's input; find the "
         "first slider value at which it lies above the dashed line at 1.")

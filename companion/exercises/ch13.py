"""Checkers for the exercises of chapter 13, score-based and diffusion models."""
from __future__ import annotations

import math

import torch

from .. import data as cdata
from .. import diffusion as df
from ._core import Mistake, function_exercise, value_exercise

F64 = torch.float64


# --------------------------------------------------------------------------- derive
def _forward_moments_by_recursion(betas: torch.Tensor, t: int):
    """Mean coefficient and variance of x_t given x_0, by running the one-step recursion
    m_s = sqrt(1 - b_s) m_{s-1}, v_s = (1 - b_s) v_{s-1} + b_s (not the closed form)."""
    m, v = 1.0, 0.0
    for b in betas[:t].tolist():
        m, v = math.sqrt(1 - b) * m, (1 - b) * v + b
    return torch.tensor([m, v], dtype=F64)


def _beta_cases(gen):
    out = []
    for T, lo, hi in ((50, 1e-3, 0.2), (200, 1e-4, 0.05), (10, 0.05, 0.5)):
        betas = lo + (hi - lo) * torch.rand(T, generator=gen, dtype=F64)
        t = int(torch.randint(1, T + 1, (1,), generator=gen))
        out.append((betas, t))
    return out


def _closed(betas, t):
    ab = torch.prod(1 - betas[:t])
    return ab, 1 - ab


function_exercise(
    "13-forward-moments", kind="derive", section="Denoising diffusion",
    cases=_beta_cases, reference=_forward_moments_by_recursion, rtol=1e-6, atol=1e-10,
    mistakes=[
        Mistake("variance used for the standard deviation",
                "the mean coefficient is the square root of the product of the alphas, "
                "sqrt(alpha_bar_t); the variance is 1 - alpha_bar_t, without a square root.",
                lambda b, t: torch.stack([_closed(b, t)[0].sqrt(), _closed(b, t)[1].sqrt()])),
        Mistake("summing the betas",
                "adding the variances beta_s ignores that each step also shrinks the noise "
                "already there by 1 - beta_s; the variance is 1 - prod(1 - beta_s).",
                lambda b, t: torch.stack([_closed(b, t)[0].sqrt(), b[:t].sum()])),
    ],
    hint="return a tensor [sqrt(alpha_bar_t), 1 - alpha_bar_t] with alpha_bar_t = prod_{s<=t} (1 - beta_s); "
         "betas[0] is beta_1.")


def _tweedie_by_autograd(x_t, train, alpha_bar):
    """E[x0 | xt] = (xt + (1 - ab) grad log q_t(xt)) / sqrt(ab), the score by autograd of the
    log density of the noised training set (a Gaussian mixture)."""
    n = train.shape[0]
    q_t = df.GaussianMixture(torch.full((n,), 1 / n, dtype=F64), math.sqrt(alpha_bar) * train,
                             torch.full((n,), math.sqrt(1 - alpha_bar), dtype=F64))
    x = x_t.clone().requires_grad_(True)
    with torch.enable_grad():
        (score,) = torch.autograd.grad(q_t.log_prob(x).sum(), x)
    return (x_t + (1 - alpha_bar) * score) / math.sqrt(alpha_bar)


def _memory_cases(gen):
    out = []
    for n, d, ab in ((5, 3, 0.5), (20, 8, 0.9), (12, 4, 0.2)):
        train = torch.randn(n, d, generator=gen, dtype=F64) * (0.5 + torch.rand(n, 1, generator=gen, dtype=F64))
        out.append((torch.randn(6, d, generator=gen, dtype=F64), train, ab))
    return out


function_exercise(
    "13-ideal-denoiser", kind="derive", section="Memory",
    cases=_memory_cases, reference=_tweedie_by_autograd, rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("argmax for the softmax",
                "the posterior mean averages all training points with softmax weights; only "
                "as the noise vanishes does it pick the nearest one.",
                lambda x, y, ab: y[torch.cdist(x, math.sqrt(ab) * y).argmin(-1)]),
        Mistake("training points not scaled by sqrt(alpha_bar)",
                "x_t is centred on sqrt(alpha_bar) y_i, not on y_i: the weights use "
                "|x_t - sqrt(alpha_bar) y_i|^2.",
                lambda x, y, ab: torch.softmax(-torch.cdist(x, y) ** 2 / (2 * (1 - ab)), -1) @ y),
    ],
    hint="w_i proportional to exp(-|x_t - sqrt(ab) y_i|^2 / (2 (1 - ab))), normalised; return sum_i w_i y_i.")


# --------------------------------------------------------------------------- code
def _q_cases(gen):
    out = []
    for shape, ab in (((4, 3), 0.3), ((10, 2), 0.95), ((1, 7), 0.01)):
        out.append((torch.randn(shape, generator=gen, dtype=F64), ab,
                    torch.randn(shape, generator=gen, dtype=F64)))
    return out


function_exercise(
    "13-q-sample", kind="code", section="Denoising diffusion",
    cases=_q_cases,
    reference=lambda x0, ab, eps: df.q_sample(x0, 1, df.Schedule.from_betas(
        torch.tensor([1 - ab], dtype=F64)), eps=eps),
    mistakes=[
        Mistake("variance used for the standard deviation",
                "the coefficients are square roots: sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps.",
                lambda x0, ab, eps: ab * x0 + (1 - ab) * eps),
        Mistake("signal and noise swapped",
                "alpha_bar is the share of the signal's variance that is left: it multiplies x0.",
                lambda x0, ab, eps: math.sqrt(1 - ab) * x0 + math.sqrt(ab) * eps),
    ],
    hint="x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps.")


def _dsm_cases(gen):
    mix = df.GaussianMixture(torch.tensor([0.3, 0.7], dtype=F64),
                             torch.tensor([[-1.0, 0.5], [1.0, -0.5]], dtype=F64),
                             torch.tensor([0.4, 0.6], dtype=F64))
    out = []
    for n, sigma in ((16, 0.5), (40, 2.0), (5, 0.1)):
        score = lambda x, s=sigma: mix.convolved(noise_std=s).score(x)
        x0 = mix.sample(n, gen)
        out.append((score, x0, sigma, torch.randn(x0.shape, generator=gen, dtype=F64)))
    return out


function_exercise(
    "13-dsm-loss", kind="code", section="Denoising score matching",
    cases=_dsm_cases,
    reference=lambda score, x0, sigma, eps: df.dsm_loss(lambda v, s: score(v), x0, sigma, eps=eps),
    mistakes=[
        Mistake("wrong sign of the score",
                "the target score -(x~ - x0)/sigma^2 = -eps/sigma points from the noisy point "
                "back to the clean one: the loss is |sigma s(x~) + eps|^2 / 2.",
                lambda score, x0, sigma, eps: 0.5 * ((sigma * score(x0 + sigma * eps) - eps) ** 2).sum(-1).mean()),
        Mistake("variance used for the standard deviation",
                "the noisy point is x0 + sigma eps (sigma is a standard deviation), not x0 + sigma^2 eps.",
                lambda score, x0, sigma, eps: 0.5 * ((sigma * score(x0 + sigma ** 2 * eps) + eps) ** 2).sum(-1).mean()),
        Mistake("summing over the batch",
                "average over the batch (mean of the per-example losses), so the loss does not "
                "grow with the batch size.",
                lambda score, x0, sigma, eps: 0.5 * ((sigma * score(x0 + sigma * eps) + eps) ** 2).sum()),
    ],
    hint="x~ = x0 + sigma eps; loss = mean over the batch of |sigma score(x~) + eps|^2 / 2.")


def _step_cases(gen):
    s = df.linear_schedule(100, 1e-3, 0.1)
    out = []
    for t in (1, 2, 37, 100):
        x = torch.randn(5, 3, generator=gen, dtype=F64)
        out.append((x, torch.randn(5, 3, generator=gen, dtype=F64), t, s.betas.clone(),
                    torch.randn(5, 3, generator=gen, dtype=F64)))
    return out


def _step_reference(x_t, eps_hat, t, betas, z):
    s = df.Schedule.from_betas(betas[1:])
    mean = df.p_mean(x_t, eps_hat, t, s)
    return mean + (math.sqrt(betas[t].item()) * z if t > 1 else 0)


def _step_wrong(variance_for_std=False, no_sqrt_alpha=False):
    def step(x_t, eps_hat, t, betas, z):
        a = 1 - betas
        ab = torch.cumprod(a, 0)
        mean = (x_t - betas[t] / (1 - ab[t]).sqrt() * eps_hat)
        if not no_sqrt_alpha:
            mean = mean / a[t].sqrt()
        noise = (betas[t] if variance_for_std else betas[t].sqrt()) * z
        return mean + (noise if t > 1 else 0)
    return step


function_exercise(
    "13-reverse-step", kind="code", section="Denoising diffusion",
    cases=_step_cases, reference=_step_reference,
    mistakes=[
        Mistake("variance used for the standard deviation",
                "sigma_t^2 = beta_t is a variance: the noise added is sqrt(beta_t) z.",
                _step_wrong(variance_for_std=True)),
        Mistake("missing the 1/sqrt(alpha_t)",
                "the whole bracket x_t - beta_t / sqrt(1 - alpha_bar_t) eps_hat is divided by "
                "sqrt(alpha_t).", _step_wrong(no_sqrt_alpha=True)),
    ],
    hint="x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_hat) / sqrt(alpha_t) + sqrt(beta_t) z, "
         "no noise at t = 1; betas[t] is beta_t (betas[0] = 0).")


# --------------------------------------------------------------------------- explore
def _n_peaks(mix: df.GaussianMixture, sigma: float, line: torch.Tensor) -> int:
    lp = mix.convolved(noise_std=sigma).log_prob(line)
    return int(((lp[1:-1] > lp[:-2]) & (lp[1:-1] > lp[2:])).sum())


def merge_sigma(tol: float = 1e-3) -> float:
    """The noise level sigma at which the noised mixture p_sigma of the chapter (weights 0.2
    and 0.8 at (-5, -5) and (5, 5), unit variances) goes from two maxima to one on the line
    through the two means (where the density is largest), found by bisection to ``tol``."""
    mix = df.GaussianMixture(torch.tensor([0.2, 0.8], dtype=F64),
                             torch.tensor([[-5.0, -5.0], [5.0, 5.0]], dtype=F64),
                             torch.tensor([1.0, 1.0], dtype=F64))
    u = torch.linspace(-12, 12, 1201, dtype=F64)
    line = torch.stack([u, u], -1)
    lo, hi = 0.0, 20.0                      # two peaks at lo, one at hi
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if _n_peaks(mix, mid, line) == 1 else (mid, hi)
    return hi


value_exercise(
    "13-merge-sigma", kind="explore", section="Annealed Langevin dynamics",
    expected=merge_sigma, rtol=0, atol=0.15,
    mistakes=[Mistake("equal weights",
                      "with equal weights the modes would merge at sigma = 7 (where the "
                      "total standard deviation equals half the distance between the means); "
                      "the unequal weights let the light mode disappear into the heavy one's "
                      "flank earlier.", 7.0)],
    hint="evaluate mix.convolved(noise_std=sigma).log_prob on the diagonal and count its local "
         "maxima for sigma on a fine grid; the slider's frames bracket the answer.")


def _collapse_data(n_memory: int):
    mn = cdata.load_mnist(verbose=False)
    x = 2 * torch.nn.functional.avg_pool2d(mn.x_train, 2).flatten(1) - 1
    xt = 2 * torch.nn.functional.avg_pool2d(mn.x_test, 2).flatten(1) - 1
    return x[:n_memory], xt[:100]


def collapse_step(n_memory: int, steps=tuple(range(25, 1001, 25)), seed: int = 0) -> int:
    """The largest step t of the DDPM schedule (T = 1000) at which the ideal denoiser of
    ``n_memory`` training digits puts, on average over 100 noisy test digits, more than half
    of its weight on a single training digit (0 if it never does on the grid); the top
    weight falls as t grows, so the scan stops at the first step where it is at most 0.5."""
    train, test = _collapse_data(n_memory)
    s = df.linear_schedule()
    g = torch.Generator().manual_seed(seed)
    best = 0
    for t in steps:
        ab = s.alpha_bars[t].item()
        x_t = df.q_sample(test, t, s, g)
        if df.denoiser_weights(x_t, train, ab).max(-1).values.mean() <= 0.5:
            break
        best = t
    return best


value_exercise(
    "13-collapse", kind="explore", section="Memory",
    expected=lambda: collapse_step(2000), rtol=0, atol=25.5,
    hint="compute the mean top weight of the ideal denoiser on the grid of steps for 2,000 "
         "training digits; the answer is the largest step at which it exceeds 0.5 (within one "
         "grid step of 25).")

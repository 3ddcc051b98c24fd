"""Checkers for the exercises of chapter 8, variational autoencoders.

Each checker compares the reader's answer with an independent computation:
``torch.distributions`` for Gaussian divergences and densities, numerical quadrature for
an ELBO, numerical optimisation for the best linear VAE, and the companion's own
implementations (``companion.vae``) for the code exercises.
"""
from __future__ import annotations

import math

import torch
from torch.distributions import Independent, Normal, kl_divergence

from .. import vae
from ._core import Mistake, function_exercise, value_exercise
from ._inputs import randn, uniform

F64 = torch.float64


# ----------------------------------------------------------------- 08-kl-diag (derive)

def _diag_normal(mu, logvar):
    return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)


def _kl_torch(mu_q, logvar_q, mu_p, logvar_p):
    """KL(q || p) between diagonal Gaussians, by torch.distributions (summed over the last axis)."""
    return kl_divergence(_diag_normal(mu_q, logvar_q), _diag_normal(mu_p, logvar_p))


def _kl_cases(gen):
    out = []
    for shape in [(3, 4), (5,), (2, 3, 2)]:
        out.append((2 * randn(gen, *shape), randn(gen, *shape),
                    2 * randn(gen, *shape), randn(gen, *shape)))
    return out


def _kl_sign_slip(mu_q, logvar_q, mu_p, logvar_p):
    vq, vp = logvar_q.exp(), logvar_p.exp()
    return 0.5 * (vq / vp + (logvar_q - logvar_p) + (mu_q - mu_p) ** 2 / vp - 1).sum(-1)


function_exercise(
    "08-kl-diag", kind="derive", section="The KL term in closed form",
    cases=_kl_cases, reference=_kl_torch,
    mistakes=[
        Mistake("the variance used for the standard deviation",
                "exp(logvar) is the variance sigma^2; the standard deviation is exp(logvar / 2). "
                "Your formula behaves as if the variances were sigma^4.",
                lambda mq, lq, mp, lp: _kl_torch(mq, 2 * lq, mp, 2 * lp)),
        Mistake("a missing minus sign",
                "the log term is log(sigma_p^2 / sigma_q^2) = logvar_p - logvar_q: check its sign.",
                _kl_sign_slip),
        Mistake("the divergence the wrong way round",
                "you computed KL(p || q). The divergence is not symmetric: the expectation is "
                "under q, the first argument.",
                lambda mq, lq, mp, lp: _kl_torch(mp, lp, mq, lq)),
    ],
    hint="KL = 1/2 sum_j [ s_q^2/s_p^2 + (mu_q - mu_p)^2/s_p^2 - 1 + log(s_p^2/s_q^2) ], "
         "summed over the last axis.")


# ---------------------------------------------------------------- 08-elbo-gap (derive)

def _elbo_by_quadrature(x, w, s2, m, v, n=4001, width=12.0):
    r"""The ELBO $\int q(z)[\log p(x, z) - \log q(z)]\,dz$ of the 1-D linear-Gaussian model by
    the trapezoid rule over $m \pm 12\sqrt v$: no closed form involved."""
    t = torch.linspace(-width, width, n, dtype=F64)
    z = m[..., None] + v.sqrt()[..., None] * t                       # (..., n)
    log_q = Normal(m[..., None], v.sqrt()[..., None]).log_prob(z)
    log_joint = (Normal(w[..., None] * z, s2.sqrt()[..., None]).log_prob(x[..., None])
                 + Normal(0.0, 1.0).log_prob(z))
    integrand = log_q.exp() * (log_joint - log_q)
    return torch.trapezoid(integrand, z, dim=-1)


def _gap_reference(x, w, s2, m, v):
    log_px = Normal(0.0, (w**2 + s2).sqrt()).log_prob(x)
    return log_px - _elbo_by_quadrature(x, w, s2, m, v)


def _posterior_1d(x, w, s2):
    var = s2 / (w**2 + s2)
    return w * x / (w**2 + s2), var


def _gap_wrong_way(x, w, s2, m, v):
    mp, vp = _posterior_1d(x, w, s2)
    return 0.5 * (vp / v + (m - mp) ** 2 / v - 1 + torch.log(v / vp))


def _gap_cases(gen):
    n = 6
    return [(randn(gen, n) * 2, uniform(gen, 0.3, 2.5, n), uniform(gen, 0.1, 1.5, n),
             randn(gen, n), uniform(gen, 0.05, 2.0, n)) for _ in range(2)]


function_exercise(
    "08-elbo-gap", kind="derive", section="Deriving the ELBO",
    cases=_gap_cases, reference=_gap_reference, rtol=1e-5, atol=1e-7,
    mistakes=[
        Mistake("the divergence the wrong way round",
                "the gap is KL(q || p(z|x)), with the expectation under q; you computed "
                "KL(p(z|x) || q).", _gap_wrong_way),
        Mistake("a missing minus sign",
                "the gap log p(x) - ELBO is never negative; yours is.",
                lambda *a: -_gap_reference(*a)),
    ],
    hint="the gap is KL(q || p(z | x)) with the exact posterior "
         "p(z | x) = N(w x / (w^2 + s2), s2 / (w^2 + s2)).")


# ------------------------------------------------------------ 08-collapse-kl (derive)

def _optimal_kl_numerically(lam: float, s2: float, beta: float) -> float:
    r"""Maximise the expected beta-ELBO of the 1-D linear VAE, decoder x | z ~ N(wz, s2),
    encoder q(z | x) = N(ax, v), on data x ~ N(0, lam), numerically (BFGS over w, a, log v);
    return the KL at the optimum, E_x KL(q(z|x) || N(0, 1)) = (v + a^2 lam - 1 - log v) / 2."""
    from scipy.optimize import minimize

    def kl(p):
        w, a, logv = p
        return 0.5 * (math.exp(logv) + a**2 * lam - 1 - logv)

    def loss(p):                                                    # -beta-ELBO + const
        w, a, logv = p
        sq = (1 - w * a) ** 2 * lam + w**2 * math.exp(logv)        # E (x - w z)^2
        return sq / (2 * s2) + beta * kl(p)

    best = min((minimize(loss, start, method="BFGS", options={"gtol": 1e-10})
                for start in ([1.0, 0.5, 0.0], [0.1, 0.1, -1.0])), key=lambda r: r.fun)
    return kl(best.x)


def _collapse_cases(gen):
    cases = []
    for ratio in (8.0, 2.5, 0.4):                                  # lam / (beta s2): both sides
        s2 = uniform(gen, 0.2, 2.0, 1).item()
        beta = uniform(gen, 0.3, 4.0, 1).item()
        cases.append((ratio * beta * s2, s2, beta))
    return cases


def _collapse_reference(lam, s2, beta):
    return torch.tensor(_optimal_kl_numerically(lam, s2, beta), dtype=F64)


function_exercise(
    "08-collapse-kl", kind="derive", section="Posterior collapse",
    cases=_collapse_cases, reference=_collapse_reference, rtol=1e-3, atol=1e-4,
    mistakes=[
        Mistake("no collapse: the clamp at zero forgotten",
                "when lam < beta s2 the best encoder ignores x and the KL is 0, not negative: "
                "a KL divergence is never below zero.",
                lambda lam, s2, beta: torch.tensor(0.5 * math.log(lam / (beta * s2)), dtype=F64)),
        Mistake("beta left out",
                "the weight beta multiplies the noise variance: the threshold is beta s2.",
                lambda lam, s2, beta: torch.tensor(max(0.0, 0.5 * math.log(lam / s2)), dtype=F64)),
    ],
    hint="the best encoder is the posterior of a model with noise beta s2; the KL is "
         "(1/2) log(lam / (beta s2)) when that is positive.")


# ------------------------------------------------------------------ 08-reparam (code)

def _reparam_cases(gen):
    return [(randn(gen, *shape), randn(gen, *shape), randn(gen, *shape))
            for shape in [(4, 3), (7,), (2, 5, 2)]]


function_exercise(
    "08-reparam", kind="code", section="The reparameterisation",
    cases=_reparam_cases,
    reference=lambda mu, logvar, eps: vae.reparameterize(mu, logvar, eps=eps),
    mistakes=[
        Mistake("the variance used for the standard deviation",
                "scale the noise by sigma = exp(logvar / 2), not by the variance exp(logvar).",
                lambda mu, logvar, eps: mu + logvar.exp() * eps),
        Mistake("the log-variance used as the standard deviation",
                "logvar is log sigma^2, which can be negative; sigma = exp(logvar / 2).",
                lambda mu, logvar, eps: mu + logvar * eps),
    ],
    hint="z = mu + sigma * eps with sigma = exp(logvar / 2).")


# ---------------------------------------------------------------------- 08-iwae (code)

def _iwae_reference(log_w):
    top = log_w.max(dim=0).values                                   # (B,)
    return top + torch.log(torch.exp(log_w - top).mean(dim=0))


def _iwae_cases(gen):
    return [(randn(gen, 5, 4),),                                   # moderate log-weights
            (-800 + 30 * randn(gen, 50, 3),),                      # a digit's: around -800 nats
            (-120 + 5 * randn(gen, 1, 6),)]                        # k = 1: the ELBO's estimate


function_exercise(
    "08-iwae", kind="code", section="The importance-weighted bound",
    cases=_iwae_cases, reference=_iwae_reference, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("the mean of the logs instead of the log of the mean",
                "log_w.mean(0) is the ELBO's estimate, the same for every k; the bound takes the "
                "logarithm of the mean of the weights w_i = exp(log_w_i).",
                lambda log_w: log_w.mean(dim=0)),
        Mistake("forgetting the log k",
                "logsumexp gives log sum_i w_i; the mean divides by k: subtract log k.",
                lambda log_w: torch.logsumexp(log_w, dim=0)),
        Mistake("exponentiating without logsumexp",
                "exp(-800) is 0 in floating point, so log(mean(exp(log_w))) is -inf for real "
                "digits; use torch.logsumexp(log_w, 0) - log k.",
                lambda log_w: torch.log(torch.exp(log_w).mean(dim=0))),
    ],
    hint="log (1/k) sum_i exp(log_w_i) over the first axis, computed stably.")


# --------------------------------------------------------------- 08-gaussian-nll (code)

def _nll_cases(gen):
    out = []
    for b, d in [(3, 8), (1, 5), (6, 2)]:
        x = torch.rand(b, d, generator=gen, dtype=F64)
        out.append((x, x + 0.3 * randn(gen, b, d), uniform(gen, 0.1, 2.0, 1).item()))
    return out


def _nll_plain(x, mean, x_std):
    return 0.5 * ((x - mean) ** 2).sum(-1)


function_exercise(
    "08-gaussian-nll", kind="code", section="Which loss goes with which likelihood",
    cases=_nll_cases,
    reference=lambda x, mean, x_std: -vae.gaussian_log_likelihood(x, mean, x_std),
    mistakes=[
        Mistake("dropping the normalising constant",
                "-log N(x; m, s^2 I) also has (D/2) log(2 pi s^2): without it the loss is not "
                "in nats, and s could not be compared or learned.",
                lambda x, mean, s: ((x - mean) ** 2).sum(-1) / (2 * s**2)),
        Mistake("the standard deviation used for the variance",
                "x_std is sigma; the squared error is divided by 2 sigma^2 and the constant is "
                "(1/2) log(2 pi sigma^2) per pixel.",
                lambda x, mean, s: (((x - mean) ** 2) / (2 * s)).sum(-1)
                + 0.5 * x.shape[-1] * math.log(2 * math.pi * s)),
        Mistake("the plain squared error",
                "(1/2)|x - m|^2 is the Gaussian's loss only for sigma = 1 (and without its "
                "constant); divide by sigma^2 and add the constant.", _nll_plain),
    ],
    hint="sum over pixels of (x - m)^2 / (2 sigma^2) + (1/2) log(2 pi sigma^2).")


# ------------------------------------------------------------ 08-best-sigma (explore)

# The chapter's one-dimensional linear-Gaussian example (its configuration cell repeats these).
TOY_W, TOY_NOISE_VAR, TOY_X = 1.5, 0.5, 2.0


def _toy_posterior_std() -> float:
    model = vae.LinearGaussian(torch.tensor([[TOY_W]], dtype=F64), torch.zeros(1, dtype=F64),
                               TOY_NOISE_VAR)
    _, cov = model.posterior(torch.tensor([[TOY_X]], dtype=F64))
    return cov[0, 0].sqrt().item()


value_exercise(
    "08-best-sigma", kind="explore", section="Deriving the ELBO",
    expected=_toy_posterior_std, rtol=0.0, atol=0.05 + 1e-9,
    mistakes=[Mistake("the posterior variance, not its standard deviation",
                      "the slider moves the standard deviation of q; you typed the variance.",
                      _toy_posterior_std() ** 2)],
    hint="the ELBO is highest, and the gap smallest, where q is the posterior.",
    show=lambda v: f"The posterior's standard deviation is {v:.3f}: there the gap is zero.")


# ---------------------------------------------------------- 08-linear-active (explore)

LINEAR_Z_DIM, LINEAR_X_STD = 20, 1.5


def _linear_active() -> int:
    from .. import data

    # the digits the chapter loaded (on disk by now, or the offline fallback): no download
    x = data.load_mnist(download=False, verbose=False).x_train.reshape(-1, 784).double()
    eigvals = torch.linalg.eigvalsh(torch.cov(x.T)).flip(0)[:LINEAR_Z_DIM]
    return int((vae.linear_vae_kl(eigvals, LINEAR_X_STD**2) > 0).sum())


value_exercise(
    "08-linear-active", kind="explore", section="Posterior collapse",
    expected=_linear_active, rtol=0.0, atol=0.0,
    hint="count the bars above zero at sigma_x = 1.5: the directions whose variance exceeds "
         "sigma_x^2 = 2.25.",
    show=lambda v: f"{v} of the {LINEAR_Z_DIM} latent dimensions stay active.")

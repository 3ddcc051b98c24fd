"""Checkers for the exercises of chapter 6, Helmholtz machines and the wake-sleep algorithm.

Every checker compares the reader's answer with an independent computation: exact sums
over all hidden configurations, autograd, or a numerical minimisation (scipy), never with
the same formula typed twice.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from scipy import optimize

from .. import data
from .. import helmholtz as hh
from ..boltzmann import all_binary_states
from ._core import Mistake, Wrong, custom_exercise, function_exercise, \
    mistake_message, value_exercise
from ._inputs import binary

# ----------------------------------------------------------------------------- helpers


def _random_machine(sizes: Sequence[int], gen: torch.Generator) -> hh.HelmholtzMachine:
    """A float64 machine with N(0, 1) weights and biases drawn from ``gen``."""
    model = hh.HelmholtzMachine(sizes, init_std=1.0, generator=gen).double()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


def _seeded_cases(gen: torch.Generator) -> list:
    """``(model, v, generator)`` for the answers ``f(model, v, generator)``: a fresh random
    machine, a batch of data and a seeded generator (each call gets its own copy of all
    three, so the answer, the reference and each mistake draw the same samples)."""
    cases = []
    for sizes in ((5, 3), (6, 4, 2)):
        model, seed = _random_machine(sizes, gen), int(torch.randint(2**31 - 1, (1,), generator=gen))
        cases.append((model, binary(gen, 8, sizes[0]), torch.Generator().manual_seed(seed)))
    return cases


def _negated(fn: Callable) -> Callable:
    """The same answer with every update's sign flipped."""
    return lambda model, v, generator: [-g for g in fn(model, v, generator)]


def _mean_field_states(model: hh.HelmholtzMachine, v: torch.Tensor) -> list:
    """[v, q_1, ..., q_L]: the recognition network's probabilities passed up in place of samples."""
    states = [v]
    with torch.no_grad():
        for layer in model.recognition:
            states.append(layer.prob(states[-1]))
    return states


# ------------------------------------------------------------- 06-free-energy (code)


def _free_energy_cases(gen: torch.Generator):
    return [(_random_machine(s, gen), binary(gen, 6, s[0]))
            for s in [(4, 3), (5, 3, 2), (6, 2, 2, 1)]]


def _tables(model, v):
    """log q(h | v), log p(v, h) and the posterior p(h | v) for every h: three (B, K) tables."""
    _, log_q, log_joint = model.enumerate_hidden(v)
    return log_q.detach(), log_joint.detach(), log_joint.detach().softmax(1)


def _free_energy_reference(model, v):
    return model.free_energy(v).detach()


function_exercise(
    "06-free-energy", kind="code", section="What the two phases optimise",
    cases=_free_energy_cases, reference=_free_energy_reference,
    mistakes=[
        Mistake("equating F with the Helmholtz free energy",
                "-log p(v) = -log sum_h exp(-E(v, h)) is the smallest value F can take, reached "
                "only when q is the exact posterior; F averages log q(h|v) - log p(v, h) under "
                "the recognition network's own q.",
                lambda model, v: -model.log_marginal(v).detach()),
        Mistake("the average energy without the entropy",
                "F = E_q[E(v, h)] - H[q]: add E_q[log q(h|v)], the negative entropy of q.",
                lambda model, v: (_tables(model, v)[0].exp() * -_tables(model, v)[1]).sum(1)),
        Mistake("weighting by the posterior instead of q",
                "the average is under q(h|v), the recognition network, not under p(h|v).",
                lambda model, v: (_tables(model, v)[2]
                                  * (_tables(model, v)[0] - _tables(model, v)[1])).sum(1)),
        Mistake("a missing minus sign",
                "F = E_q[log q(h|v) - log p(v, h)]; the other order is the evidence lower bound, -F.",
                lambda model, v: -_free_energy_reference(model, v)),
    ],
    hint="enumerate_hidden(v) gives h, log q(h|v) and log p(v, h) for every hidden "
         "configuration; F(v) = sum_h q(h|v) [log q(h|v) - log p(v, h)].")


# ------------------------------------------------------------ 06-wake-update (code)


def _wake_reference(model, v, generator):
    """Autograd's gradient of the batch mean of log p(v, h) at the recognition network's samples."""
    states = model.recognize(v, generator)
    return list(torch.autograd.grad(model.log_joint(states).mean(), model.generative_parameters()))


def _wake_mean_field(model, v, generator):
    states = _mean_field_states(model, v)
    return list(torch.autograd.grad(model.log_joint(states).mean(), model.generative_parameters()))


function_exercise(
    "06-wake-update", kind="code", section="The wake phase",
    cases=_seeded_cases, reference=_wake_reference, rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("probabilities instead of samples in the wake phase",
                "the layers above must be binary samples drawn from the recognition network "
                "(model.recognize(v, generator)), not its probabilities passed up as if they "
                "were states.",
                _wake_mean_field),
        Mistake("a missing minus sign",
                "the wake phase ascends log p(v, h): the error is (state - prediction), "
                "s_below - sigmoid(G s_above + g), not the other way round.",
                _negated(_wake_reference)),
    ],
    hint="draw the states once with model.recognize(v, generator); for each generative "
         "layer the update is (s_below - p)^T s_above / B and the mean of (s_below - p), "
         "with p = sigmoid(G s_above + g); the top biases get the mean of s_L - sigmoid(b).")


# ------------------------------------------------------------ 06-reinforce (code)


def _reinforce_reference(model, v, generator):
    return [g.mean(0) for g in hh.score_function_gradient(model, v, generator)]


def _reinforce_no_signal(model, v, generator):
    states = model.recognize(v, generator)
    return [g.mean(0) for g in hh.recognition_score(model, states)]


function_exercise(
    "06-reinforce", kind="code", section="Descending F directly: the score-function gradient",
    cases=_seeded_cases, reference=_reinforce_reference, rtol=1e-6, atol=1e-9,
    mistakes=[
        Mistake("the learning signal left out",
                "each sample's delta-rule term (s_l - q_l) s_{l-1}^T must be multiplied by its "
                "learning signal f = log q(h|v) - log p(v, h); without it the average is zero "
                "in expectation.",
                _reinforce_no_signal),
        Mistake("a missing minus sign",
                "the learning signal is log q(h|v) - log p(v, h) (the sample's free energy), "
                "not log p(v, h) - log q(h|v).",
                _negated(_reinforce_reference)),
    ],
    hint="draw h once with model.recognize(v, generator); f = log_recognition - log_joint "
         "per sample; for each recognition layer average f (s_l - q_l) s_{l-1}^T and "
         "f (s_l - q_l) over the batch.")


# ------------------------------------------------ 06-exact-recognition (derive)


def _recognition_gap(G: torch.Tensor, g: torch.Tensor, b: torch.Tensor, R, r) -> float:
    """Largest KL(q(h|v) || p(h|v)) over every v, for a (n, 1) machine with recognition (R, r)."""
    n = G.shape[0]
    model = hh.HelmholtzMachine((n, 1), init_std=0.0).double()
    with torch.no_grad():
        model.top_bias.copy_(b.reshape(1))
        model.generative[0].weight.copy_(G.reshape(n, 1))
        model.generative[0].bias.copy_(g.reshape(n))
        model.recognition[0].weight.copy_(torch.as_tensor(R, dtype=torch.float64).reshape(1, n))
        model.recognition[0].bias.copy_(torch.as_tensor(r, dtype=torch.float64).reshape(1))
    v = all_binary_states(n, torch.float64)
    with torch.no_grad():
        gap = model.free_energy(v) + model.log_marginal(v)          # KL(q || posterior) >= 0
    return gap.max().item()


def _exact_recognition_check(answer, gen):
    for n in (3, 5):
        G = 2 * torch.randn(n, 1, generator=gen, dtype=torch.float64)
        g = torch.randn(n, generator=gen, dtype=torch.float64)
        b = torch.randn(1, generator=gen, dtype=torch.float64)
        out = answer(G.clone(), g.clone(), b.clone())
        if out is None or not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Wrong("return a pair (R, r): R of shape (1, n), r of shape (1,).")
        try:
            R = torch.as_tensor(out[0], dtype=torch.float64).reshape(1, n)
            r = torch.as_tensor(out[1], dtype=torch.float64).reshape(1)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise Wrong(f"could not read (R, r) as a (1, {n}) and a (1,) tensor: {exc}") from exc
        gap = _recognition_gap(G, g, b, R, r)
        if gap > 1e-9:
            for m in _EXACT_RECOGNITION_MISTAKES:
                mR, mr = m.answer(G, g, b)
                if torch.allclose(R, mR.reshape(1, n), atol=1e-8) and \
                        torch.allclose(r, mr.reshape(1), atol=1e-8):
                    raise Wrong(mistake_message(m))
            raise Wrong(f"for a machine with {n} visible units, q(h|v) is still {gap:.3g} nats "
                        "from the posterior for some v. Hint: write log p(h=1, v) - log p(h=0, v) "
                        "and collect the terms that multiply v_i.")
    return "q(h | v) equals the posterior for every v (KL < 1e-9 nats, by enumeration)."


def _softplus_sum(G, g):
    return (torch.nn.functional.softplus(G.reshape(-1) + g) - torch.nn.functional.softplus(g)).sum()


_EXACT_RECOGNITION_MISTAKES = [
    Mistake("the normalisers left out",
            "p(v_i | h) = sigma(G_i h + g_i)^v_i sigma(-(G_i h + g_i))^(1 - v_i) contains "
            "-log(1 + exp(G_i h + g_i)), which differs between h = 1 and h = 0: the bias must "
            "subtract sum_i [softplus(G_i + g_i) - softplus(g_i)].",
            lambda G, g, b: (G.reshape(1, -1), b.reshape(1))),
    Mistake("the prior left out",
            "the posterior log-odds include the prior's, b = log p(h=1) - log p(h=0).",
            lambda G, g, b: (G.reshape(1, -1), -_softplus_sum(G, g).reshape(1))),
]

custom_exercise("06-exact-recognition", kind="derive", section="Two networks",
                checker=_exact_recognition_check, mistakes=_EXACT_RECOGNITION_MISTAKES)


# ---------------------------------------------------- 06-sleep-optimum (derive)

_STATES2 = all_binary_states(2, torch.float64)                          # 00, 01, 10, 11


def _posterior_cases(gen: torch.Generator):
    """Random posteriors over h = 00, 01, 10, 11, from nearly uniform to peaked."""
    cases = []
    for spread in (0.5, 1.5, 3.0):
        p = torch.softmax(spread * torch.randn(4, generator=gen, dtype=torch.float64), 0)
        cases.append(((p + 1e-3) / (p + 1e-3).sum(),))
    return cases


def _minimise_reverse_kl(posterior: torch.Tensor) -> torch.Tensor:
    """The factorised q minimising KL(p || q), by numerical minimisation (scipy L-BFGS-B)."""
    p, s = posterior.numpy(), _STATES2.numpy()

    def kl(x):
        q = (x ** s * (1 - x) ** (1 - s)).prod(1)
        return float((p * (np.log(p) - np.log(q))).sum())

    best = optimize.minimize(kl, x0=[0.5, 0.5], method="L-BFGS-B",
                             bounds=[(1e-9, 1 - 1e-9)] * 2,
                             options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000})
    return torch.as_tensor(best.x, dtype=torch.float64)


function_exercise(
    "06-sleep-optimum", kind="derive", section="Why the sleep phase is only approximately right",
    cases=_posterior_cases, reference=_minimise_reverse_kl, rtol=0.0, atol=2e-5,
    mistakes=[
        Mistake("the KL divergence the other way round",
                "that is the q minimising KL(q || p), the free energy's divergence; the sleep "
                "phase minimises KL(p || q).",
                lambda posterior: hh.factorised_fit(posterior, "q||p")),
        Mistake("the mode instead of the marginals",
                "the most probable configuration is not the minimiser: KL(p || q) would be "
                "infinite at a q of zeros and ones.",
                lambda posterior: _STATES2[posterior.argmax()]),
    ],
    hint="write KL(p || q) = -sum_h p(h) log q(h) + const with log q(h) = sum_j [h_j log a_j + "
         "(1 - h_j) log(1 - a_j)], and set the derivative with respect to each a_j to zero.")


# ------------------------------------------------------------ 06-baseline (derive)


def _baseline_cases(gen: torch.Generator):
    cases = []
    for n in (200, 1000):
        f = 3 + 2 * torch.randn(n, generator=gen, dtype=torch.float64)
        score_sq = torch.exp(0.6 * f + 0.5 * torch.randn(n, generator=gen, dtype=torch.float64))
        cases.append((f, score_sq))
    return cases


def _minimise_second_moment(f: torch.Tensor, score_sq: torch.Tensor) -> float:
    """argmin_c mean((f - c)^2 score_sq), by scipy's bounded scalar minimiser."""
    res = optimize.minimize_scalar(lambda c: float(((f - c) ** 2 * score_sq).mean()),
                                   bounds=(f.min().item(), f.max().item()), method="bounded",
                                   options={"xatol": 1e-10})
    return float(res.x)


function_exercise(
    "06-baseline", kind="derive", section="Descending F directly: the score-function gradient",
    cases=_baseline_cases, reference=_minimise_second_moment, rtol=1e-6, atol=1e-6,
    mistakes=[
        Mistake("the mean learning signal",
                "the average of f is a good baseline but not the best one: samples with a large "
                "score ||grad log q||^2 count more, so weight each f by its score.",
                lambda f, score_sq: f.mean().item()),
    ],
    hint="the summed variance is E[(f - c)^2 ||s||^2] - ||grad F||^2; differentiate with "
         "respect to c.")


# ---------------------------------------------------- 06-explaining-away (explore)

PRIOR_LOGITS = [x / 2 for x in range(-12, 7)]      # the slider: b = -6, -5.5, ..., 3
EXCESS_THRESHOLD = 0.1                              # nats


def explaining_away_excess(prior_logit: float) -> float:
    """F(q_sleep) - min_q F(q) for v = 1 in :func:`companion.helmholtz.two_cause_machine`:
    how much more KL(q || p) the sleep phase's factorised q pays than the best factorised q."""
    model = hh.two_cause_machine(prior_logit)
    _, _, log_joint = model.enumerate_hidden(torch.ones(1, 1, dtype=torch.float64))
    post = log_joint.detach().softmax(1)[0]
    kl = []
    for direction in ("p||q", "q||p"):
        q = hh.factorised_q(hh.factorised_fit(post, direction))
        kl.append((q * (q.log() - post.log())).sum().item())
    return kl[0] - kl[1]


value_exercise(
    "06-explaining-away", kind="explore", section="Why the sleep phase is only approximately right",
    expected=lambda: next(b for b in PRIOR_LOGITS if explaining_away_excess(b) < EXCESS_THRESHOLD),
    rtol=0.0, atol=0.5,
    hint="read the extra free energy in the figure's title at each slider position, moving "
         "right from b = -3.",
    show=lambda b: f"From b = {b:g} on, one cause is likely enough a priori that the posterior "
                   "has a single mode, and the marginals cost little.")


# ------------------------------------------------------- 06-weight-scale (explore)

WEIGHT_SCALES = list(range(2, 32, 2))              # the slider: w = 2, 4, ..., 30
KL_THRESHOLD = 0.01                                 # nats


def _scale_answer() -> float:
    images, probs = data.bars_distribution(4)
    return next(w for w in WEIGHT_SCALES
                if hh.kl_divergence(hh.bars_machine(scale=w), images, probs).item() < KL_THRESHOLD)


value_exercise(
    "06-weight-scale", kind="explore", section="What the hidden units learned",
    expected=_scale_answer, rtol=0.0, atol=2.0,
    hint="the exact KL divergence is in the title of each frame; find the first scale at which "
         "it drops below 0.01 nats.",
    show=lambda w: f"Weights of about {w:g} are needed: a pixel that should be off is on with "
                   "probability sigma(-w/2), and most of the 16 pixels should be off.")

"""Checkers for the exercises of chapter 12, modern Hopfield networks."""
from __future__ import annotations

import functools
import math

import torch

from .. import modern_hopfield as mh
from ._core import Mistake, Wrong, custom_exercise, function_exercise, mistake_message, \
    name_mistake, value_exercise
from ._inputs import randn

F64 = torch.float64

# the slider of the section "Retrieval in one update": beta for N = 1,000 patterns at two norms
TRANSITION_BETAS = tuple(2.0 ** k for k in range(-4, 8))
TRANSITION_NORMS = (1.0, 8.0)            # M = 1 and M = sqrt(d) for d = 64
TRANSITION_SEED = 12
# the slider of the section "Three regimes"
REGIME_BETAS = (0.03, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 100.0, 300.0)


# --------------------------------------------------------------------------- 12-zero-temperature
def _unequal_patterns(n, d, gen):
    """Gaussian patterns whose norms differ by up to a factor 6."""
    return randn(gen, n, d) * (0.3 + 1.7 * torch.rand(n, 1, generator=gen, dtype=F64))


def _zero_temperature_cases(gen):
    cases = []
    for n, d, b in [(5, 3, 6), (20, 8, 6), (50, 16, 4)]:
        while True:
            X, xi = _unequal_patterns(n, d, gen), randn(gen, b, d, scale=2.0)
            top2 = (xi @ X.T).topk(2, dim=-1).values
            nearest_differs = bool(((xi @ X.T).argmax(-1) != torch.cdist(xi, X).argmin(-1)).any())
            if (top2[:, 0] - top2[:, 1]).min() > 1e-3 and nearest_differs:
                cases.append((xi, X))
                break
    return cases


def _update_at_huge_beta(xi, patterns):
    """One update at a beta so large that every other weight is below (N-1) e^{-60}: the
    limit beta -> infinity to rounding (the companion's softmax, not an argmax)."""
    top2 = (xi @ patterns.T).topk(2, dim=-1).values
    beta = 60.0 / (top2[:, 0] - top2[:, 1]).min().item()
    return mh.update(xi, patterns, beta)


function_exercise(
    "12-zero-temperature", kind="derive", section="Three regimes",
    cases=_zero_temperature_cases, reference=_update_at_huge_beta, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("the nearest pattern in Euclidean distance",
                "the softmax compares the overlaps x_i^T xi, not the distances; the two choices "
                "agree only when all patterns have the same norm (these do not).",
                lambda xi, X: X[torch.cdist(xi, X).argmin(-1)]),
        Mistake("argmin instead of argmax",
                "as beta grows, the weight concentrates on the largest overlap x_i^T xi.",
                lambda xi, X: X[(xi @ X.T).argmin(-1)]),
        Mistake("the mean of the patterns",
                "that is the limit beta -> 0 (uniform weights); as beta -> infinity the weights "
                "concentrate.",
                lambda xi, X: X.mean(0).expand_as(xi)),
    ],
    hint="divide numerator and denominator of each softmax weight by exp(beta * max_j x_j^T xi) "
         "and let beta grow; return that pattern for every row of xi.")


# --------------------------------------------------------------------------- 12-energy-floor
_FLOOR_MISTAKES = [
    Mistake("the bound 0",
            "0 is a lower bound, but not the best one that depends only on r = |xi| and M: "
            "far from the patterns the energy grows like r^2 / 2.",
            lambda r, M: 0.0 * r * M),
    Mistake("a missing minus sign",
            "Cauchy-Schwarz bounds the overlap x_i^T xi by +rM, and it enters the energy with a "
            "minus sign: the cross term is -rM.",
            lambda r, M: 0.5 * (r + M) ** 2),
    Mistake("the squares subtracted",
            "(r^2 - M^2) / 2 is negative inside the sphere of radius M; complete the square "
            "of r^2 / 2 - rM + M^2 / 2.",
            lambda r, M: 0.5 * (r ** 2 - M ** 2)),
]


def _floor_value(answer, r, M):
    return float(answer(float(r), float(M)))


def _check_floor(answer, gen):
    # 1. a lower bound: below the energy of random memories (norms at most M), any N, beta
    worst = math.inf
    for n, d, beta in [(1, 3, 1.0), (4, 2, 0.05), (30, 8, 3.0), (200, 16, 50.0)]:
        X = _unequal_patterns(n, d, gen)
        M = X.norm(dim=-1).max().item()
        xi = randn(gen, 40, d) * 3 * M / math.sqrt(d) * torch.rand(40, 1, generator=gen, dtype=F64)
        e = mh.energy(xi, X, beta)
        for e_k, r in zip(e.tolist(), xi.norm(dim=-1).tolist()):
            worst = min(worst, e_k - _floor_value(answer, r, M))
    # 2. the best such bound: with one pattern and xi along it, E = |xi - x|^2 / 2 is attained
    tight_gap = 0.0
    for M, t in [(1.0, 0.2), (2.5, 1.0), (0.7, 3.0), (4.0, 0.0), (1.5, 1.8)]:
        x = randn(gen, 1, 5)
        x = M * x / x.norm()
        e = mh.energy(t * x[0], x, 7.0).item()                  # N = 1: log N / beta = 0
        gap = e - _floor_value(answer, t * M, M)                # >= 0 for a lower bound
        worst = min(worst, gap)
        tight_gap = max(tight_gap, abs(gap))
    valid = worst >= -1e-9
    if valid and tight_gap < 1e-9:
        return ("Checked below the energy of 160 states of four random memories, and equal to "
                "it where it is attained (one pattern, xi along it).")
    grid = [(0.3, 1.0), (2.0, 1.5), (5.0, 2.0), (1.0, 1.0)]
    name_mistake([_floor_value(answer, r, M) for r, M in grid], _FLOOR_MISTAKES, grid)
    if not valid:
        raise Wrong(f"not a lower bound: on a test memory the energy lies {-worst:.3g} below "
                    "your bound. Use lse <= max + log(N) / beta and the Cauchy-Schwarz inequality.")
    raise Wrong(f"a valid lower bound, but not the best: with a single pattern x and xi along "
                f"x the energy is attained, and your bound misses it by {tight_gap:.3g}.")


custom_exercise("12-energy-floor", kind="derive", section="The energy is bounded",
                checker=_check_floor, mistakes=_FLOOR_MISTAKES)


# --------------------------------------------------------------------------- 12-mean-exp-logit
_MEAN_EXP_CASES = [(0.5, 1.5, 1.2), (1.0, 0.5, 1.6), (0.2, 2.0, 2.0), (0.7, 1.0, 0.6)]

_MEAN_EXP_MISTAKES = [
    Mistake("variance used for the standard deviation",
            "x^T xi has standard deviation sigma * r, so its variance is sigma^2 r^2.",
            lambda beta, sigma, r: math.exp(beta ** 2 * sigma * r ** 2 / 2)),
    Mistake("missing the factor 1/2",
            "the moment generating function of N(0, s^2) is E[exp(tY)] = exp(t^2 s^2 / 2).",
            lambda beta, sigma, r: math.exp(beta ** 2 * sigma ** 2 * r ** 2)),
    Mistake("the exponential of the mean",
            "E[exp(Y)] is not exp(E[Y]) = 1: the exponential is convex (Jensen), and large "
            "positive overlaps dominate the average.",
            lambda beta, sigma, r: 1.0),
]


def _check_mean_exp(answer, gen):
    d, n = 8, 400_000
    for beta, sigma, r in _MEAN_EXP_CASES:
        got = float(answer(beta, sigma, r))
        xi = randn(gen, d)
        xi = r * xi / xi.norm()
        samples = torch.exp(beta * (randn(gen, n, d, scale=sigma) @ xi))
        mean, se = samples.mean().item(), samples.std().item() / math.sqrt(n)
        if abs(got - mean) > 5 * se:
            name_mistake([float(answer(*c)) for c in _MEAN_EXP_CASES], _MEAN_EXP_MISTAKES,
                         _MEAN_EXP_CASES)
            raise Wrong(f"for beta = {beta}, sigma = {sigma}, r = {r} your formula gives "
                        f"{got:.4f}, but 400,000 random patterns average {mean:.4f} ± {se:.4f}.")
    return "Checked against Monte Carlo averages over 400,000 random patterns, four settings."


custom_exercise("12-mean-exp-logit", kind="derive", section="Retrieval in one update",
                checker=_check_mean_exp, mistakes=_MEAN_EXP_MISTAKES)


# --------------------------------------------------------------------------- 12-energy
def _memory_cases(gen):
    cases = []
    for n, d, b, beta in [(6, 4, 3, 0.3), (25, 10, 5, 2.0), (3, 2, 7, 8.0)]:
        X = _unequal_patterns(n, d, gen)
        cases.append((randn(gen, b, d, scale=1.5), X, beta))
    return cases


def _lse_without_inverse_beta(xi, X, beta):
    return mh.energy(xi, X, beta) + mh.lse(beta, xi @ X.T) - torch.logsumexp(beta * xi @ X.T, -1)


function_exercise(
    "12-energy", kind="code", section="From dense associative memory to continuous states",
    cases=_memory_cases, reference=mh.energy, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("missing 1/beta",
                "lse(beta, z) = (1/beta) log sum_i exp(beta z_i): the logarithm is divided by beta.",
                _lse_without_inverse_beta),
        Mistake("a missing minus sign",
                "the energy contains minus the log-sum-exp: -lse(beta, X^T xi).",
                lambda xi, X, beta: mh.energy(xi, X, beta) + 2 * mh.lse(beta, xi @ X.T)),
        Mistake("the constants left out",
                "add log(N) / beta + M^2 / 2, with M the largest norm of a pattern: they put "
                "the energy's minimum at or above 0.",
                lambda xi, X, beta: mh.energy(xi, X, beta) - math.log(X.shape[0]) / beta
                - 0.5 * X.norm(dim=-1).max() ** 2),
    ],
    hint="E = -(1/beta) logsumexp(beta xi X^T) + |xi|^2 / 2 + log(N) / beta + M^2 / 2 for each "
         "row xi; torch.logsumexp is stable.")


# --------------------------------------------------------------------------- 12-update
function_exercise(
    "12-update", kind="code", section="The update never increases the energy",
    cases=_memory_cases, reference=mh.update, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("softmax over the wrong axis",
                "each query gets its own weights over the N patterns: the softmax runs over the "
                "patterns (the last axis of xi @ patterns.T), not over the batch.",
                lambda xi, X, beta: torch.softmax(beta * xi @ X.T, dim=0) @ X),
        Mistake("missing beta",
                "the inverse temperature multiplies the overlaps inside the softmax: "
                "softmax(beta X^T xi).",
                lambda xi, X, beta: torch.softmax(xi @ X.T, dim=-1) @ X),
    ],
    hint="weights = softmax(beta * xi @ patterns.T) over the patterns; the new state is "
         "weights @ patterns.")


# --------------------------------------------------------------------------- 12-beta-transition
def transition_fractions(seed: int = TRANSITION_SEED) -> dict:
    """For each norm M, the fraction of 1,000 noisy queries that one update brings within
    0.1 M of their pattern, at each beta of the slider (N = 1,000 patterns, d = 64)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for M in TRANSITION_NORMS:
        X = mh.sphere_patterns(1000, 64, M, g, dtype=F64)
        q, i = mh.noisy_queries(X, 1000, g)
        out[M] = [((mh.update(q, X, b) - X[i]).norm(dim=-1) < 0.1 * M).double().mean().item()
                  for b in TRANSITION_BETAS]
    return out


@functools.lru_cache(maxsize=None)         # the same betas every time: computed once
def transition_betas() -> tuple:
    """The smallest beta of the slider at which at least 90% of the queries are retrieved,
    at M = 1 and at M = 8."""
    fractions = transition_fractions()
    return tuple(next(b for b, f in zip(TRANSITION_BETAS, fractions[M]) if f >= 0.9)
                 for M in TRANSITION_NORMS)


_TRANSITION_MISTAKES = [
    Mistake("the same beta at both norms",
            "scaling the patterns and the queries by M multiplies every overlap by M^2: the "
            "softmax sees only beta M^2, so the larger norm needs a much smaller beta.",
            lambda: (transition_betas()[0], transition_betas()[0])),
    Mistake("the two norms swapped",
            "the first number is the beta for M = 1, the second for M = 8.",
            lambda: tuple(reversed(transition_betas()))),
]


def _check_transition(answer, gen):
    truth = transition_betas()
    try:
        got = tuple(float(a) for a in answer)
    except (TypeError, ValueError):
        raise Wrong("answer with two numbers: (beta at M = 1, beta at M = 8)") from None
    if len(got) != 2 or not all(g > 0 for g in got):
        raise Wrong("answer with two positive numbers: (beta at M = 1, beta at M = 8)")
    # one slider step (a factor 2) either way is accepted
    if all(abs(math.log2(g / t)) <= 1.01 for g, t in zip(got, truth)):
        return f"The slider says {truth[0]:g} and {truth[1]:g}: a factor 64 = d, as beta M^2 predicts."
    for m in _TRANSITION_MISTAKES:
        wrong = m.answer()
        if all(abs(math.log2(g / w)) <= 1.01 for g, w in zip(got, wrong)):
            raise Wrong(mistake_message(m))
    raise Wrong("not quite: step through the slider and read, for each norm, the first beta "
                "at which the legend reports at least 90% of the queries within 0.1 M.")


custom_exercise("12-beta-transition", kind="explore", section="Retrieval in one update",
                checker=_check_transition, mistakes=_TRANSITION_MISTAKES, answer_type="value")


# --------------------------------------------------------------------------- 12-own-fixed-points
def smallest_beta_with_twelve_fixed_points() -> float:
    """The smallest beta of the regime slider at which the 12 patterns of the circle memory
    end, from themselves, at 12 different fixed points."""
    X, _ = mh.circle_groups([20.0, 120.0, 235.0], [5, 4, 3], 11.0, 2.0)
    for beta in REGIME_BETAS:
        ends = mh.retrieve(X, X, beta, max_steps=5000, tol=1e-10).state
        if mh.count_distinct(ends, tol=1e-3) == 12:
            return beta
    raise RuntimeError("no beta of the slider separates the 12 patterns")


value_exercise(
    "12-own-fixed-points", kind="explore", section="Three regimes",
    expected=smallest_beta_with_twelve_fixed_points, rtol=0.0, atol=1e-9,
    mistakes=[Mistake("where the weights pick one pattern alone",
                      "the bar chart concentrates on one pattern only at a larger beta; the "
                      "question is when the number of distinct fixed points in the title first "
                      "reaches 12.", 100.0)],
    hint="read the number of distinct fixed points in the slider's title; the answer is one of "
         "the slider's values.")

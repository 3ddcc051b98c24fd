"""Checkers for the exercises of chapter 4, Hopfield networks and Hebbian learning."""
from __future__ import annotations

import math

import torch

from .. import hopfield as hf
from ._core import Mistake, Wrong, custom_exercise, function_exercise, name_mistake, \
    value_exercise

# the values of the retrieval slider of the chapter (section "Retrieval from a corrupted cue")
RETRIEVAL_SLIDER = (0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6)
RETRIEVAL_PICTURES = (0, 2, 3)          # left half, checkerboard, disk
CORRELATED_LOADS = (0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.14, 0.16)


def _symmetric(n: int, gen: torch.Generator, *, zero_diagonal: bool = True) -> torch.Tensor:
    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    w = (a + a.T) / 2
    if zero_diagonal:
        w.fill_diagonal_(0.0)
    return w


def _spins(shape, gen: torch.Generator) -> torch.Tensor:
    return torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0).double()


# --------------------------------------------------------------------------- 04-crosstalk
def _crosstalk_samples(n: int, p: int, gen: torch.Generator, samples: int) -> torch.Tensor:
    r"""Monte Carlo draws of the crosstalk on bit 0 of pattern 0:
    $\frac1N \sum_{\mu \ne 0} \sum_{j \ne 0} \xi^\mu_0 \xi^\mu_j \xi^0_j$."""
    xi = _spins((samples, p, n), gen)
    per_pattern = (xi[:, 1:, 1:] * xi[:, :1, 1:]).sum(-1)        # sum_{j != 0} xi^mu_j xi^0_j
    return (xi[:, 1:, 0] * per_pattern).sum(-1) / n


_CROSSTALK_MISTAKES = [
    Mistake("the large-N variance P/N",
            "P/N is what the variance tends to for large N and P; count the terms exactly "
            "(mu runs over the P - 1 other patterns, j over the N - 1 other neurons).",
            lambda n, p: p / n),
    Mistake("forgetting that j != i",
            "the sum over j leaves out j = i (w_ii = 0), so each other pattern contributes "
            "N - 1 terms, not N.",
            lambda n, p: (p - 1) / n),
    Mistake("dividing by N instead of N^2",
            "the crosstalk carries a factor 1/N, so its variance carries 1/N^2.",
            lambda n, p: (p - 1) * (n - 1) / n),
]


def _check_crosstalk(answer, gen):
    cases = [(int(torch.randint(5, 13, (1,), generator=gen)), int(torch.randint(2, 7, (1,),
                                                                               generator=gen)))
             for _ in range(3)]
    for n, p in cases:
        got = float(answer(n, p))
        c = _crosstalk_samples(n, p, gen, 100_000)
        var = c.var().item()
        se = math.sqrt(max(((c - c.mean()) ** 4).mean().item() - var ** 2, 0.0) / c.numel())
        if abs(got - var) > 5 * se + 1e-12:
            name_mistake([float(answer(*c)) for c in cases], _CROSSTALK_MISTAKES, cases)
            raise Wrong(f"for N = {n}, P = {p} your formula gives {got:.4f}, but 100,000 "
                        f"simulated crosstalks have variance {var:.4f} ± {se:.4f}.")
    return "Checked against the variance of 100,000 simulated crosstalks for three (N, P)."


custom_exercise("04-crosstalk", kind="derive", section="Hebbian storage",
                checker=_check_crosstalk, mistakes=_CROSSTALK_MISTAKES)


# --------------------------------------------------------------------------- 04-flip-delta
def _flip_cases(gen):
    cases = []
    for n, b in [(6, 4), (10, 7), (15, 3)]:
        W = _symmetric(n, gen, zero_diagonal=False)          # self-connections allowed
        cases.append((_spins((b, n), gen), W, torch.randn(n, generator=gen, dtype=torch.float64),
                      int(torch.randint(n, (1,), generator=gen))))
    return cases


def _flip_by_energies(s, W, theta, i):
    """E(s with s_i flipped) - E(s), from two evaluations of the energy."""
    flipped = s.clone()
    flipped[..., i] = -flipped[..., i]
    return hf.energy(flipped, W, theta) - hf.energy(s, W, theta)


def _full_field_delta(s, W, theta, i):
    return 2 * s[..., i] * ((s @ W.T)[..., i] - theta[i])


function_exercise(
    "04-flip-delta", kind="derive", section="The energy never increases",
    cases=_flip_cases, reference=_flip_by_energies, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("forgetting the self-connection",
                "with w_ii != 0 the field h_i = sum_j w_ij s_j contains w_ii s_i, but the "
                "energy's self-term -1/2 w_ii s_i^2 does not change when s_i flips: leave it "
                "out of the difference.",
                _full_field_delta),
        Mistake("a missing minus sign",
                "flipping a neuron that agrees with its field costs energy: Delta E > 0 when "
                "s_i (h_i - theta_i) > 0.",
                lambda s, W, theta, i: -_flip_by_energies(s, W, theta, i)),
        Mistake("missing the factor 2",
                "s_i changes by -2 s_i, not by -s_i.",
                lambda s, W, theta, i: _flip_by_energies(s, W, theta, i) / 2),
    ],
    hint="expand E(s') - E(s) keeping only the terms that contain s_i; remember w_ij = w_ji.")


# --------------------------------------------------------------------------- 04-mixture
def _mixture_by_enumeration(k: int) -> float:
    """E[xi^1 sign(xi^1 + ... + xi^k)] for independent uniform signs, by enumeration."""
    signs = torch.tensor([[1.0 if (c >> j) & 1 else -1.0 for j in range(k)]
                          for c in range(2 ** k)], dtype=torch.float64)
    return (signs[:, 0] * torch.sign(signs.sum(1))).mean().item()


function_exercise(
    "04-mixture", kind="derive", section="Spurious states",
    cases=lambda gen: [(k,) for k in (1, 3, 5, 7, 9, 11)],
    reference=_mixture_by_enumeration, rtol=1e-9, atol=1e-12,
    mistakes=[
        Mistake("the agreement instead of the overlap",
                "the fraction of agreeing bits is (1 + m)/2; the overlap is m = "
                "(agreements - disagreements)/N.",
                lambda k: (1 + _mixture_by_enumeration(k)) / 2),
        Mistake("an equal share 1/k",
                "the mixture is not a 1/k blend of the patterns: count, for each of the 2^k "
                "sign combinations, whether the majority agrees with xi^1.",
                lambda k: 1 / k),
    ],
    hint="xi^1_i agrees with the majority of k signs exactly when the other k - 1 signs do "
         "not outvote it; count those cases.")


# --------------------------------------------------------------------------- 04-hebbian
def _pattern_cases(gen: torch.Generator):
    """Fresh random ±1 patterns: a few sizes, including P > N and a single pattern."""
    shapes = [(3, 16), (1, 9), (20, 12)]
    return [(hf.random_patterns(p, n, gen, dtype=torch.float64),) for p, n in shapes]


function_exercise(
    "04-hebbian", kind="code", section="Hebbian storage",
    cases=_pattern_cases,
    reference=lambda xi: hf.hebbian_weights(xi),
    mistakes=[
        Mistake("dividing by the number of patterns",
                "the rule divides by the number of neurons N = patterns.shape[1], "
                "not by the number of patterns P.",
                lambda xi: hf.hebbian_weights(xi) * xi.shape[1] / xi.shape[0]),
        Mistake("self-connections kept",
                "set the diagonal to zero: a neuron is not connected to itself (w_ii = 0).",
                lambda xi: xi.T @ xi / xi.shape[1]),
    ],
    hint="W = (1/N) sum_mu xi^mu (xi^mu)^T with zero diagonal, for patterns of shape (P, N).")


# --------------------------------------------------------------------------- 04-energy
def _energy_cases(gen):
    cases = []
    for n, b in [(5, 3), (12, 6), (30, 2)]:
        cases.append((_spins((b, n), gen), _symmetric(n, gen),
                      torch.randn(n, generator=gen, dtype=torch.float64)))
    return cases


function_exercise(
    "04-energy", kind="code", section="Neurons, weights and an energy",
    cases=_energy_cases, reference=hf.energy, rtol=1e-9, atol=1e-9,
    mistakes=[
        Mistake("missing the factor 1/2",
                "the double sum over i, j counts every pair twice: E = -1/2 s^T W s + theta^T s.",
                lambda s, W, theta: hf.energy(s, W, theta) - 0.5 * ((s @ W) * s).sum(-1)),
        Mistake("a missing minus sign",
                "the pair term lowers the energy when neurons joined by a positive weight "
                "agree: -1/2 s^T W s.",
                lambda s, W, theta: hf.energy(s, W, theta) + ((s @ W) * s).sum(-1)),
        Mistake("the threshold with the wrong sign",
                "the threshold enters as + theta^T s (a high threshold makes s_i = +1 costly).",
                lambda s, W, theta: hf.energy(s, W, theta) - 2 * (s * theta).sum(-1)),
    ],
    hint="E(s) = -1/2 s^T W s + theta^T s for each row s of the batch.")


# --------------------------------------------------------------------------- 04-async-sweep
def _sweep_cases(gen):
    cases = []
    for n, p, b, with_theta in [(9, 1, 30, False), (20, 3, 8, True), (16, 6, 5, False)]:
        W = hf.hebbian_weights(hf.random_patterns(p, n, gen, dtype=torch.float64))
        theta = (0.2 * torch.randn(n, generator=gen, dtype=torch.float64) if with_theta
                 else torch.zeros(n, dtype=torch.float64))
        cases.append((_spins((b, n), gen), W, theta))
    return cases


def _sweep_with_torch_sign(s, W, theta):
    s = s.clone()
    for i in range(s.shape[-1]):
        s[:, i] = torch.sign(s @ W[i] - theta[i])
    return s


function_exercise(
    "04-async-sweep", kind="code", section="The energy never increases",
    cases=_sweep_cases,
    reference=lambda s, W, theta: hf.async_sweep(s, W, theta, order="fixed"),
    mistakes=[
        Mistake("synchronous instead of asynchronous updates",
                "update the neurons one at a time, each one seeing the new values of the "
                "neurons updated before it in the sweep; computing every field from the old "
                "state is the synchronous rule.",
                lambda s, W, theta: hf.sync_update(s, W, theta)),
        Mistake("torch.sign on a tie",
                "torch.sign(0) is 0, not a spin: when h_i = theta_i exactly the rule sets "
                "s_i = +1 (h_i >= theta_i).",
                _sweep_with_torch_sign),
    ],
    hint="for i = 0, ..., N-1 in turn: h_i = sum_j w_ij s_j with the current s, then "
         "s_i = +1 if h_i >= theta_i else -1.")


# --------------------------------------------------------------------------- 04-slider-q
def largest_q_recovering_every_picture() -> float:
    """The largest flipped fraction on the chapter's retrieval slider at which each of the
    three cued pictures comes back exactly (the frames are computed with seed 1)."""
    _, pictures = hf.picture_patterns(32)
    W = hf.hebbian_weights(pictures)
    best = 0.0
    for q in RETRIEVAL_SLIDER:
        g = torch.Generator().manual_seed(1)
        _, ends = hf.corrupt_and_retrieve(pictures[list(RETRIEVAL_PICTURES)], W, q, g)
        m = hf.overlap(ends, pictures[list(RETRIEVAL_PICTURES)]).diagonal()
        if bool((m == 1).all()):
            best = q
    return best


value_exercise(
    "04-slider-q", kind="explore", section="Retrieval from a corrupted cue",
    expected=largest_q_recovering_every_picture, atol=0.02, rtol=0.0,
    mistakes=[Mistake("one picture is enough",
                      "at q = 0.45 the disk does not come back (its retrieved overlap is below "
                      "+1); every one of the three pictures must end at m = +1.", 0.45)],
    hint="step through the slider's values and check the overlap of each retrieved "
         "picture with its original: all three must read m = +1.00.")


# --------------------------------------------------------------------------- 04-correlated
def correlated_capacity(correlation: float, *, n_neurons: int = 500, seed: int = 0) -> float:
    """The largest load on CORRELATED_LOADS at which at least 90% of the stored patterns,
    used as cues, end with overlap > 0.9 (patterns with mean overlap ``correlation``)."""
    g = torch.Generator().manual_seed(seed)
    m = hf.retrieval_overlaps(n_neurons, CORRELATED_LOADS, starts_per_network=10,
                              networks_per_load=6, max_sweeps=20, correlation=correlation,
                              generator=g)
    ok = [a for a, row in zip(CORRELATED_LOADS, m) if (row > 0.9).float().mean() >= 0.9]
    return max(ok) if ok else 0.0


value_exercise(
    "04-correlated", kind="explore", section="Capacity",
    expected=lambda: correlated_capacity(0.02), atol=0.021, rtol=0.0,
    mistakes=[Mistake("the capacity of uncorrelated patterns",
                      "that is the load for c = 0; run the sweep with correlation=0.02.",
                      lambda: correlated_capacity(0.0))],
    hint="run hf.retrieval_overlaps(500, loads, ..., correlation=0.02) and, for each load, "
         "the fraction of starts that end with m > 0.9; the answer is one of the loads "
         "0.02, 0.04, ..., 0.16 (one grid step either way is accepted).")

"""Checkers for the exercises of chapter 4, Hopfield networks and Hebbian learning."""
from __future__ import annotations

import torch

from .. import hopfield as hf
from ._core import Mistake, function_exercise


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

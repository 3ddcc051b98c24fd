"""Helpers shared by the tests."""


def within_se(estimate: float, truth: float, se: float, k: float = 5.0) -> bool:
    """True when ``estimate`` lies within ``k`` standard errors of ``truth``."""
    return abs(estimate - truth) <= k * se

r"""Chapter 4: spike-timing-dependent plasticity (STDP), a pair-based rule.

Hebb's postulate asks that a synapse grow when the presynaptic cell *takes part in firing*
the postsynaptic one, which implies an order in time. Bi and Poo (1998) measured it in
cultured hippocampal neurons: a synapse was potentiated when the presynaptic spike came
shortly before the postsynaptic one and depressed when it came shortly after. The pair-based
model with an exponential window (as in Song, Miller and Abbott, 2000) adds, for every pair
of a presynaptic spike at $t_{pre}$ and a postsynaptic spike at $t_{post}$, with
$\Delta t = t_{post} - t_{pre}$,

$$\Delta w = \begin{cases} A_+\, e^{-\Delta t / \tau_+} & \Delta t > 0 \text{ (pre leads: potentiation)},\\
-A_-\, e^{\Delta t / \tau_-} & \Delta t < 0 \text{ (pre lags: depression)},\\
0 & \Delta t = 0. \end{cases}$$

Online, the sum over all pairs is computed with two traces: $x$ jumps by 1 at each
presynaptic spike and decays with $\tau_+$; $y$ jumps by 1 at each postsynaptic spike and
decays with $\tau_-$. At a postsynaptic spike $w \mathrel{+}= A_+ x$; at a presynaptic spike
$w \mathrel{-}= A_- y$. Without weight bounds this equals the explicit sum over pairs.

Times are in milliseconds, rates in hertz; spike trains are 1-D float64 tensors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from ._checks import check_generator, check_number, check_tensor
from .seeding import rand

__all__ = [
    "STDPRule",
    "expected_drift",
    "online_stdp",
    "pairwise_weight_change",
    "poisson_spikes",
    "stdp_window",
    "two_neuron_simulation",
]


@dataclass(frozen=True)
class STDPRule:
    """Parameters of the exponential STDP window (amplitudes per pair; time constants in ms).

    The defaults make depression slightly stronger overall than potentiation,
    $A_- \\tau_- > A_+ \\tau_+$, so that uncorrelated firing weakens a synapse on average.
    """

    a_plus: float = 0.005
    a_minus: float = 0.00525
    tau_plus: float = 20.0
    tau_minus: float = 20.0

    def __post_init__(self):
        for name in ("a_plus", "a_minus", "tau_plus", "tau_minus"):
            check_number(name, getattr(self, name), positive=True)

    @property
    def integral(self) -> float:
        r"""$\int \Delta w(\Delta t)\, d\Delta t = A_+ \tau_+ - A_- \tau_-$ (ms per pair)."""
        return self.a_plus * self.tau_plus - self.a_minus * self.tau_minus


def _check_rule(rule) -> STDPRule:
    if not isinstance(rule, STDPRule):
        raise TypeError(f"rule must be an STDPRule, got {type(rule).__name__}")
    return rule


def _check_train(name: str, times) -> Tensor:
    """A spike train: a sorted 1-D floating tensor of finite times (it may be empty)."""
    check_tensor(name, times, ndim=1, floating=True)          # refuses NaN and infinity too
    if times.numel() > 1 and bool((times[1:] < times[:-1]).any()):
        raise ValueError(f"{name} must be sorted in increasing order")
    return times


def stdp_window(dt: Tensor, rule: STDPRule = STDPRule()) -> Tensor:
    r"""The weight change for one pair, as a function of $\Delta t = t_{post} - t_{pre}$ (ms).

    $A_+ e^{-\Delta t/\tau_+}$ for $\Delta t > 0$, $-A_- e^{\Delta t/\tau_-}$ for
    $\Delta t < 0$, and 0 at $\Delta t = 0$. Any shape; returns the same shape.
    """
    check_tensor("dt", dt, floating=True)
    rule = _check_rule(rule)
    ltp = rule.a_plus * torch.exp(-dt.clamp(min=0) / rule.tau_plus)      # pre leads
    ltd = -rule.a_minus * torch.exp(dt.clamp(max=0) / rule.tau_minus)    # pre lags
    return torch.where(dt > 0, ltp, torch.where(dt < 0, ltd, torch.zeros_like(dt)))


def pairwise_weight_change(pre: Tensor, post: Tensor, rule: STDPRule = STDPRule()) -> Tensor:
    r"""$\sum_{t_{pre}} \sum_{t_{post}} \Delta w(t_{post} - t_{pre})$: the explicit sum over all pairs."""
    pre, post = _check_train("pre", pre), _check_train("post", post)
    return stdp_window(post[None, :] - pre[:, None], rule).sum()


def online_stdp(pre: Tensor, post: Tensor, rule: STDPRule = STDPRule(), *, w0: float = 0.0,
                w_min: Optional[float] = None, w_max: Optional[float] = None
                ) -> tuple[Tensor, Tensor]:
    r"""The trace-based online rule, event by event; returns ``(times, weights)``.

    ``weights[k]`` is the weight just after the spikes at ``times[k]`` (the distinct spike
    times, pre and post merged). The traces decay exactly between events,
    $x \leftarrow x\, e^{-\delta/\tau_+}$, $y \leftarrow y\, e^{-\delta/\tau_-}$; at a
    postsynaptic spike $w \mathrel{+}= A_+ x$, at a presynaptic spike $w \mathrel{-}= A_- y$,
    both with the traces from before the current spikes (so simultaneous spikes do not
    interact, as $\Delta w(0) = 0$), then the traces jump. ``w_min`` / ``w_max`` clip the
    weight after every event (hard bounds); without them the final weight is
    ``w0 + pairwise_weight_change(pre, post, rule)``.
    """
    pre, post = _check_train("pre", pre), _check_train("post", post)
    rule = _check_rule(rule)
    w = check_number("w0", w0)
    lo = -math.inf if w_min is None else check_number("w_min", w_min)
    hi = math.inf if w_max is None else check_number("w_max", w_max)
    if lo > hi:
        raise ValueError(f"w_min must be <= w_max, got {lo} > {hi}")
    if not lo <= w <= hi:
        raise ValueError(f"w0 must lie within the bounds [w_min, w_max] = [{lo}, {hi}], got {w}")
    events: dict[float, list[int]] = {}
    for t in pre.tolist():
        events.setdefault(t, [0, 0])[0] += 1
    for t in post.tolist():
        events.setdefault(t, [0, 0])[1] += 1
    x = y = 0.0                                               # pre and post traces
    last = None
    times, weights = [], []
    for t in sorted(events):
        n_pre, n_post = events[t]
        if last is not None:
            x *= math.exp(-(t - last) / rule.tau_plus)
            y *= math.exp(-(t - last) / rule.tau_minus)
        w += rule.a_plus * x * n_post                         # earlier pre spikes: potentiation
        w -= rule.a_minus * y * n_pre                         # earlier post spikes: depression
        w = min(max(w, lo), hi)
        x += n_pre
        y += n_post
        last = t
        times.append(t)
        weights.append(w)
    return (torch.tensor(times, dtype=torch.float64), torch.tensor(weights, dtype=torch.float64))


def poisson_spikes(rate_hz: float, duration_ms: float,
                   generator: Optional[torch.Generator] = None) -> Tensor:
    """A homogeneous Poisson spike train on [0, duration): sorted times in ms (float64)."""
    rate = check_number("rate_hz", rate_hz, nonnegative=True) / 1000.0      # per ms
    duration = check_number("duration_ms", duration_ms, positive=True)
    check_generator("generator", generator)
    if rate == 0:
        return torch.zeros(0, dtype=torch.float64)
    mean = rate * duration
    chunk = int(mean + 10 * math.sqrt(mean) + 10)
    gaps = []
    total = 0.0
    while total < duration:                                   # exponential inter-spike gaps
        u = rand((chunk,), generator, dtype=torch.float64)
        g = -torch.log1p(-u) / rate
        gaps.append(g)
        total += g.sum().item()
    times = torch.cat(gaps).cumsum(0)
    return times[times < duration]


def two_neuron_simulation(latency_ms: float, *, rate_hz: float = 10.0,
                          duration_ms: float = 10_000.0, rule: STDPRule = STDPRule(),
                          w0: float = 0.5, w_max: float = 1.0, jitter_ms: float = 0.0,
                          generator: Optional[torch.Generator] = None) -> dict:
    """Poisson presynaptic spikes; the postsynaptic neuron fires ``latency_ms`` after each one.

    A positive latency means the presynaptic spike leads (it could have caused the
    postsynaptic one); a negative latency means it lags. ``jitter_ms`` adds Gaussian noise
    to each latency. The weight starts at ``w0`` and follows the online rule with hard
    bounds [0, ``w_max``]. Returns a dict with ``pre``, ``post``, ``times`` and ``weights``.
    """
    latency = check_number("latency_ms", latency_ms)
    jitter = check_number("jitter_ms", jitter_ms, nonnegative=True)
    duration = check_number("duration_ms", duration_ms, positive=True)
    check_number("rate_hz", rate_hz, nonnegative=True)
    rule = _check_rule(rule)
    w_max = check_number("w_max", w_max, nonnegative=True)
    w0 = check_number("w0", w0)
    if not 0.0 <= w0 <= w_max:
        raise ValueError(f"w0 must lie within the bounds [0, w_max] = [0, {w_max}], got {w0}")
    check_generator("generator", generator)
    pre = poisson_spikes(rate_hz, duration, generator)
    post = pre + latency
    if jitter > 0:
        noise = torch.randn(pre.shape, generator=generator, dtype=torch.float64)
        post = post + jitter * noise
    post, _ = post[(post >= 0) & (post < duration)].sort()
    times, weights = online_stdp(pre, post, rule, w0=w0, w_min=0.0, w_max=w_max)
    return {"pre": pre, "post": post, "times": times, "weights": weights}


def expected_drift(rate_pre_hz: float, rate_post_hz: float, rule: STDPRule = STDPRule(), *,
                   latency_ms: Optional[float] = None) -> float:
    r"""Mean rate of weight change (per second), without bounds, for Poisson firing.

    Independent trains at rates $r_{pre}, r_{post}$ give
    $\langle \dot w \rangle = r_{pre} r_{post} (A_+\tau_+ - A_-\tau_-)$: only the rates
    matter, through the window's integral. If instead every presynaptic spike is copied to
    the postsynaptic neuron ``latency_ms`` later (so $r_{post} = r_{pre}$), each copy
    adds $\Delta w(\text{latency})$ on top: $r\,\Delta w(d) + r^2 (A_+\tau_+ - A_-\tau_-)$.
    """
    r_pre = check_number("rate_pre_hz", rate_pre_hz, nonnegative=True) / 1000.0
    r_post = check_number("rate_post_hz", rate_post_hz, nonnegative=True) / 1000.0
    rule = _check_rule(rule)
    drift = r_pre * r_post * rule.integral                    # per ms
    if latency_ms is not None:
        d = check_number("latency_ms", latency_ms)
        drift += r_pre * stdp_window(torch.tensor([d], dtype=torch.float64), rule).item()
    return drift * 1000.0

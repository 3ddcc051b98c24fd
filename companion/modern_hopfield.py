r"""Chapter 12: modern Hopfield networks with continuous states (Ramsauer et al., 2021).

Ramsauer et al., "Hopfield networks is all you need" (ICLR 2021, arXiv:2008.02217), store
$N$ patterns $x_i \in \mathbb{R}^d$, the columns of $X = (x_1, \dots, x_N)$, with
$M = \max_i \lVert x_i \rVert$. A state (query) $\xi \in \mathbb{R}^d$ has the energy

$$E(\xi) = -\operatorname{lse}(\beta, X^\top \xi) + \tfrac12 \xi^\top \xi + \beta^{-1}\log N
          + \tfrac12 M^2, \qquad
  \operatorname{lse}(\beta, z) = \beta^{-1} \log \sum_{i=1}^N e^{\beta z_i},$$

with $0 \le E$ everywhere and $E \le 2M^2$ on the convex hull of the patterns (their
Lemma A1), and the update

$$\xi^{\text{new}} = X \operatorname{softmax}(\beta X^\top \xi),$$

the concave-convex procedure (CCCP) for $E$, which never increases it (their Theorem 1).
With queries, keys and values projected from two sets, one update is transformer attention
(their Eq. 10): :func:`hopfield_attention`, used by :class:`HopfieldLayer` and, with a
learned query, by :class:`HopfieldPooling`. The bounds of their Theorems 3 and 5 are
:func:`storage_capacity` and :func:`retrieval_error_bound`.

For the capacity comparison the module also has the *binary* dense associative memory with
the exponential interaction $F(x) = e^x$ of Demircigil et al. (2017),
$E(s) = -\sum_\mu \exp(x_\mu^\top s)$ for $s \in \{-1, +1\}^d$ (:func:`exp_dam_energy`).

Shapes
    The code stores the patterns as **rows**: ``patterns`` is $X^\top$, (N, d), or (K, N, d)
    for K independent memories. States ``xi``: (d,) or (B, d) with one memory, (K, B, d)
    with K memories. Energies and weights come back with the states' leading shape.
    ``beta`` is a positive number (the inverse temperature of the softmax).
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional, Union

import torch
from torch import Tensor, nn

from ._checks import (check_bool, check_choice, check_float_dtype, check_generator, check_int,
                      check_number, check_numbers, check_qkv, check_sequence, check_tensor)
from .seeding import rand, randint, randn, randperm

__all__ = [
    "BagClassifier",
    "HopfieldLayer",
    "HopfieldPooling",
    "Retrieval",
    "StorageCapacity",
    "cccp_bound",
    "circle_groups",
    "count_distinct",
    "energy",
    "exp_dam_energy",
    "exp_dam_flip_delta",
    "exp_dam_unstable_bits",
    "exp_dam_update",
    "fixed_point_error_bound",
    "hopfield_attention",
    "lambert_w0",
    "lse",
    "motif_bags",
    "noisy_queries",
    "retrieval_error_bound",
    "retrieve",
    "separation",
    "softmax_weights",
    "sphere_patterns",
    "storage_capacity",
    "update",
]

Device = Union[str, torch.device, None]


# ----------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------

def _check_beta(beta) -> float:
    return check_number("beta", beta, positive=True)


def _check_patterns(patterns) -> Tensor:
    check_tensor("patterns", patterns, ndim=(2, 3), floating=True)
    if patterns.shape[-2] == 0 or patterns.shape[-1] == 0 or patterns.numel() == 0:
        raise ValueError(f"patterns must not be empty: it must hold at least one pattern of "
                         f"dimension d >= 1, got shape {tuple(patterns.shape)}")
    return patterns


def _checked_memory(xi, patterns, beta) -> tuple[Tensor, Tensor, float, bool]:
    """Check states, patterns and beta together; return (xi as (..., B, d), patterns, beta,
    whether xi was a single vector)."""
    patterns = _check_patterns(patterns)
    beta = _check_beta(beta)
    check_tensor("xi", xi, floating=True)
    d = patterns.shape[-1]
    if xi.dim() == 0 or xi.shape[-1] != d:
        raise ValueError(f"xi must have last dimension d = {d} (the patterns' dimension), "
                         f"got shape {tuple(xi.shape)}")
    if xi.dtype != patterns.dtype:
        raise TypeError(f"xi and patterns must have the same dtype, got {xi.dtype} and "
                        f"{patterns.dtype}")
    single = xi.dim() == 1
    if patterns.dim() == 2:
        if xi.dim() not in (1, 2):
            raise ValueError(f"with patterns of shape (N, d) = {tuple(patterns.shape)}, xi must "
                             f"have shape (d,) or (B, d), got {tuple(xi.shape)}")
    elif xi.dim() != 3 or xi.shape[0] != patterns.shape[0]:
        raise ValueError(f"with K = {patterns.shape[0]} memories, patterns of shape "
                         f"{tuple(patterns.shape)}, xi must have shape (K, B, d) = "
                         f"({patterns.shape[0]}, B, {d}), got {tuple(xi.shape)}")
    return (xi.unsqueeze(0) if single else xi), patterns, beta, single


def _max_norm(patterns: Tensor) -> Tensor:
    """M = max_i ||x_i||, as (1,) for (N, d) patterns or (K, 1) for (K, N, d)."""
    return patterns.norm(dim=-1).amax(dim=-1, keepdim=True)


# ----------------------------------------------------------------------------------------
# energy and update
# ----------------------------------------------------------------------------------------

def lse(beta: float, z: Tensor) -> Tensor:
    r"""$\operatorname{lse}(\beta, z) = \beta^{-1} \log \sum_i e^{\beta z_i}$ over the last axis.

    A smooth maximum: $\max_i z_i \le \operatorname{lse}(\beta, z) \le \max_i z_i +
    \beta^{-1}\log N$. ``z``: (..., N); returns (...). Computed stably with ``logsumexp``.
    """
    beta = _check_beta(beta)
    check_tensor("z", z, floating=True)
    if z.dim() == 0 or z.shape[-1] == 0:
        raise ValueError(f"z must have a non-empty last axis, got shape {tuple(z.shape)}")
    return torch.logsumexp(beta * z, dim=-1) / beta


def energy(xi: Tensor, patterns: Tensor, beta: float) -> Tensor:
    r"""$E(\xi) = -\operatorname{lse}(\beta, X^\top\xi) + \tfrac12\xi^\top\xi + \beta^{-1}\log N
    + \tfrac12 M^2$ for every state; returns xi.shape[:-1].

    ``patterns`` holds $X^\top$ (rows are patterns). $E \ge 0$ for every $\xi$, and
    $E \le 2M^2$ when $\xi$ lies in the convex hull of the patterns (Ramsauer et al.,
    Lemma A1).
    """
    xi, patterns, beta, single = _checked_memory(xi, patterns, beta)
    n = patterns.shape[-2]
    logits = xi @ patterns.transpose(-1, -2)                  # X^T xi: (..., B, N)
    e = (-lse(beta, logits) + 0.5 * (xi * xi).sum(-1)         # -lse + xi^T xi / 2
         + math.log(n) / beta + 0.5 * _max_norm(patterns) ** 2)   # + log(N) / beta + M^2 / 2
    return e.squeeze(0) if single else e


def softmax_weights(xi: Tensor, patterns: Tensor, beta: float) -> Tensor:
    r"""$p = \operatorname{softmax}(\beta X^\top \xi)$: the weight of every pattern, (..., N)."""
    xi, patterns, beta, single = _checked_memory(xi, patterns, beta)
    p = torch.softmax(beta * (xi @ patterns.transpose(-1, -2)), dim=-1)
    return p.squeeze(0) if single else p


def update(xi: Tensor, patterns: Tensor, beta: float) -> Tensor:
    r"""One update $\xi^{\text{new}} = X\operatorname{softmax}(\beta X^\top\xi)$; returns xi's shape.

    It is the gradient of $\operatorname{lse}(\beta, X^\top\xi)$ with respect to $\xi$, and
    so the CCCP step for $E$: the minimiser of the convex upper bound
    $\tfrac12\xi'^\top\xi' - \xi'^\top \nabla\operatorname{lse}(\xi) + \text{const}$.
    The new state is a convex combination of the patterns, whatever $\xi$ was.
    """
    p = softmax_weights(xi, patterns, beta)                   # (..., N)
    return p @ patterns                                       # X p, as rows: (..., d)


def cccp_bound(xi: Tensor, xi_t: Tensor, patterns: Tensor, beta: float) -> Tensor:
    r"""The concave-convex upper bound of the energy at the current state $\xi_t$:

    $$E_C(\xi, \xi_t) = E_1(\xi) + E_2(\xi_t) + (\xi - \xi_t)^\top \nabla E_2(\xi_t),$$

    with the convex $E_1(\xi) = \tfrac12\xi^\top\xi + \beta^{-1}\log N + \tfrac12 M^2$ and the
    concave $E_2(\xi) = -\operatorname{lse}(\beta, X^\top\xi)$, whose gradient is
    $-X\operatorname{softmax}(\beta X^\top\xi)$. Since $E_2$ is concave, $E_C \ge E$, with
    equality at $\xi = \xi_t$; its minimiser over $\xi$ is the update. ``xi`` and ``xi_t``
    have the same shape (states as in :func:`energy`); returns xi.shape[:-1].
    """
    check_tensor("xi", xi, floating=True)
    check_tensor("xi_t", xi_t, floating=True)
    if xi.shape != xi_t.shape:
        raise ValueError(f"xi must have xi_t's shape {tuple(xi_t.shape)}, got "
                         f"{tuple(getattr(xi, 'shape', ()))}")
    e_t = energy(xi_t, patterns, beta)                        # E(xi_t) = E_1(xi_t) + E_2(xi_t)
    grad_e2 = -update(xi_t, patterns, beta)                   # grad E_2(xi_t) = -X softmax(...)
    e1 = lambda v: 0.5 * (v * v).sum(-1)                      # E_1 without its constant
    return e_t + e1(xi) - e1(xi_t) + ((xi - xi_t) * grad_e2).sum(-1)


class Retrieval(NamedTuple):
    """What :func:`retrieve` returns."""

    state: Tensor        # final states, xi's shape
    steps: Tensor        # updates each state needed until a change below tol (long)
    converged: Tensor    # whether it got there within the allowed steps (bool)
    trajectory: Optional[Tensor]  # (T + 1, *xi.shape) when asked for, else None


@torch.no_grad()
def retrieve(xi: Tensor, patterns: Tensor, beta: float, *, n_steps: Optional[int] = None,
             max_steps: int = 100, tol: float = 1e-8,
             return_trajectory: bool = False) -> Retrieval:
    r"""Iterate $\xi \leftarrow X\operatorname{softmax}(\beta X^\top\xi)$ for a batch of states.

    With ``n_steps`` given, exactly that many updates; otherwise until every state moves by
    at most ``tol`` (Euclidean norm) in one update, or ``max_steps`` updates. ``steps``
    counts, for each state, the updates made before the first one that moved it by at most
    ``tol`` (0 for a state that starts at a fixed point).
    """
    xi_b, patterns, beta, single = _checked_memory(xi, patterns, beta)
    if n_steps is not None:
        n_steps = check_int("n_steps", n_steps, min_value=0)
    max_steps = check_int("max_steps", max_steps, min_value=1)
    tol = check_number("tol", tol, nonnegative=True)
    total = max_steps if n_steps is None else n_steps
    steps = torch.zeros(xi_b.shape[:-1], dtype=torch.long, device=xi_b.device)
    done = torch.zeros(xi_b.shape[:-1], dtype=torch.bool, device=xi_b.device)
    path = [xi_b]
    state = xi_b
    for _ in range(total):
        new = update(state, patterns, beta)
        moved = (new - state).norm(dim=-1)
        done_now = ~done & (moved <= tol)
        done = done | done_now
        steps = steps + (~done).long()
        state = new
        if return_trajectory:
            path.append(state)
        if n_steps is None and bool(done.all()):
            break
    converged = done
    traj = torch.stack(path) if return_trajectory else None
    if single:
        state, steps, converged = state.squeeze(0), steps.squeeze(0), converged.squeeze(0)
        traj = traj.squeeze(1) if traj is not None else None
    return Retrieval(state, steps, converged, traj)


def count_distinct(points: Tensor, tol: float = 1e-3) -> int:
    r"""How many different points the rows of ``points`` (n, d) are: a row counts as new
    when it is farther than ``tol`` (Euclidean distance) from every earlier representative
    (greedy, in row order). Counts the fixed points that a batch of iterations reaches."""
    check_tensor("points", points, ndim=2, floating=True, nonempty=True)
    tol = check_number("tol", tol, nonnegative=True)
    reps = points[:1]
    for p in points[1:]:
        if bool(((reps - p).norm(dim=-1) > tol).all()):          # far from every representative
            reps = torch.cat([reps, p[None]])
    return int(reps.shape[0])


def circle_groups(centres, sizes, spacing: float, radius: float = 1.0, *,
                  dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    r"""Patterns on a circle in the plane, in groups of similar patterns.

    Group $g$ has ``sizes[g]`` patterns, ``spacing`` degrees apart, centred on the angle
    ``centres[g]`` (degrees); all lie on the circle of ``radius``. Returns ``(patterns,
    group)``: (N, 2) with $N = \sum_g$ ``sizes[g]``, and each pattern's group, (N,) long.
    """
    centres = check_numbers("centres", centres)
    sizes = [check_int(f"sizes[{i}]", n, min_value=1)
             for i, n in enumerate(check_sequence("sizes", sizes))]
    if len(centres) != len(sizes):
        raise ValueError(f"centres and sizes must have the same length (one entry per group), "
                         f"got {len(centres)} and {len(sizes)}")
    spacing = check_number("spacing", spacing, nonnegative=True)
    radius = check_number("radius", radius, positive=True)
    check_float_dtype("dtype", dtype)
    deg = torch.cat([c + spacing * (torch.arange(n, dtype=dtype) - (n - 1) / 2)
                     for c, n in zip(centres, sizes)])                # angles in degrees
    rad = torch.deg2rad(deg)
    patterns = radius * torch.stack([torch.cos(rad), torch.sin(rad)], dim=1)
    group = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return patterns, group


def noisy_queries(patterns: Tensor, n_queries: int, generator: Optional[torch.Generator] = None,
                  *, noise: float = 1.0) -> tuple[Tensor, Tensor]:
    r"""Queries near stored patterns, each at the norm of its pattern:

    $$\xi = \lVert x_i\rVert\,\frac{x_i + \sigma\lVert x_i\rVert z/\sqrt d}
      {\lVert x_i + \sigma\lVert x_i\rVert z/\sqrt d\rVert}, \qquad z \sim \mathcal N(0, I_d),$$

    with $\sigma$ = ``noise``; the cosine between a query and its pattern is about
    $1/\sqrt{1 + \sigma^2}$ (0.71 for $\sigma = 1$). The patterns $i$ are drawn without
    replacement when ``n_queries`` $\le N$, with replacement otherwise. ``patterns``: (N, d).
    Returns ``(queries, index)``: (n_queries, d) and (n_queries,) long.
    """
    check_tensor("patterns", patterns, ndim=2, floating=True)
    patterns = _check_patterns(patterns)
    n_queries = check_int("n_queries", n_queries, min_value=1)
    check_generator("generator", generator)
    noise = check_number("noise", noise, nonnegative=True)
    n, d = patterns.shape
    dev = patterns.device
    if bool((patterns.norm(dim=-1) == 0).any()):
        raise ValueError("patterns must all have a non-zero norm (a query keeps its pattern's norm)")
    index = (randperm(n, generator, device=dev)[:n_queries] if n_queries <= n
             else randint(n, (n_queries,), generator, device=dev))
    x = patterns[index]
    norm = x.norm(dim=-1, keepdim=True)                                   # ||x_i||
    z = randn((n_queries, d), generator, device=dev, dtype=patterns.dtype)
    q = x + noise * norm * z / math.sqrt(d)                               # x_i + sigma ||x_i|| z / sqrt(d)
    return norm * q / q.norm(dim=-1, keepdim=True), index


# ----------------------------------------------------------------------------------------
# one-step retrieval: separation and the bounds of Ramsauer et al. (Theorem 5)
# ----------------------------------------------------------------------------------------

def separation(patterns: Tensor) -> Tensor:
    r"""$\Delta_i = x_i^\top x_i - \max_{j \ne i} x_i^\top x_j$ for every pattern: (N,) or (K, N).

    The separation of pattern $i$ from the others (Ramsauer et al., Eq. 5). For patterns of
    equal norm it is $\tfrac12 \min_{j\ne i}\lVert x_i - x_j\rVert^2$.
    """
    patterns = _check_patterns(patterns)
    n = patterns.shape[-2]
    if n < 2:
        raise ValueError(f"separation needs at least two patterns, got shape "
                         f"{tuple(patterns.shape)}")
    gram = patterns @ patterns.transpose(-1, -2)              # x_i^T x_j: (..., N, N)
    own = gram.diagonal(dim1=-2, dim2=-1)                     # x_i^T x_i
    eye = torch.eye(n, dtype=torch.bool, device=patterns.device)
    others = gram.masked_fill(eye, float("-inf")).amax(-1)    # max_{j != i} x_i^T x_j
    return own - others


def _index_tensor(index, n: int, shape: torch.Size, device) -> Tensor:
    if isinstance(index, bool):
        raise TypeError(f"index must be an integer or an integer tensor, got {index!r}")
    if isinstance(index, int):
        index = torch.full(shape, index, dtype=torch.long, device=device)
    elif isinstance(index, Tensor):
        if index.dtype in (torch.bool,) or index.is_floating_point() or index.is_complex():
            raise TypeError(f"index must hold integers, got dtype {index.dtype}")
        if index.shape != shape:
            raise ValueError(f"index must have the leading shape {tuple(shape)} of xi (one "
                             f"pattern per state), got "
                             f"{tuple(index.shape)}")
        index = index.to(device=device, dtype=torch.long)
    else:
        raise TypeError(f"index must be an integer or an integer tensor, got "
                        f"{type(index).__name__}")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= n):
        raise ValueError(f"index must lie in [0, {n - 1}] (a pattern), got values from "
                         f"{int(index.min())} to {int(index.max())}")
    return index


def retrieval_error_bound(xi: Tensor, patterns: Tensor, beta: float, index,
                          fixed_point: Optional[Tensor] = None) -> Tensor:
    r"""Ramsauer et al.'s Theorem 5 (Eq. 8), the error after one update from ``xi``:

    $$\lVert f(\xi) - x_i\rVert \le 2 (N-1)
      \exp\!\big(-\beta(\Delta_i - 2\max\{\lVert\xi - x_i\rVert,
                                       \lVert x_i^* - x_i\rVert\}\, M)\big)\, M,$$

    with $x_i^*$ the fixed point near $x_i$ (``fixed_point``, shaped like ``xi``). Without
    ``fixed_point`` the maximum is replaced by $\lVert\xi - x_i\rVert$: the same argument
    (softmax weight of pattern $i$ at least $1 - (N-1)e^{-\beta(\Delta_i - 2\lVert\xi -
    x_i\rVert M)}$, and $\lVert x_i - Xp\rVert \le 2M(1 - p_i)$) gives this slightly tighter
    bound. ``patterns``: (N, d); ``xi``: (d,) or (B, d); ``index``: which pattern each state
    should retrieve (int, or (B,) integers). Returns xi.shape[:-1].
    """
    check_tensor("patterns", patterns, ndim=2, floating=True)
    xi_b, patterns, beta, single = _checked_memory(xi, patterns, beta)
    if fixed_point is not None:
        check_tensor("fixed_point", fixed_point, floating=True)
        if fixed_point.shape != xi.shape:
            raise ValueError(f"fixed_point must have xi's shape {tuple(xi.shape)}, got "
                             f"{tuple(fixed_point.shape)}")
    n = patterns.shape[0]
    idx = _index_tensor(index, n, xi.shape[:-1], xi.device).reshape(xi_b.shape[:-1])
    target = patterns[idx]                                    # x_i for every state: (B, d)
    r = (xi_b - target).norm(dim=-1)                          # ||xi - x_i||
    if fixed_point is not None:                               # max{||xi - x_i||, ||x_i* - x_i||}
        r = torch.maximum(r, (fixed_point.reshape(xi_b.shape) - target).norm(dim=-1))
    m = _max_norm(patterns)                                   # M: (1,)
    delta = separation(patterns)[idx]                         # Delta_i
    bound = 2 * (n - 1) * torch.exp(-beta * (delta - 2 * r * m)) * m
    return bound.squeeze(0) if single else bound


def fixed_point_error_bound(patterns: Tensor, beta: float) -> Tensor:
    r"""Ramsauer et al.'s Theorem 5 (Eq. 9): $\lVert x_i - x_i^*\rVert \le 2e(N-1)M
    e^{-\beta\Delta_i}$, for every pattern: (N,).

    The paper states it for $\lVert x_i - x_i^*\rVert \le 1/(2\beta M)$ (and a query as
    close); it bounds how far the fixed point near a pattern sits from the pattern itself.
    """
    check_tensor("patterns", patterns, ndim=2, floating=True)
    patterns, beta = _check_patterns(patterns), _check_beta(beta)
    n, m = patterns.shape[0], patterns.norm(dim=-1).max()
    return 2 * math.e * (n - 1) * m * torch.exp(-beta * separation(patterns))


# ----------------------------------------------------------------------------------------
# storage capacity of the continuous network (Ramsauer et al., Theorem 3)
# ----------------------------------------------------------------------------------------

def lambert_w0(x: float) -> float:
    r"""The upper branch $W_0$ of the Lambert function, the solution $w \ge -1$ of
    $w e^w = x$, for real $x \ge -1/e$ (Halley's iteration)."""
    x = check_number("x", x)
    if x < -1 / math.e:
        raise ValueError(f"x must be >= -1/e for the real branch W_0, got {x}")
    if x == 0:
        return 0.0
    w = math.log1p(x) if x < math.e else math.log(x) - math.log(math.log(x))
    w = max(w, -1 + 1e-12)
    for _ in range(100):
        ew = math.exp(w)
        f = w * ew - x
        step = f / (ew * (w + 1) - (w + 2) * f / (2 * w + 2))
        w -= step
        if abs(step) <= 1e-15 * (1 + abs(w)):
            break
    return w


class StorageCapacity(NamedTuple):
    """The quantities of Ramsauer et al.'s Theorem 3 for one setting of beta, K, d, p."""

    a: float            # 2/(d-1) (1 + ln(2 beta K^2 p (d-1)))
    b: float            # 2 K^2 beta / 5
    c: float            # b / W_0(exp(a + ln b))
    c_required: float   # (2 / sqrt(p))^(4/(d-1)); the theorem needs c >= c_required
    holds: bool         # c >= c_required
    n_patterns: float   # the lower bound sqrt(p) c^((d-1)/4)
    radius: float       # M = K sqrt(d-1), the radius of the sphere the patterns lie on


def storage_capacity(beta: float, K: float, d: int, p: float) -> StorageCapacity:
    r"""Theorem 3 of Ramsauer et al.: patterns drawn uniformly at random on the sphere of
    radius $M = K\sqrt{d-1}$ in $\mathbb{R}^d$, failure probability $0 < p \le 1$. With

    $$a = \tfrac{2}{d-1}\big(1 + \ln(2\beta K^2 p (d-1))\big),\quad b = \tfrac{2K^2\beta}{5},
      \quad c = \frac{b}{W_0(\exp(a + \ln b))},$$

    and provided $c \ge (2/\sqrt p)^{4/(d-1)}$, with probability $1 - p$ the number of
    random patterns that can be stored is $N \ge \sqrt p\, c^{(d-1)/4}$.
    """
    beta = _check_beta(beta)
    K = check_number("K", K, positive=True)
    d = check_int("d", d, min_value=2)
    p = check_number("p", p, positive=True)
    if p > 1:
        raise ValueError(f"p must be a failure probability in (0, 1], got {p}")
    a = 2 / (d - 1) * (1 + math.log(2 * beta * K ** 2 * p * (d - 1)))
    b = 2 * K ** 2 * beta / 5
    c = b / lambert_w0(math.exp(a + math.log(b)))
    c_required = (2 / math.sqrt(p)) ** (4 / (d - 1))
    return StorageCapacity(a, b, c, c_required, c >= c_required,
                           math.sqrt(p) * c ** ((d - 1) / 4), K * math.sqrt(d - 1))


def sphere_patterns(n: int, d: int, radius: float = 1.0,
                    generator: Optional[torch.Generator] = None, *, n_sets: Optional[int] = None,
                    device: Device = None, dtype: torch.dtype = torch.float32) -> Tensor:
    """``n`` patterns drawn uniformly on the sphere of ``radius`` in R^d: (n, d), or
    (n_sets, n, d) (normalised Gaussian vectors)."""
    n = check_int("n", n, min_value=1)
    d = check_int("d", d, min_value=1)
    radius = check_number("radius", radius, positive=True)
    shape = (n, d) if n_sets is None else (check_int("n_sets", n_sets, min_value=1), n, d)
    g = randn(shape, generator, device=device, dtype=dtype)
    return radius * g / g.norm(dim=-1, keepdim=True)


# ----------------------------------------------------------------------------------------
# binary dense associative memory with F(x) = exp(x) (Demircigil et al., 2017)
# ----------------------------------------------------------------------------------------

def _check_spins(name: str, x) -> Tensor:
    check_tensor(name, x, floating=True)
    if x.numel() == 0 or x.dim() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    if not bool(((x == 1) | (x == -1)).all()):
        raise ValueError(f"{name} must contain only -1 and +1")
    return x


def _check_dam(s, patterns) -> tuple[Tensor, Tensor]:
    _check_spins("s", s)
    check_tensor("patterns", patterns, ndim=2)
    _check_spins("patterns", patterns)
    if s.shape[-1] != patterns.shape[-1]:
        raise ValueError(f"s and patterns must have the same last dimension d, got shapes "
                         f"{tuple(s.shape)} and {tuple(patterns.shape)}")
    if s.dtype != patterns.dtype:
        raise TypeError(f"s and patterns must have the same dtype, got {s.dtype} and "
                        f"{patterns.dtype}")
    return s, patterns


def exp_dam_energy(s: Tensor, patterns: Tensor) -> Tensor:
    r"""$E(s) = -\sum_{\mu} \exp(x_\mu^\top s) = -\exp(\operatorname{lse}(1, X^\top s))$ for
    binary states $s \in \{-1,+1\}^d$; ``patterns``: (N, d) of ±1; returns s.shape[:-1].

    Use float64: the terms reach $e^d$."""
    s, patterns = _check_dam(s, patterns)
    return -torch.exp(torch.logsumexp(s @ patterns.T, dim=-1))


def exp_dam_flip_delta(s: Tensor, patterns: Tensor) -> Tensor:
    r"""$\Delta E_j = E(s \text{ with } s_j \text{ flipped}) - E(s)$ for every bit: (..., d).

    Flipping $s_j$ changes overlap $o_\mu = x_\mu^\top s$ by $-2a_{\mu j}$, $a_{\mu j} =
    s_j x_{\mu j} = \pm 1$, and $e^{-2a} - 1 = (\cosh 2 - 1) - a \sinh 2$; so with weights
    $w_\mu = e^{o_\mu}$ the differences for all bits are two matrix products:
    $\Delta E_j = -(\cosh 2 - 1)\sum_\mu w_\mu + \sinh 2\; s_j \sum_\mu w_\mu x_{\mu j}$.
    """
    s, patterns = _check_dam(s, patterns)
    w = torch.exp(s @ patterns.T)                             # e^{o_mu}: (..., N)
    return -(math.cosh(2) - 1) * w.sum(-1, keepdim=True) + math.sinh(2) * s * (w @ patterns)


def _unstable(s: Tensor, patterns: Tensor) -> Tensor:
    """Bits whose flip lowers the energy: s_j (w X)_j < tanh(1) sum_mu w_mu, with the
    weights rescaled by exp(-max o) (the sign of Delta E does not change)."""
    o = s @ patterns.T
    w = torch.exp(o - o.amax(-1, keepdim=True))
    return s * (w @ patterns) < math.tanh(1) * w.sum(-1, keepdim=True)


def exp_dam_update(s: Tensor, patterns: Tensor, chunk: Optional[int] = None) -> Tensor:
    r"""One update of every bit from the same state (the map $T$ of Demircigil et al.):

    $$T_j(s) = \operatorname{sgn}\Big[\sum_\mu F\big(x_{\mu j} + \textstyle\sum_{l\ne j}
      x_{\mu l}s_l\big) - F\big(-x_{\mu j} + \textstyle\sum_{l\ne j} x_{\mu l}s_l\big)\Big],
      \quad F = \exp,$$

    i.e. each bit takes the value of lower energy given the others ($\Delta E_j < 0$ flips
    it; a tie keeps it). Computed with rescaled weights, so it does not overflow. ``s``:
    (..., d); with ``chunk``, that many states at a time (to bound the memory of the
    (states x patterns) overlaps)."""
    s, patterns = _check_dam(s, patterns)
    if chunk is None:
        return torch.where(_unstable(s, patterns), -s, s)
    chunk = check_int("chunk", chunk, min_value=1)
    flat = s.reshape(-1, s.shape[-1])
    out = torch.cat([torch.where(_unstable(part, patterns), -part, part)
                     for part in flat.split(chunk)])
    return out.reshape(s.shape)


@torch.no_grad()
def exp_dam_unstable_bits(patterns: Tensor, n_test: Optional[int] = None,
                          chunk: int = 256) -> Tensor:
    """How many bits of each of the first ``n_test`` stored patterns one update would flip:
    (n_test,). A pattern is a fixed point when its count is 0. Processed ``chunk`` patterns
    at a time, so that N = 2^16 patterns fit in memory."""
    check_tensor("patterns", patterns, ndim=2)
    _check_spins("patterns", patterns)
    n = patterns.shape[0]
    n_test = n if n_test is None else check_int("n_test", n_test, min_value=1, max_value=n)
    chunk = check_int("chunk", chunk, min_value=1)
    return torch.cat([_unstable(patterns[i:min(i + chunk, n_test)], patterns).sum(-1)
                      for i in range(0, n_test, chunk)])


# ----------------------------------------------------------------------------------------
# Hopfield layers
# ----------------------------------------------------------------------------------------

@torch.no_grad()
def _init_linear_(layers, generator: Optional[torch.Generator]) -> None:
    """Uniform on ±1/sqrt(fan-in), PyTorch's default range, drawn with ``generator``."""
    if generator is None:
        return
    for layer in layers:
        bound = 1.0 / math.sqrt(layer.in_features)
        for p in (layer.weight, layer.bias):
            if p is not None:
                p.copy_(bound * (2 * rand(p.shape, generator, p.device, p.dtype) - 1))


def hopfield_attention(q: Tensor, k: Tensor, v: Tensor, beta: float,
                       n_steps: int = 1) -> tuple[Tensor, Tensor]:
    r"""Hopfield retrieval in a projected space, read out through values.

    The queries (state patterns, rows of ``q``) first take ``n_steps - 1`` updates
    $\xi \leftarrow X\operatorname{softmax}(\beta X^\top\xi)$ with the keys (rows of ``k``)
    as stored patterns; the last update reads out the values instead of the keys:
    $Z = \operatorname{softmax}(\beta\, Q K^\top)\, V$ (softmax over each row). With
    ``n_steps=1`` and $\beta = 1/\sqrt{d_k}$ this is transformer attention.
    ``q`` (..., S, d_k), ``k`` (..., N, d_k), ``v`` (..., N, d_v); returns ``(Z, weights)``,
    (..., S, d_v) and (..., S, N).
    """
    check_qkv(q, k, v)
    beta = _check_beta(beta)
    n_steps = check_int("n_steps", n_steps, min_value=1)
    for _ in range(n_steps - 1):
        q = torch.softmax(beta * q @ k.transpose(-1, -2), dim=-1) @ k   # xi <- X softmax(beta X^T xi)
    weights = torch.softmax(beta * q @ k.transpose(-1, -2), dim=-1)     # softmax(beta Q K^T)
    return weights @ v, weights                                         # Z = weights V


def _as_batch(name: str, x, last: int) -> tuple[Tensor, bool]:
    check_tensor(name, x, ndim=(2, 3), last_dim=last, floating=True)
    return (x.unsqueeze(0), True) if x.dim() == 2 else (x, False)


class HopfieldLayer(nn.Module):
    r"""The layer "Hopfield" of Ramsauer et al. (their Eq. 10): state patterns $R$ (queries)
    and stored patterns $Y$ are projected into a Hopfield space of dimension $d_k$,
    $\Xi^\top = Q = R W_Q$, $X^\top = K = Y W_K$, values $V = Y W_V$, and

    $$Z = \operatorname{softmax}(\beta\, Q K^\top)\, V,$$

    one Hopfield update read out through the values: transformer attention, with
    $\beta = 1/\sqrt{d_k}$ by default. With ``n_steps > 1`` the queries first take
    ``n_steps - 1`` updates $\xi \leftarrow X\operatorname{softmax}(\beta X^\top\xi)$ in the
    Hopfield space. (The paper writes $V = Y W_K W_V$; a separate $W_V$, as transformers
    use, contains that case.) One head; ``bias`` adds biases to the three projections.

    ``forward(R, Y)``: R (B, S, query_dim) or (S, query_dim), Y (B, N, stored_dim) or
    (N, stored_dim); returns Z (B, S, value_dim) (or (S, value_dim)), and the weights
    (B, S, N) with ``return_weights=True``.
    """

    def __init__(self, query_dim: int, stored_dim: int, hopfield_dim: int,
                 value_dim: Optional[int] = None, *, beta: Optional[float] = None,
                 n_steps: int = 1, bias: bool = True,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.query_dim = check_int("query_dim", query_dim, min_value=1)
        self.stored_dim = check_int("stored_dim", stored_dim, min_value=1)
        self.hopfield_dim = check_int("hopfield_dim", hopfield_dim, min_value=1)
        self.value_dim = self.hopfield_dim if value_dim is None else check_int(
            "value_dim", value_dim, min_value=1)
        self.beta = 1 / math.sqrt(self.hopfield_dim) if beta is None else _check_beta(beta)
        self.n_steps = check_int("n_steps", n_steps, min_value=1)
        check_bool("bias", bias)
        check_generator("generator", generator)
        self.q_proj = nn.Linear(self.query_dim, self.hopfield_dim, bias=bias)    # W_Q
        self.k_proj = nn.Linear(self.stored_dim, self.hopfield_dim, bias=bias)   # W_K
        self.v_proj = nn.Linear(self.stored_dim, self.value_dim, bias=bias)      # W_V
        _init_linear_([self.q_proj, self.k_proj, self.v_proj], generator)

    def forward(self, R: Tensor, Y: Tensor, return_weights: bool = False):
        R, single = _as_batch("R", R, self.query_dim)
        Y, single_y = _as_batch("Y", Y, self.stored_dim)
        if single != single_y or R.shape[0] != Y.shape[0]:
            raise ValueError(f"R and Y must both be batched with the same batch size, or both "
                             f"unbatched, got shapes {tuple(R.shape)} and {tuple(Y.shape)}")
        z, w = hopfield_attention(self.q_proj(R), self.k_proj(Y), self.v_proj(Y), self.beta,
                                self.n_steps)
        if single:
            z, w = z.squeeze(0), w.squeeze(0)
        return (z, w) if return_weights else z


class HopfieldPooling(nn.Module):
    r"""The layer "HopfieldPooling" of Ramsauer et al.: the state (query) patterns are
    learned parameters, $\xi_1, \dots, \xi_S \in \mathbb{R}^{d_k}$, and the stored patterns
    are the input set, $K = Y W_K$, $V = Y W_V$:
    $Z = \operatorname{softmax}(\beta\, \Xi^\top K^\top)\, V$, one row per query. It pools a
    set (a bag) of any size into S vectors, and the weights say which elements it used.

    ``forward(Y)``: Y (B, N, stored_dim); returns Z (B, S, value_dim), and the weights
    (B, S, N) with ``return_weights=True``.
    """

    def __init__(self, stored_dim: int, hopfield_dim: int, value_dim: Optional[int] = None, *,
                 n_queries: int = 1, beta: Optional[float] = None, bias: bool = True,
                 generator: Optional[torch.Generator] = None):
        super().__init__()
        self.stored_dim = check_int("stored_dim", stored_dim, min_value=1)
        self.hopfield_dim = check_int("hopfield_dim", hopfield_dim, min_value=1)
        self.value_dim = self.hopfield_dim if value_dim is None else check_int(
            "value_dim", value_dim, min_value=1)
        self.n_queries = check_int("n_queries", n_queries, min_value=1)
        self.beta = 1 / math.sqrt(self.hopfield_dim) if beta is None else _check_beta(beta)
        check_bool("bias", bias)
        check_generator("generator", generator)
        self.query = nn.Parameter(randn((self.n_queries, self.hopfield_dim), generator)
                                  / math.sqrt(self.hopfield_dim))                # Xi^T: (S, d_k)
        self.k_proj = nn.Linear(self.stored_dim, self.hopfield_dim, bias=bias)   # W_K
        self.v_proj = nn.Linear(self.stored_dim, self.value_dim, bias=bias)      # W_V
        _init_linear_([self.k_proj, self.v_proj], generator)

    def forward(self, Y: Tensor, return_weights: bool = False):
        check_tensor("Y", Y, ndim=3, last_dim=self.stored_dim, floating=True)
        q = self.query.unsqueeze(0).expand(Y.shape[0], -1, -1)
        z, w = hopfield_attention(q, self.k_proj(Y), self.v_proj(Y), self.beta, 1)
        return (z, w) if return_weights else z


class BagClassifier(nn.Module):
    r"""A bag (set) of vectors to one logit: pooling, then a linear read-out.

    ``pooling="hopfield"``: :class:`HopfieldPooling` with one learned query; ``"mean"``:
    the average of the bag's vectors (the baseline that treats every element alike).
    ``forward(Y)``: Y (B, N, dim) -> logits (B,); ``attention(Y)``: the pooling weights
    (B, N) (uniform for mean pooling).
    """

    def __init__(self, dim: int, hopfield_dim: int = 16, *, pooling: str = "hopfield",
                 beta: Optional[float] = None, generator: Optional[torch.Generator] = None):
        super().__init__()
        self.dim = check_int("dim", dim, min_value=1)
        self.pooling = check_choice("pooling", pooling, ("hopfield", "mean"))
        check_generator("generator", generator)
        if self.pooling == "hopfield":
            self.pool = HopfieldPooling(self.dim, hopfield_dim, beta=beta, generator=generator)
            width = self.pool.value_dim
        else:
            self.pool, width = None, self.dim
        self.readout = nn.Linear(width, 1)
        _init_linear_([self.readout], generator)

    def attention(self, Y: Tensor) -> Tensor:
        check_tensor("Y", Y, ndim=3, last_dim=self.dim, floating=True)
        if self.pool is None:
            return torch.full(Y.shape[:2], 1.0 / Y.shape[1], dtype=Y.dtype, device=Y.device)
        return self.pool(Y, return_weights=True)[1][:, 0]

    def forward(self, Y: Tensor) -> Tensor:
        check_tensor("Y", Y, ndim=3, last_dim=self.dim, floating=True)
        pooled = Y.mean(1) if self.pool is None else self.pool(Y)[:, 0]
        return self.readout(pooled).squeeze(-1)


def motif_bags(n_bags: int, bag_size: int, motif: Tensor, *, noise: float = 0.5,
               generator: Optional[torch.Generator] = None
               ) -> tuple[Tensor, Tensor, Tensor]:
    r"""A multiple-instance task: bags of ``bag_size`` standard normal vectors; half of the
    bags (label 1) have one element, at a random position, replaced by the ``motif`` plus
    Gaussian noise of standard deviation ``noise``.

    Returns ``(bags, labels, where)``: (n_bags, bag_size, d), (n_bags,) in {0., 1.}, and the
    motif's position in each bag ((n_bags,) long, -1 for a negative bag). Tensors are made
    on the motif's device, with its dtype.
    """
    n_bags = check_int("n_bags", n_bags, min_value=1)
    bag_size = check_int("bag_size", bag_size, min_value=1)
    check_tensor("motif", motif, ndim=1, floating=True, nonempty=True)
    noise = check_number("noise", noise, nonnegative=True)
    check_generator("generator", generator)
    d, dev, dt = motif.shape[0], motif.device, motif.dtype
    bags = randn((n_bags, bag_size, d), generator, device=dev, dtype=dt)
    labels = (rand((n_bags,), generator, device=dev) < 0.5).to(dt)
    pos = randint(bag_size, (n_bags,), generator, device=dev)
    where = torch.where(labels > 0, pos, torch.full_like(pos, -1))
    rows = torch.nonzero(labels > 0).squeeze(1)
    bags[rows, pos[rows]] = motif + noise * randn((len(rows), d), generator, device=dev, dtype=dt)
    return bags, labels, where

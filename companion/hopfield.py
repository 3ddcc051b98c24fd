r"""Chapter 4: binary Hopfield networks, Hebbian storage, capacity and dense associative memory.

A Hopfield network (Hopfield, 1982) has $N$ binary neurons $s_i \in \{-1, +1\}$, symmetric
weights $w_{ij} = w_{ji}$ with $w_{ii} = 0$ and thresholds $\theta_i$. Its energy is

$$E(s) = -\tfrac12 \sum_{i,j} w_{ij} s_i s_j + \sum_i \theta_i s_i
       = -\tfrac12 s^\top W s + \theta^\top s,$$

and a neuron updates by the threshold rule $s_i \leftarrow +1$ if $h_i = \sum_j w_{ij} s_j
\ge \theta_i$, else $-1$. Flipping neuron $i$ changes the energy by
$\Delta E = -(s_i' - s_i)(h_i - \theta_i) \le 0$ (for $w_{ii} = 0$), so asynchronous
updates, one neuron at a time, never increase $E$.

Hebbian storage of $P$ patterns $\xi^\mu \in \{-1, +1\}^N$:
$W = \frac1N \sum_\mu \xi^\mu \xi^{\mu\top}$ with the diagonal set to zero.

Dense associative memory (Krotov and Hopfield, 2016): $E(s) = -\sum_\mu F(\xi^\mu \cdot s)$
with $F(x) = x^n$; $n = 2$ is the classical network up to an affine change of the energy.

Shapes
    patterns: (P, N), or (K, P, N) for K independent networks.
    W: (N, N), or (K, N, N).
    states s: (..., N) with an (N, N) network; (K, B, N) with K networks (B states each).
    theta: ``None`` (zero) or a tensor broadcastable to the states' shape, e.g. (N,).

States and patterns are floating-point tensors holding only -1 and +1.
"""
from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from ._checks import (check_bool, check_broadcasts_to, check_choice, check_generator, check_int,
                      check_number, check_numbers, check_tensor)
from .seeding import rand

__all__ = [
    "ags_critical_load",
    "ags_retrieval_overlap",
    "async_sweep",
    "async_update",
    "check_spins",
    "corrupt",
    "corrupt_and_retrieve",
    "correlated_patterns",
    "dense_async_sweep",
    "dense_energy",
    "dense_flip_delta",
    "dense_run_async",
    "dense_unstable_bits",
    "energy",
    "fixed_point_fraction",
    "fixed_point_probability",
    "hebbian_weights",
    "krotov_hopfield_capacity",
    "level_crossing",
    "local_field",
    "mceliece_capacity",
    "overlap",
    "picture_patterns",
    "random_patterns",
    "retrieval_overlaps",
    "run_async",
    "sign_update",
    "snr_capacity",
    "sync_lyapunov",
    "sync_trajectory",
    "sync_update",
    "unstable_bits",
]


# ----------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------

def check_spins(name: str, x, *, ndim: Optional[Union[int, Sequence[int]]] = None) -> Tensor:
    """Raise unless ``x`` is a floating-point tensor holding only -1 and +1; return it.

    ``name`` is the argument's name for the message; ``ndim`` (an int or a sequence of
    ints), when given, the allowed numbers of dimensions.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string (the argument's name), got {type(name).__name__}")
    if ndim is not None:
        allowed = [ndim] if isinstance(ndim, numbers.Integral) else ndim
        if (isinstance(allowed, (str, bytes)) or not isinstance(allowed, Sequence) or not allowed
                or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                           and d >= 0 for d in allowed)):
            raise TypeError(f"ndim must be None, a non-negative int or a sequence of them, "
                            f"got {ndim!r}")
        ndim = tuple(int(d) for d in allowed)
    check_tensor(name, x, ndim=ndim, floating=True)
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    if not bool(((x == 1) | (x == -1)).all()):
        values = torch.unique(x.detach()).cpu().tolist()
        shown = ", ".join(f"{v:g}" for v in values[:8]) + (", ..." if len(values) > 8 else "")
        raise ValueError(f"{name} must contain only -1 and +1, got values {{{shown}}}")
    return x


def _check_patterns(patterns, name: str = "patterns") -> Tensor:
    return check_spins(name, patterns, ndim=(2, 3))


def _check_weights(W) -> Tensor:
    check_tensor("W", W, ndim=(2, 3), floating=True)
    if W.shape[-1] != W.shape[-2]:
        raise ValueError(f"W must be square, (N, N) or (K, N, N), got shape {tuple(W.shape)}")
    return W


def _check_network(s, W, theta=None, *, spins: bool = True,
                   name: str = "s") -> tuple[Tensor, Tensor, Tensor]:
    """Check states, weights and thresholds together; return theta broadcast to s's shape.

    ``name`` is the states' argument name in the messages (``s``, ``s_prev``, ``patterns``).
    """
    W = _check_weights(W)
    n = W.shape[-1]
    if spins:
        check_spins(name, s)
    else:
        check_tensor(name, s, floating=True, nonempty=True)
    if s.dim() == 0 or s.shape[-1] != n:
        raise ValueError(f"{name} must have last dimension N = {n} (the size of W), "
                         f"got shape {tuple(s.shape)}")
    if W.dim() == 3 and (s.dim() != 3 or s.shape[0] != W.shape[0]):
        raise ValueError(f"with K = {W.shape[0]} networks, W of shape {tuple(W.shape)}, {name} "
                         f"must have shape (K, B, N) = ({W.shape[0]}, B, {n}), got "
                         f"{tuple(s.shape)}")
    if s.dtype != W.dtype or s.device != W.device:
        raise TypeError(f"{name} and W must have the same dtype and device, got {s.dtype} on "
                        f"{s.device} and {W.dtype} on {W.device}")
    if theta is None:
        theta = torch.zeros((), dtype=s.dtype, device=s.device)
    check_tensor("theta", theta, floating=True)
    check_broadcasts_to("theta", theta, s.shape, "the states' shape ")
    return s, W, theta.expand(s.shape)


def _check_threshold(theta, h: Tensor) -> None:
    """A threshold: a finite number, or a finite floating tensor that broadcasts to h."""
    if not isinstance(theta, Tensor):
        check_number("theta", theta)
        return
    check_tensor("theta", theta, floating=True)
    check_broadcasts_to("theta", theta, h.shape, "the shape of h ")


def _generator_device(generator: Optional[torch.Generator]) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


# ----------------------------------------------------------------------------------------
# storage, energy, fields
# ----------------------------------------------------------------------------------------

def random_patterns(n_patterns: int, n_neurons: int, generator: Optional[torch.Generator] = None,
                    *, n_networks: Optional[int] = None, device=None,
                    dtype: torch.dtype = torch.float32) -> Tensor:
    """Independent uniform ±1 patterns: (P, N), or (K, P, N) with ``n_networks=K``."""
    n_patterns = check_int("n_patterns", n_patterns, min_value=1)
    n_neurons = check_int("n_neurons", n_neurons, min_value=1)
    shape = (n_patterns, n_neurons)
    if n_networks is not None:
        shape = (check_int("n_networks", n_networks, min_value=1),) + shape
    u = rand(shape, generator, device=device)
    return torch.where(u < 0.5, -1.0, 1.0).to(dtype)


def correlated_patterns(n_patterns: int, n_neurons: int, correlation: float,
                        generator: Optional[torch.Generator] = None, *,
                        n_networks: Optional[int] = None, device=None,
                        dtype: torch.dtype = torch.float32) -> Tensor:
    r"""Random ±1 patterns that share a prototype, with mean overlap ``correlation`` = $c$.

    Each network draws a uniform prototype $\eta$; each pattern copies every bit of it
    with probability $(1 + \sqrt c)/2$ and takes the opposite bit otherwise, independently.
    Then $\mathbb E[\xi^\mu_i] = \sqrt c\, \eta_i$ and, for two different patterns,
    $\mathbb E[\xi^\mu_i \xi^\nu_i] = c$: they agree on a fraction $(1 + c)/2$ of their
    bits on average. $c = 0$ gives independent uniform patterns. Returns (P, N), or
    (K, P, N) with ``n_networks=K``.
    """
    n_patterns = check_int("n_patterns", n_patterns, min_value=1)
    n_neurons = check_int("n_neurons", n_neurons, min_value=1)
    c = check_number("correlation", correlation, within=(0, 1))
    k = 1 if n_networks is None else check_int("n_networks", n_networks, min_value=1)
    prototype = random_patterns(1, n_neurons, generator, n_networks=k, device=device,
                                dtype=dtype)                  # (K, 1, N)
    keep = rand((k, n_patterns, n_neurons), generator, device=device) < (1 + math.sqrt(c)) / 2
    patterns = torch.where(keep, prototype, -prototype)      # copy or oppose each bit
    return patterns[0] if n_networks is None else patterns


def picture_patterns(side: int = 32, device=None) -> tuple[list[str], Tensor]:
    """Six simple ±1 pictures of ``side`` x ``side`` pixels that are exactly orthogonal.

    Left half, top half, a checkerboard of 4 x 4 squares, a centred disk of about half the
    area, horizontal and vertical stripes: each has (about) half of its pixels on, and every
    pair agrees on exactly half of the pixels (for ``side`` a multiple of 16), so the
    crosstalk between them vanishes. Returns ``(names, patterns)`` with patterns of shape (6, side * side).
    """
    side = check_int("side", side, min_value=16)
    if side % 16:
        raise ValueError(f"side must be a multiple of 16, got {side}")
    y, x = torch.meshgrid(torch.arange(side, device=device), torch.arange(side, device=device),
                          indexing="ij")
    c, q = (side - 1) / 2, side // 4
    pictures = {
        "left half": x < side // 2,
        "top half": y < side // 2,
        "checkerboard": (x // q + y // q) % 2 == 0,
        "disk": (x - c) ** 2 + (y - c) ** 2 < side * side / (2 * math.pi),
        "horizontal stripes": (y // (side // 8)) % 2 == 0,
        "vertical stripes": (x // (side // 8)) % 2 == 0,
    }
    patterns = torch.stack([torch.where(v, 1.0, -1.0).flatten() for v in pictures.values()])
    return list(pictures), patterns


def hebbian_weights(patterns: Tensor, *, normalize: bool = True) -> Tensor:
    r"""Hebbian weights $W = \frac1N \sum_\mu \xi^\mu \xi^{\mu\top}$, diagonal set to zero.

    ``patterns``: (P, N) or (K, P, N); returns (N, N) or (K, N, N). The normalisation is by
    the number of **neurons** $N$, which makes the field of a stored pattern on itself
    $O(1)$ whatever $N$. With ``normalize=False`` the weights are the integers
    $\sum_\mu \xi^\mu_i \xi^\mu_j$: the same dynamics (with zero thresholds only a positive
    factor separates them) and exact arithmetic in float32.
    """
    _check_patterns(patterns)
    check_bool("normalize", normalize)
    n = patterns.shape[-1]
    W = patterns.transpose(-1, -2) @ patterns                 # sum_mu xi_i^mu xi_j^mu
    W.diagonal(dim1=-2, dim2=-1).zero_()                      # no self-connections
    return W / n if normalize else W


def local_field(s: Tensor, W: Tensor) -> Tensor:
    r"""$h_i = \sum_j w_{ij} s_j$: (..., N) for an (N, N) network, (K, B, N) for (K, N, N)."""
    s, W, _ = _check_network(s, W, spins=False)
    return s @ W.transpose(-1, -2)


def energy(s: Tensor, W: Tensor, theta: Optional[Tensor] = None) -> Tensor:
    r"""$E(s) = -\tfrac12 s^\top W s + \theta^\top s$ for a batch of states; returns s.shape[:-1]."""
    s, W, theta = _check_network(s, W, theta)
    h = s @ W.transpose(-1, -2)                               # h_i = sum_j w_ij s_j
    return -0.5 * (s * h).sum(-1) + (theta * s).sum(-1)


def _check_states(s, patterns) -> None:
    """States s (..., N) of ±1 against patterns (P, N), or (K, B, N) against (K, P, N)."""
    check_spins("s", s)
    _check_patterns(patterns)
    if s.shape[-1] != patterns.shape[-1]:
        raise ValueError(f"s and patterns must have the same last dimension N, got shapes "
                         f"{tuple(s.shape)} and {tuple(patterns.shape)}")
    if patterns.dim() == 3 and (s.dim() != 3 or s.shape[0] != patterns.shape[0]):
        raise ValueError(f"with patterns of shape {tuple(patterns.shape)}, s must have shape "
                         f"(K, B, N) with K = {patterns.shape[0]}, got {tuple(s.shape)}")
    if s.dtype != patterns.dtype or s.device != patterns.device:
        raise TypeError(f"s and patterns must have the same dtype and device, got {s.dtype} on "
                        f"{s.device} and {patterns.dtype} on {patterns.device}")


def overlap(s: Tensor, patterns: Tensor) -> Tensor:
    r"""Overlaps $m_\mu = \frac1N\, s \cdot \xi^\mu$: (..., P) for (P, N) patterns, (K, B, P) for (K, P, N)."""
    _check_states(s, patterns)
    return s @ patterns.transpose(-1, -2) / s.shape[-1]


def corrupt(x: Tensor, fraction: float, generator: Optional[torch.Generator] = None) -> Tensor:
    """A copy of ``x`` (..., N) with exactly ``round(fraction * N)`` random bits flipped per row."""
    check_spins("x", x)
    fraction = check_number("fraction", fraction, within=(0, 1))
    check_generator("generator", generator)
    n = x.shape[-1]
    k = int(round(fraction * n))
    keys = rand(x.shape, generator, device=x.device)
    ranks = keys.argsort(-1).argsort(-1)                      # a random permutation per row
    return torch.where(ranks < k, -x, x)


# ----------------------------------------------------------------------------------------
# dynamics
# ----------------------------------------------------------------------------------------

def sign_update(h: Tensor, theta: Union[Tensor, float] = 0.0) -> Tensor:
    r"""The threshold rule: $+1$ where $h \ge \theta$, else $-1$ (a tie goes to $+1$).

    ``theta``: a number, or a tensor that broadcasts to the shape of ``h``.
    """
    check_tensor("h", h, floating=True)
    _check_threshold(theta, h)
    return _sign(h, theta)


def _sign(h: Tensor, theta: Union[Tensor, float] = 0.0) -> Tensor:
    """:func:`sign_update` without the argument checks, for inputs known to be valid."""
    return torch.where(h >= theta, 1.0, -1.0).to(h.dtype)


def async_update(s: Tensor, W: Tensor, i: int, theta: Optional[Tensor] = None) -> Tensor:
    r"""Update neuron ``i`` of every state in the batch: $s_i \leftarrow \operatorname{sign}(h_i - \theta_i)$.

    Returns a new tensor; the other neurons are unchanged. The energy changes by
    $\Delta E = -(s_i' - s_i)(h_i - \theta_i) \le 0$ when $w_{ii} = 0$.
    """
    s, W, theta = _check_network(s, W, theta)
    i = check_int("i", i, min_value=0, max_value=s.shape[-1] - 1)
    row = W[..., i, :]                                        # w_ij for all j: (N,) or (K, N)
    if W.dim() == 3:
        row = row.unsqueeze(1)                                # (K, 1, N) against (K, B, N)
    h_i = (s * row).sum(-1)                                   # h_i = sum_j w_ij s_j
    out = s.clone()
    out[..., i] = sign_update(h_i, theta[..., i])
    return out


def _order(n: int, order: str, generator: Optional[torch.Generator]) -> list[int]:
    if order == "fixed":
        return list(range(n))
    return torch.randperm(n, generator=generator, device=_generator_device(generator)).tolist()


def async_sweep(s: Tensor, W: Tensor, theta: Optional[Tensor] = None, *, order: str = "random",
                generator: Optional[torch.Generator] = None) -> Tensor:
    """One asynchronous sweep: every neuron updated once, one at a time.

    ``order="fixed"`` visits 0, 1, ..., N-1; ``"random"`` draws a permutation with
    ``generator`` (shared by the whole batch). This is the plain reference implementation;
    :func:`run_async` computes the same dynamics much faster.
    """
    s, W, theta = _check_network(s, W, theta)
    check_choice("order", order, ("random", "fixed"))
    check_generator("generator", generator)
    for i in _order(s.shape[-1], order, generator):
        s = async_update(s, W, i, theta)
    return s


def sync_update(s: Tensor, W: Tensor, theta: Optional[Tensor] = None) -> Tensor:
    r"""Synchronous update, all neurons at once: $s \leftarrow \operatorname{sign}(W s - \theta)$."""
    s, W, theta = _check_network(s, W, theta)
    return sign_update(s @ W.transpose(-1, -2), theta)


def sync_trajectory(s: Tensor, W: Tensor, theta: Optional[Tensor] = None, *,
                    n_steps: int) -> Tensor:
    """The states visited by ``n_steps`` synchronous updates: (n_steps + 1, *s.shape)."""
    _check_network(s, W, theta)
    n_steps = check_int("n_steps", n_steps, min_value=0)
    states = [s]
    for _ in range(n_steps):
        states.append(sync_update(states[-1], W, theta))
    return torch.stack(states)


def sync_lyapunov(s_prev: Tensor, s_next: Tensor, W: Tensor,
                  theta: Optional[Tensor] = None) -> Tensor:
    r"""$L(t) = -s(t)^\top W s(t-1) + \theta^\top (s(t) + s(t-1))$, the two-step function
    that synchronous dynamics never increase when $W$ is symmetric.

    With $s(t+1) = \operatorname{sign}(W s(t) - \theta)$,
    $L(t+1) - L(t) = -\sum_i (s_i(t+1) - s_i(t-1))(h_i(t) - \theta_i) \le 0$, so the
    dynamics end in a fixed point or a cycle of length two.
    """
    s_prev, W, theta = _check_network(s_prev, W, theta, name="s_prev")
    check_spins("s_next", s_next)
    if s_next.shape != s_prev.shape:
        raise ValueError(f"s_next must have the shape of s_prev {tuple(s_prev.shape)}, "
                         f"got {tuple(s_next.shape)}")
    cross = (s_next * (s_prev @ W.transpose(-1, -2))).sum(-1)   # s(t)^T W s(t-1)
    return -cross + (theta * (s_next + s_prev)).sum(-1)


@torch.no_grad()
def run_async(s: Tensor, W: Tensor, theta: Optional[Tensor] = None, *, max_sweeps: int = 100,
              order: str = "random", generator: Optional[torch.Generator] = None
              ) -> tuple[Tensor, Tensor, Tensor]:
    r"""Asynchronous dynamics until a fixed point, for a whole batch at once.

    The same dynamics as repeated :func:`async_sweep` calls, computed event by event: in a
    sweep, a neuron whose sign already agrees with its field does nothing, so each step
    jumps, in every state of the batch at once, to the next neuron *in that state's own
    order* that will flip, flips it and updates the fields incrementally,
    $h \leftarrow h + (s_i' - s_i)\, W_{:, i}$. The cost is proportional to the number of
    flips, not to $N \times$ sweeps. With ``order="random"`` each state draws its own
    permutation for every sweep; with ``"fixed"`` every sweep visits 0, ..., N-1.

    Returns ``(states, sweeps, converged)``: the final states (the input's shape), the
    number of sweeps each needed (the last one found no neuron to flip), and whether each
    reached a fixed point within ``max_sweeps``. Descent, and so convergence, is guaranteed
    for symmetric W with a non-negative diagonal.
    """
    s, W, theta = _check_network(s, W, theta)
    max_sweeps = check_int("max_sweeps", max_sweeps, min_value=1)
    check_choice("order", order, ("random", "fixed"))
    check_generator("generator", generator)
    n = s.shape[-1]
    out = s.reshape(-1, n).clone()
    n_rows = out.shape[0]
    dev = s.device
    sweeps_out = torch.zeros(n_rows, dtype=torch.long, device=dev)
    conv_out = torch.zeros(n_rows, dtype=torch.bool, device=dev)
    Wt = W.transpose(-1, -2).contiguous()                     # row i of Wt = column i of W
    net = (torch.arange(n_rows, device=dev) // s.shape[1]) if W.dim() == 3 else None

    def keys_for(rows: int) -> Tensor:                        # position of each neuron in the order
        if order == "fixed":
            return torch.arange(n, dtype=s.dtype, device=dev).expand(rows, n).clone()
        return rand((rows, n), generator, device=dev, dtype=s.dtype)

    ids = torch.arange(n_rows, device=dev)
    sa, ha = out.clone(), (s @ W.transpose(-1, -2)).reshape(-1, n).clone()
    tha, keys = theta.reshape(-1, n), keys_for(n_rows)
    cur = torch.full((n_rows,), -1.0, dtype=s.dtype, device=dev)     # position reached
    sweep = torch.ones(n_rows, dtype=torch.long, device=dev)
    inf = torch.tensor(float("inf"), dtype=s.dtype, device=dev)
    while ids.numel():
        want = _sign(ha, tha)
        unstable = want != sa
        cand = torch.where(unstable & (keys > cur[:, None]), keys, inf)
        kmin, i = cand.min(1)
        flip = torch.isfinite(kmin)
        r = flip.nonzero().squeeze(1)
        if r.numel():
            ii, new = i[r], want[r, i[r]]
            sa[r, ii] = new
            rows = Wt[ii] if net is None else Wt[net[r], ii]
            ha[r] += (2 * new)[:, None] * rows                # h += (s_i' - s_i) W[:, i]
            cur[r] = kmin[r]
        stable = ~unstable.any(1)                             # a fixed point: done
        ended = ~flip & ~stable                               # the sweep is over: start another
        e = ended.nonzero().squeeze(1)
        if e.numel():
            sweep[e] += 1
            cur[e] = -1.0
            if order == "random":
                keys[e] = keys_for(e.numel())
        finish = stable | (sweep > max_sweeps)
        if bool(finish.any()):
            f = ids[finish]
            out[f], conv_out[f] = sa[finish], stable[finish]
            sweeps_out[f] = sweep[finish].clamp(max=max_sweeps)
            keep = ~finish
            ids, sa, ha, tha, keys = ids[keep], sa[keep], ha[keep], tha[keep], keys[keep]
            cur, sweep = cur[keep], sweep[keep]
            if net is not None:
                net = net[keep]
    shape = s.shape[:-1]
    return out.reshape(s.shape), sweeps_out.reshape(shape), conv_out.reshape(shape)


def corrupt_and_retrieve(patterns: Tensor, W: Tensor, fraction: float,
                         generator: Optional[torch.Generator] = None, *,
                         max_sweeps: int = 100) -> tuple[Tensor, Tensor]:
    """Flip a fraction of the bits of each pattern, then run asynchronous dynamics from there.

    ``patterns``: (B, N) cues to be made from (usually stored patterns); ``W``: (N, N).
    Returns ``(cues, ends)``, both (B, N): :func:`corrupt` then :func:`run_async`, with the
    same generator for the flipped bits and the update orders.
    """
    _check_network(patterns, W, name="patterns")
    fraction = check_number("fraction", fraction)
    check_generator("generator", generator)
    max_sweeps = check_int("max_sweeps", max_sweeps, min_value=1)
    cues = corrupt(patterns, fraction, generator)
    ends, _, _ = run_async(cues, W, max_sweeps=max_sweeps, generator=generator)
    return cues, ends


# ----------------------------------------------------------------------------------------
# capacity
# ----------------------------------------------------------------------------------------

def unstable_bits(patterns: Tensor) -> Tensor:
    r"""How many bits of each stored pattern the Hebbian network (zero thresholds) would flip.

    ``patterns``: (P, N) or (K, P, N); returns (P,) or (K, P) integer counts. A pattern is
    a fixed point when its count is 0. Computed for all patterns at once with batched
    matrix products, $N h = (\Xi \Xi^\top) \Xi - P\,\Xi$, in exact integer arithmetic
    (float64 when float32 could not hold the sums exactly).
    """
    _check_patterns(patterns)
    p, n = patterns.shape[-2:]
    x = patterns if p * n < 2**24 else patterns.double()
    fields = (x @ x.transpose(-1, -2)) @ x - p * x            # N h_i at each stored pattern
    return (sign_update(fields) != x).sum(-1)


@torch.no_grad()
def retrieval_overlaps(n_neurons: int, loads: Sequence[float], *, starts_per_network: int,
                       networks_per_load: int, flip_fraction: float = 0.0,
                       max_sweeps: int = 50, correlation: float = 0.0,
                       generator: Optional[torch.Generator] = None,
                       device=None) -> Tensor:
    r"""Final overlaps after asynchronous retrieval, for every load $\alpha = P/N$ at once.

    For each load, ``networks_per_load`` networks each store
    $P = \operatorname{round}(\alpha N)$ random patterns (at least ``starts_per_network``);
    the first ``starts_per_network`` patterns of each network, with a fraction
    ``flip_fraction`` of bits flipped, are the cues. With ``correlation`` $c > 0$ the
    patterns of each network share a prototype (:func:`correlated_patterns`). All networks
    of all loads run in one batch (:func:`run_async`). Returns (len(loads),
    networks_per_load * starts_per_network): the overlap of each final state with the
    pattern it started from.
    """
    n_neurons = check_int("n_neurons", n_neurons, min_value=2)
    starts_per_network = check_int("starts_per_network", starts_per_network, min_value=1)
    networks_per_load = check_int("networks_per_load", networks_per_load, min_value=1)
    loads = check_numbers("loads", loads, positive=True)
    flip_fraction = check_number("flip_fraction", flip_fraction, within=(0, 1))
    max_sweeps = check_int("max_sweeps", max_sweeps, min_value=1)
    correlation = check_number("correlation", correlation, within=(0, 1))
    check_generator("generator", generator)
    n, b, k = n_neurons, starts_per_network, networks_per_load
    weights, targets = [], []
    for alpha in loads:
        p = max(b, round(alpha * n))                          # patterns stored at this load
        xi = (correlated_patterns(p, n, correlation, generator, n_networks=k, device=device)
              if correlation > 0 else random_patterns(p, n, generator, n_networks=k, device=device))
        weights.append(hebbian_weights(xi, normalize=False))  # integer weights: exact ties
        targets.append(xi[:, :b])                             # the first b patterns are the cues
    W, targets = torch.cat(weights), torch.cat(targets)       # (L*K, N, N), (L*K, b, N)
    cues = corrupt(targets, flip_fraction, generator)
    final, _, _ = run_async(cues, W, max_sweeps=max_sweeps, generator=generator)
    m = (final * targets).sum(-1) / n                         # overlap with the start: (L*K, b)
    return m.reshape(len(loads), k * b)


def mceliece_capacity(n_neurons: Union[int, float], *, every_pattern: bool = False) -> float:
    r"""McEliece, Posner, Rodemich and Venkatesh (1987): $N / (2 \ln N)$, or $N / (4 \ln N)$.

    With $P$ random patterns stored by the Hebbian rule, $N/(2\ln N)$ is the largest $P$
    (asymptotically, natural logarithm) for which each pattern, and so most of them, is a
    fixed point with probability tending to one; $N/(4\ln N)$ is the largest for which
    every pattern is, all at once.
    """
    n = check_number("n_neurons", n_neurons, positive=True)
    if n <= 1:
        raise ValueError(f"n_neurons must be > 1, got {n}")
    check_bool("every_pattern", every_pattern)
    return n / ((4 if every_pattern else 2) * math.log(n))


def _double_factorial(k: int) -> int:
    return math.prod(range(k, 0, -2)) if k > 0 else 1


def krotov_hopfield_capacity(n_neurons: Union[int, float], n: int = 2) -> float:
    r"""$N^{n-1} / (2 (2n-3)!! \ln N)$: the number of patterns that dense associative memory
    with $F(x) = x^n$ stores with each pattern a fixed point (Krotov and Hopfield, 2016);
    $n = 2$ gives McEliece et al.'s $N / (2 \ln N)$."""
    big_n = check_number("n_neurons", n_neurons, positive=True)
    n = check_int("n", n, min_value=2)
    if big_n <= 1:
        raise ValueError(f"n_neurons must be > 1, got {big_n}")
    return big_n ** (n - 1) / (2 * _double_factorial(2 * n - 3) * math.log(big_n))


def fixed_point_probability(n_neurons: int, n_patterns: int, n: int = 2) -> float:
    r"""Signal-to-noise estimate of the probability that a stored pattern is a fixed point.

    Flipping bit $i$ of pattern $\mu$ costs the pattern's own term a signal of order
    $2n N^{n-1}$, against the crosstalk of the $P - 1$ other patterns, a sum of order
    $P$ random terms of variance $4n^2 (2n-3)!! N^{n-1}$. A bit is unstable with probability
    $p = \Phi(-\sqrt{N^{n-1} / ((2n-3)!!\,(P-1))})$; treating the $N$ bits as independent,
    the pattern is a fixed point with probability $(1-p)^N$.
    """
    big_n = check_int("n_neurons", n_neurons, min_value=2)
    p = check_int("n_patterns", n_patterns, min_value=1)
    n = check_int("n", n, min_value=2)
    if p == 1:
        return 1.0
    z = math.sqrt(big_n ** (n - 1) / (_double_factorial(2 * n - 3) * (p - 1)))
    p_bit = 0.5 * math.erfc(z / math.sqrt(2))                 # Phi(-z)
    return math.exp(big_n * math.log1p(-p_bit))


@torch.no_grad()
def fixed_point_fraction(n_neurons: int, n_patterns: int, n: int = 2, *, n_networks: int = 1,
                         n_test: Optional[int] = None,
                         generator: Optional[torch.Generator] = None, device=None) -> Tensor:
    r"""For each of ``n_networks`` networks storing ``n_patterns`` random patterns, the
    fraction of (the first ``n_test`` of) its patterns that are exact fixed points.

    $n = 2$ is the Hebbian network (:func:`unstable_bits`, exact integer arithmetic);
    $n \ge 3$ is dense associative memory with $F(x) = x^n$ (:func:`dense_unstable_bits`,
    float64). Returns (n_networks,): one fraction per network, so that the spread between
    networks can be used to estimate the uncertainty of their mean.
    """
    n_neurons = check_int("n_neurons", n_neurons, min_value=2)
    n = check_int("n", n, min_value=2)
    p = check_int("n_patterns", n_patterns, min_value=1)
    n_networks = check_int("n_networks", n_networks, min_value=1)
    n_test = p if n_test is None else check_int("n_test", n_test, min_value=1, max_value=p)
    check_generator("generator", generator)
    if n == 2:                                                # all networks in one batch
        xi = random_patterns(p, n_neurons, generator, n_networks=n_networks, device=device)
        bad = unstable_bits(xi)[:, :n_test]
    else:                                                     # one network at a time (memory)
        bad = []
        for _ in range(n_networks):
            xi = random_patterns(p, n_neurons, generator, device=device, dtype=torch.float64)
            bad.append((_dense_flip_delta(xi[:n_test], xi, n) < 0).sum(-1))
        bad = torch.stack(bad)
    return (bad == 0).double().mean(-1)


def level_crossing(x: Sequence[float], y: Sequence[float], level: float, *,
                   log_x: bool = False) -> float:
    r"""The first $x$ at which the sequence ``y`` falls from ``>= level`` to ``< level``.

    Linear interpolation between the two neighbouring points (in $\ln x$ with
    ``log_x=True``); ``nan`` when ``y`` never crosses ``level`` downwards. Used to read a
    capacity off a measured curve, e.g. the number of patterns at which the fraction of
    fixed points crosses 0.9.
    """
    x = check_numbers("x", x, positive=log_x)
    y = check_numbers("y", y)
    level = check_number("level", level)
    check_bool("log_x", log_x)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    t = [math.log(v) for v in x] if log_x else x
    for (ta, ya), (tb, yb) in zip(zip(t, y), zip(t[1:], y[1:])):
        if ya >= level > yb:
            cross = ta + (ya - level) / (ya - yb) * (tb - ta)
            return math.exp(cross) if log_x else cross
    return float("nan")


def snr_capacity(n_neurons: int, n: int = 2, fraction: float = 0.9) -> float:
    r"""The number of patterns $P$ at which the signal-to-noise estimate of the fraction of
    fixed points, :func:`fixed_point_probability`, falls to ``fraction``.

    Found by bisection over integer $P$, then linear interpolation between the two integers
    around the crossing. Unlike the asymptotic $N^{n-1} / (2 (2n-3)!! \ln N)$
    (:func:`krotov_hopfield_capacity`), it keeps the finite-$N$ terms of the estimate, so
    the difference between the two shows how far from the large-$N$ limit a size is.
    """
    big_n = check_int("n_neurons", n_neurons, min_value=2)
    n = check_int("n", n, min_value=2)
    fraction = check_number("fraction", fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    lo, hi = 1, 2
    while fixed_point_probability(big_n, hi, n) >= fraction:  # bracket the crossing
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fixed_point_probability(big_n, mid, n) >= fraction else (lo, mid)
    f_lo, f_hi = fixed_point_probability(big_n, lo, n), fixed_point_probability(big_n, hi, n)
    return lo + (f_lo - fraction) / (f_lo - f_hi)


def _ags_gap(y: float, alpha: float) -> float:
    return math.erf(y) - y * (math.sqrt(2 * alpha) + 2 / math.sqrt(math.pi) * math.exp(-y * y))


def ags_retrieval_overlap(alpha: float) -> float:
    r"""Overlap $m$ of the retrieval state at zero temperature (Amit, Gutfreund and Sompolinsky).

    The replica-symmetric equations at $T = 0$ reduce, with $y = m / \sqrt{2\alpha r}$, to
    $m = \operatorname{erf}(y)$ and $y\,(\sqrt{2\alpha} + \tfrac{2}{\sqrt\pi} e^{-y^2})
    = \operatorname{erf}(y)$. Returns $m$ for the largest root, or 0.0 when there is no
    retrieval solution ($\alpha > \alpha_c \approx 0.138$).
    """
    alpha = check_number("alpha", alpha, nonnegative=True)
    if alpha == 0:
        return 1.0
    y_max = 1 / math.sqrt(2 * alpha) + 1                      # beyond it the gap is negative
    grid = [y_max * (j + 1) / 4000 for j in range(4000)]
    lo = None
    for a, b in zip(grid, grid[1:]):
        if _ags_gap(a, alpha) > 0 >= _ags_gap(b, alpha):
            lo = (a, b)
    if lo is None:
        return 0.0
    a, b = lo
    for _ in range(80):                                       # bisection
        mid = 0.5 * (a + b)
        a, b = (mid, b) if _ags_gap(mid, alpha) > 0 else (a, mid)
    return math.erf(0.5 * (a + b))


def ags_critical_load(tol: float = 1e-6) -> float:
    r"""$\alpha_c$: the largest load with a retrieval solution (about 0.138), by bisection."""
    tol = check_number("tol", tol, positive=True)
    lo, hi = 0.05, 0.3
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ags_retrieval_overlap(mid) > 0 else (lo, mid)
    return lo


# ----------------------------------------------------------------------------------------
# dense associative memory, F(x) = x^n
# ----------------------------------------------------------------------------------------

def _check_dense(s, patterns, n) -> tuple[Tensor, Tensor, int]:
    _check_states(s, patterns)
    return s, patterns, check_int("n", n, min_value=2)


def dense_energy(s: Tensor, patterns: Tensor, n: int) -> Tensor:
    r"""$E(s) = -\sum_\mu F(\xi^\mu \cdot s)$ with $F(x) = x^n$; returns s.shape[:-1].

    Use float64 for $n \ge 3$: the terms reach $N^n$. For $n = 2$,
    $E = -s^\top \Xi^\top \Xi s = 2N\,E_{\text{Hopfield}}(s) - PN$ with the Hebbian $W$.
    """
    s, patterns, n = _check_dense(s, patterns, n)
    o = s @ patterns.transpose(-1, -2)                        # xi^mu . s: (..., P)
    return -(o ** n).sum(-1)


def dense_flip_delta(s: Tensor, patterns: Tensor, n: int) -> Tensor:
    r"""$\Delta E_i = E(s \text{ with } s_i \text{ flipped}) - E(s)$ for every neuron: (..., N).

    Flipping $s_i$ changes each overlap $o_\mu = \xi^\mu \cdot s$ by $-2a$ with
    $a = s_i \xi^\mu_i = \pm 1$, and the binomial theorem splits the difference of energies
    into matrix products (no loop over neurons):
    $F(o - 2a) - F(o) = \sum_{k=1}^{n} \binom{n}{k} (-2)^k a^k o^{n-k}$, where
    $a^k = a$ for odd $k$ and $1$ for even $k$.
    """
    s, patterns, n = _check_dense(s, patterns, n)
    return _dense_flip_delta(s, patterns, n)


def _dense_flip_delta(s: Tensor, patterns: Tensor, n: int) -> Tensor:
    """:func:`dense_flip_delta` without the argument checks, for inputs known to be valid."""
    o = s @ patterns.transpose(-1, -2)                        # (..., P)
    odd = torch.zeros_like(o)
    even = torch.zeros_like(o[..., :1])
    for k in range(1, n + 1):
        c = math.comb(n, k) * (-2.0) ** k
        if k % 2:
            odd = odd + c * o ** (n - k)
        else:
            even = even + c * (o ** (n - k)).sum(-1, keepdim=True)
    change = s * (odd @ patterns) + even                      # sum_mu F(o - 2a) - F(o)
    return -change


def dense_async_sweep(s: Tensor, patterns: Tensor, n: int, *, order: str = "random",
                      generator: Optional[torch.Generator] = None) -> tuple[Tensor, Tensor]:
    r"""One asynchronous sweep of dense associative memory; returns ``(states, n_flips)``.

    Neuron $i$ flips when that lowers the energy, which is computed as a difference of
    energies, $\Delta E_i = -\sum_\mu [F(o_\mu - 2 s_i \xi_i^\mu) - F(o_\mu)]$ (a tie
    keeps the current value). The overlaps $o_\mu$ are updated after each flip.
    """
    s, patterns, n = _check_dense(s, patterns, n)
    check_choice("order", order, ("random", "fixed"))
    check_generator("generator", generator)
    s = s.clone()
    o = s @ patterns.transpose(-1, -2)                        # (..., P)
    flips = torch.zeros(s.shape[:-1], dtype=torch.long, device=s.device)
    for i in _order(s.shape[-1], order, generator):
        col = patterns[..., i]                                # xi_i^mu: (P,) or (K, P)
        if patterns.dim() == 3:
            col = col.unsqueeze(1)
        a = s[..., i:i + 1] * col                             # s_i xi_i^mu
        delta = -((o - 2 * a) ** n - o ** n).sum(-1)          # E(flipped) - E(s)
        flip = delta < 0
        s[..., i] = torch.where(flip, -s[..., i], s[..., i])
        o = o - 2 * a * flip.unsqueeze(-1).to(o.dtype)
        flips += flip
    return s, flips


def dense_run_async(s: Tensor, patterns: Tensor, n: int, *, max_sweeps: int = 20,
                    order: str = "random", generator: Optional[torch.Generator] = None
                    ) -> tuple[Tensor, Tensor]:
    """Asynchronous sweeps until no neuron of any state flips; returns ``(states, converged)``."""
    _check_dense(s, patterns, n)
    max_sweeps = check_int("max_sweeps", max_sweeps, min_value=1)
    check_choice("order", order, ("random", "fixed"))
    check_generator("generator", generator)
    converged = torch.zeros(s.shape[:-1], dtype=torch.bool, device=s.device)
    for _ in range(max_sweeps):
        s, flips = dense_async_sweep(s, patterns, n, order=order, generator=generator)
        converged = flips == 0
        if bool(converged.all()):
            break
    return s, converged


def dense_unstable_bits(patterns: Tensor, n: int, n_test: Optional[int] = None) -> Tensor:
    """How many single flips lower the energy at each of the first ``n_test`` stored patterns.

    ``patterns``: (P, N) or (K, P, N); returns (n_test,) or (K, n_test). A pattern is a
    fixed point of the dynamics when its count is 0.
    """
    _check_patterns(patterns)
    n = check_int("n", n, min_value=2)
    p = patterns.shape[-2]
    n_test = p if n_test is None else check_int("n_test", n_test, min_value=1, max_value=p)
    delta = _dense_flip_delta(patterns[..., :n_test, :], patterns, n)
    return (delta < 0).sum(-1)

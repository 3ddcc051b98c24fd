"""Random inputs for the checkers, all float64 and all drawn from the check's own generator
(so that a check never touches the reader's global random numbers through them)."""

from __future__ import annotations

import torch

from .. import boltzmann

F64 = torch.float64


def randn(gen: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """``scale`` times standard normal numbers of the given shape."""
    return scale * torch.randn(shape, generator=gen, dtype=F64)


def uniform(gen: torch.Generator, lo: float, hi: float, *shape: int) -> torch.Tensor:
    """Numbers uniform on [lo, hi) of the given shape (a 0-d tensor when no shape is given)."""
    return lo + (hi - lo) * torch.rand(shape, generator=gen, dtype=F64)


def binary(gen: torch.Generator, *shape: int) -> torch.Tensor:
    """Fair coin flips, 0.0 or 1.0, of the given shape."""
    return (torch.rand(shape, generator=gen, dtype=F64) < 0.5).to(F64)


def rbm_from(W: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> boltzmann.RBM:
    """A float64 RBM with the given parameters (W: (D, H), a: (D,), b: (H,))."""
    rbm = boltzmann.RBM(W.shape[0], W.shape[1], init_std=0.0).double()
    with torch.no_grad():
        rbm.W.copy_(W), rbm.a.copy_(a), rbm.b.copy_(b)
    return rbm

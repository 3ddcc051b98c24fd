"""One call seeds everything; randomness is then passed around explicitly.

``gen = seed_everything(0)`` seeds Python's ``random``, NumPy and PyTorch (all devices) and
returns a ``torch.Generator``. Every stochastic function in the companion takes that
generator as an argument, so a notebook's results depend on its seed and nothing else.

Random numbers are drawn on the generator's device (the CPU by default) and then moved to
the device of the data (:func:`randn`, :func:`rand`, :func:`randint`, :func:`randperm`):
the same seed gives the same numbers on a CPU and on a GPU.
"""
from __future__ import annotations

import random
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ._checks import check_generator, check_int

__all__ = ["rand", "randint", "randn", "randperm", "seed_everything"]

Device = Union[str, torch.device, None]


def seed_everything(seed: int) -> torch.Generator:
    """Seed ``random``, ``numpy`` and ``torch``; return a CPU ``torch.Generator`` seeded with ``seed``.

    >>> g = seed_everything(0)
    >>> torch.rand(2, generator=g).shape
    torch.Size([2])
    """
    seed = check_int("seed", seed, min_value=0, max_value=2**63 - 1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def _shape(name: str, shape: Union[int, Sequence[int], torch.Size]) -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        return tuple(check_int(f"{name}[{i}]", s, min_value=0) for i, s in enumerate(shape))
    except TypeError as exc:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {shape!r}") from exc


def _source(generator: Optional[torch.Generator]) -> torch.device:
    check_generator("generator", generator)
    return generator.device if generator is not None else torch.device("cpu")


def _place(out: Tensor, device: Device) -> Tensor:
    return out.to(device) if device is not None else out


def randn(shape, generator: Optional[torch.Generator] = None, device: Device = None,
          dtype: torch.dtype = torch.float32) -> Tensor:
    """Standard normal samples of ``shape``, drawn with ``generator``, placed on ``device``."""
    size = _shape("shape", shape)
    return _place(torch.randn(size, generator=generator, device=_source(generator), dtype=dtype), device)


def rand(shape, generator: Optional[torch.Generator] = None, device: Device = None,
         dtype: torch.dtype = torch.float32) -> Tensor:
    """Uniform samples on [0, 1) of ``shape``, drawn with ``generator``, placed on ``device``."""
    size = _shape("shape", shape)
    return _place(torch.rand(size, generator=generator, device=_source(generator), dtype=dtype), device)


def randint(high: int, shape, generator: Optional[torch.Generator] = None,
            device: Device = None) -> Tensor:
    """Integers uniform on {0, ..., high-1} of ``shape``, drawn with ``generator``."""
    high = check_int("high", high, min_value=1)
    size = _shape("shape", shape)
    return _place(torch.randint(high, size, generator=generator, device=_source(generator)), device)


def randperm(n: int, generator: Optional[torch.Generator] = None, device: Device = None) -> Tensor:
    """A random permutation of {0, ..., n-1}, drawn with ``generator``."""
    n = check_int("n", n, min_value=0)
    return _place(torch.randperm(n, generator=generator, device=_source(generator)), device)

"""Pick the device a notebook computes on: CUDA, then Apple's MPS, then the CPU.

A notebook calls :func:`get_device` once, in its configuration cell, and passes the result
on; no module of the companion reads a global device. Functions create their tensors on
the device of their inputs, so the same code runs unchanged on a laptop and on Colab's GPUs.
"""
from __future__ import annotations

from typing import Optional

import torch

from ._checks import check_choice

__all__ = ["available_devices", "get_device"]


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """The device types usable here, best first, e.g. ``['cuda', 'cpu']``."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    found.append("cpu")
    return found


def get_device(prefer: Optional[str] = None) -> torch.device:
    """Return the best available ``torch.device``: ``cuda``, else ``mps``, else ``cpu``.

    ``prefer`` names a device type to use instead (``"cuda"``, ``"mps"`` or ``"cpu"``);
    asking for one that is not available raises a ``ValueError`` that says which are.

    >>> get_device("cpu")
    device(type='cpu')
    """
    if prefer is None:
        return torch.device(available_devices()[0])
    if not isinstance(prefer, str):
        raise TypeError(f"prefer must be a string such as 'cpu', got {type(prefer).__name__}")
    check_choice("prefer", prefer, ("cuda", "mps", "cpu"))
    if prefer not in available_devices():
        raise ValueError(f"prefer={prefer!r} is not available on this machine; "
                         f"available: {available_devices()}")
    return torch.device(prefer)

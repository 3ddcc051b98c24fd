"""Argument checks shared by the companion modules.

Every public function validates what it is given and raises a ``TypeError`` or
``ValueError`` that names the argument and says what was expected, so that a reader
sees ``ValueError: step_size must be > 0, got -0.1`` instead of a shape error three
calls deep.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Iterable, Optional, Sequence

import torch
from torch import Tensor

__all__ = [
    "check_callable",
    "check_choice",
    "check_generator",
    "check_int",
    "check_number",
    "check_probability",
    "check_tensor",
]


def check_int(name: str, value: Any, *, min_value: Optional[int] = None,
              max_value: Optional[int] = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {value}")
    return value


def check_number(name: str, value: Any, *, positive: bool = False,
                 nonnegative: bool = False, finite: bool = True,
                 within: Optional[tuple[float, float]] = None) -> float:
    """Return ``value`` as a float, or raise if it is not a real number of the right sign
    (or, with ``within=(low, high)``, not in the closed interval [low, high])."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if finite and not (value == value and abs(value) != float("inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    if within is not None and not within[0] <= value <= within[1]:
        raise ValueError(f"{name} must be in [{within[0]:g}, {within[1]:g}], got {value}")
    return value


def check_sequence(name: str, values: Any, *, nonempty: bool = True,
                   what: str = "numbers") -> list:
    """A sequence (list, tuple, 1-D tensor or array) of ``what``, returned as a list of its
    elements; a string is not a sequence here."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) and not (
            hasattr(values, "__len__") and hasattr(values, "__getitem__")):
        raise TypeError(f"{name} must be a sequence of {what}, got {type(values).__name__}")
    if getattr(values, "ndim", 1) != 1:
        raise ValueError(f"{name} must be one-dimensional, a sequence of {what}, got "
                         f"shape {tuple(values.shape)}")
    if nonempty and len(values) == 0:
        raise ValueError(f"{name} must not be empty")
    return values.tolist() if isinstance(values, Tensor) else list(values)


def check_numbers(name: str, values: Any, *, positive: bool = False, nonnegative: bool = False,
                  nonempty: bool = True) -> list[float]:
    """A sequence of finite real numbers (each checked as by :func:`check_number`, named
    ``name[i]``), returned as a list of floats."""
    return [check_number(f"{name}[{i}]", v, positive=positive, nonnegative=nonnegative)
            for i, v in enumerate(check_sequence(name, values, nonempty=nonempty))]


def check_bool(name: str, value: Any) -> bool:
    """``True`` or ``False`` (not 0, 1 or another truthy object)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1], or raise."""
    value = check_number(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Raise unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_callable(name: str, value: Any) -> Callable:
    """Raise unless ``value`` is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_generator(name: str, value: Any, *, optional: bool = True) -> Optional[torch.Generator]:
    """Raise unless ``value`` is a ``torch.Generator`` (or ``None`` when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator (from companion.seed_everything), "
                        f"got {type(value).__name__}")
    return value


def check_tensor(name: str, value: Any, *, ndim: Optional[int | Sequence[int]] = None,
                 last_dim: Optional[int] = None, floating: bool = False,
                 min_batch: Optional[int] = None, finite: bool = True,
                 nonempty: bool = False) -> Tensor:
    """Raise unless ``value`` is a tensor with the expected number of dimensions.

    ``ndim`` may be an int or a sequence of allowed ints; ``last_dim`` fixes the size of
    the last axis; ``floating`` requires a floating-point dtype; ``nonempty`` refuses a
    tensor with no elements. The book's policy for NaN
    and infinity: a floating tensor that holds either is refused here, at the boundary of
    the public function, naming the argument (``finite=False`` only where infinity is a
    legitimate value, e.g. a log-probability of an impossible state).
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.dim() not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(value.shape)}")
    if last_dim is not None and (value.dim() == 0 or value.shape[-1] != last_dim):
        raise ValueError(f"{name} must have last dimension {last_dim}, got shape {tuple(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if min_batch is not None and (value.dim() == 0 or value.shape[0] < min_batch):
        raise ValueError(f"{name} must hold at least {min_batch} rows, got shape {tuple(value.shape)}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if finite and (value.is_floating_point() or value.is_complex()) and value.numel() \
            and not bool(torch.isfinite(value.sum())):
        # fast path above: a finite sum means every entry is finite (the sum of finite values
        # can still overflow, so the exact test below decides)
        bad = ~torch.isfinite(value)
        if bad.any():
            n_nan = int(torch.isnan(value).sum())
            raise ValueError(f"{name} must hold finite values, got {n_nan} NaN and "
                             f"{int(bad.sum()) - n_nan} infinite entries (shape {tuple(value.shape)})")
    return value


def check_qkv(q: Any, k: Any, v: Any) -> None:
    """Queries, keys and values of attention: floating tensors with rows as vectors,
    ``q`` (..., L, d_k), ``k`` (..., S, d_k), ``v`` (..., S, d_v), S >= 1, the same
    leading (batch, head) dimensions."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, t, floating=True)
        if t.dim() < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., length, features), "
                             f"got shape {tuple(t.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d_k, got shapes "
                         f"{tuple(q.shape)} and {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2] or k.shape[-2] == 0:
        raise ValueError(f"k and v must hold the same, non-zero number of keys and values "
                         f"(dimension -2), got shapes {tuple(k.shape)} and {tuple(v.shape)}")
    if not q.shape[:-2] == k.shape[:-2] == v.shape[:-2]:
        raise ValueError(f"q, k and v must share their leading (batch, head) dimensions, got "
                         f"shapes {tuple(q.shape)}, {tuple(k.shape)} and {tuple(v.shape)}")


def check_interval(name: str, value: Any) -> tuple[float, float]:
    """A pair of numbers ``(low, high)`` with ``low < high``, returned as floats."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a pair (low, high), got {value!r}") from exc
    if not lo < hi:
        raise ValueError(f"{name} must satisfy low < high, got {value!r}")
    return lo, hi


def check_widths(name: str, widths: Any, *, nonempty: bool = True) -> tuple[int, ...]:
    """A sequence of positive layer widths (list, tuple, 1-D tensor or array), as a tuple of
    ints; a bad entry is named ``name[i]``."""
    return tuple(check_int(f"{name}[{i}]", w, min_value=1) for i, w in
                 enumerate(check_sequence(name, widths, nonempty=nonempty, what="layer widths")))


def check_float_dtype(name: str, dtype: Any) -> torch.dtype:
    """A floating-point ``torch.dtype``."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating torch.dtype, got {dtype!r}")
    return dtype


def check_like(name: str, t: torch.Tensor, param: torch.Tensor, *, dtype: bool = True) -> None:
    """A tensor (already checked to be one) on the device of a model's parameter ``param``
    and, unless ``dtype=False``, in its dtype."""
    if dtype and t.dtype != param.dtype:
        raise TypeError(f"{name} must have the model's dtype {param.dtype}, got {t.dtype} "
                        f"(convert one of them with .to({param.dtype}) or .to({t.dtype}))")
    if t.device != param.device:
        raise ValueError(f"{name} must be on the model's device {param.device}, got {t.device}")


def check_broadcasts_to(name: str, t: torch.Tensor, shape: Sequence[int], what: str = "") -> None:
    """A tensor (already checked to be one) that broadcasts to ``shape`` without changing it;
    ``what`` says what the shape is ("the attention scores' shape ")."""
    shape = tuple(shape)
    try:
        fits = tuple(torch.broadcast_shapes(t.shape, shape)) == shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"{name} must broadcast to {what}{shape}, got shape {tuple(t.shape)}")


def check_broadcast_together(**tensors: torch.Tensor) -> None:
    """Tensors (already checked to be ones) whose shapes broadcast against each other; the
    error names them all, with their shapes."""
    try:
        torch.broadcast_shapes(*(t.shape for t in tensors.values()))
    except RuntimeError:
        shapes = ", ".join(f"{k} {tuple(t.shape)}" for k, t in tensors.items())
        raise ValueError(f"{' and '.join(tensors)} must have shapes that broadcast against "
                         f"each other, got {shapes}") from None


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Two tensors of the same shape (both already checked to be tensors)."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")

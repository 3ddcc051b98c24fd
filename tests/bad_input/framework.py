"""Property-based tests that bad input to ``companion`` never passes silently.

Every public name (every entry of every module's ``__all__``) has at least one *spec*: a
function that returns a valid call, ``(fn, kwargs)``, with every argument given by name.
From it, hypothesis derives bad calls, one argument at a time:

* ``nan`` / ``inf``: a NaN or an infinity at a random position of a floating tensor, or as
  a number;
* ``empty``: a tensor with no elements (its first dimension set to 0);
* ``extra_dim`` / ``fewer_dims``: a tensor with one dimension more, or one fewer;
* ``wrong_type``: a string where a tensor, a number, a generator or a callable belongs.

The policy: the call must raise ``TypeError`` or ``ValueError`` whose message names the
argument (an argument whose bad value makes sense for a function says so in its spec,
``allow={"x": {"empty"}}``). And the valid call itself must not raise.
"""
from __future__ import annotations

import dataclasses
import importlib
import numbers
import re
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import torch

KINDS = ("nan", "inf", "empty", "extra_dim", "fewer_dims", "wrong_type")


@dataclasses.dataclass
class Spec:
    """A valid call of a public function (or method, or constructor) of ``companion``."""

    name: str                                   # "hopfield.energy", "boltzmann.RBM.energy"
    make: Callable[[], tuple]                   # () -> (callable, {arg: value})
    allow: Dict[str, set] = dataclasses.field(default_factory=dict)   # accepted bad kinds
    skip: Sequence[str] = ()                    # arguments not to corrupt (with a reason)
    names: Dict[str, str] = dataclasses.field(default_factory=dict)   # arg -> name in message

    @property
    def module(self) -> str:
        return self.name.split(".")[0]


REGISTRY: Dict[str, List[Spec]] = {}
EXEMPT: Dict[str, str] = {}                      # "module.NAME" -> why it needs no spec


def spec(name: str, *, allow: Optional[dict] = None, skip: Sequence[str] = (),
         names: Optional[dict] = None):
    """Decorator: register ``make`` (returning ``(fn, kwargs)``) as a valid call of ``name``."""

    def register(make):
        REGISTRY.setdefault(name, []).append(
            Spec(name, make, {k: set(v) for k, v in (allow or {}).items()}, tuple(skip),
                 dict(names or {})))
        return make

    return register


def exempt(name: str, why: str) -> None:
    """A public name that takes no input to check (a constant, an enum, a result type)."""
    EXEMPT[name] = why


def public_names(modules: Iterable[str]) -> List[str]:
    out = []
    for m in modules:
        mod = importlib.import_module(f"companion.{m}")
        out += [f"{m}.{n}" for n in getattr(mod, "__all__", [])]
    return out


def covered(name: str) -> bool:
    """True when ``module.name`` has a spec (for a class, the class or one of its methods)."""
    if name in EXEMPT:
        return True
    return any(k == name or k.startswith(name + ".") for k in REGISTRY)


# ----------------------------------------------------------------------------- corruption
def kinds_for(value) -> List[str]:
    """The bad kinds that apply to an argument, from its valid value."""
    if isinstance(value, torch.Tensor):
        kinds = ["wrong_type", "extra_dim"]
        if value.dim() >= 1:
            kinds += ["empty", "fewer_dims"]
        if value.is_floating_point() and value.numel() > 0:
            kinds += ["nan", "inf"]
        return kinds
    if isinstance(value, bool):
        return []
    if isinstance(value, numbers.Real):
        return ["wrong_type"] + (["nan", "inf"] if isinstance(value, float) else [])
    if isinstance(value, torch.Generator) or callable(value):
        return ["wrong_type"]
    return []


def corrupt(value, kind: str, data):
    """A bad version of ``value`` (``data`` is hypothesis' draw object)."""
    if kind == "wrong_type":
        return "not a valid value"
    if isinstance(value, torch.Tensor):
        if kind in ("nan", "inf"):
            bad = value.clone()
            flat = bad.view(-1) if bad.is_contiguous() else bad.reshape(-1)
            i = data.draw(_index(flat.numel()), label="position")
            flat[i] = float("nan") if kind == "nan" else data.draw(_sign(), label="sign") * float("inf")
            return flat.view(value.shape) if bad.is_contiguous() else flat.reshape(value.shape)
        if kind == "empty":
            return value.new_zeros((0, *value.shape[1:]))
        if kind == "extra_dim":
            return value.unsqueeze(0).expand(2, *value.shape).clone()
        if kind == "fewer_dims":
            return value.reshape(-1)[: max(1, value.shape[-1])].clone() if value.dim() > 1 \
                else value.reshape(())[()] if value.numel() == 1 else value[0].clone()
    if isinstance(value, numbers.Real):
        if kind == "nan":
            return float("nan")
        if kind == "inf":
            return data.draw(_sign(), label="sign") * float("inf")
    raise ValueError(f"cannot make a {kind} version of {type(value).__name__}")


def _index(n: int):
    from hypothesis import strategies as st

    return st.integers(min_value=0, max_value=max(0, n - 1))


def _sign():
    from hypothesis import strategies as st

    return st.sampled_from([1.0, -1.0])


def names_argument(message: str, arg: str, aliases: Sequence[str] = ()) -> bool:
    """True when an error message names the argument (or one of its aliases)."""
    words = (arg, *aliases)
    return any(re.search(rf"(?<![\w.]){re.escape(w)}(?!\w)", message) for w in words)

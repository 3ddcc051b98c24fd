"""The machinery behind :func:`companion.exercises.check`.

An exercise is registered under a label such as ``"04-hebbian"`` (chapter number, then a
short name; the notebook's directive label is ``ex-04-hebbian``). Its checker receives the
reader's answer and a fresh random generator and either returns (right) or raises
:class:`Wrong` with a hint. Around every checker :func:`check` adds the same three-way
verdict:

* **not attempted**: the stub as shipped (a function whose body is ``...``, or the value
  ``...``): one line saying so, never an exception, so "Run all" goes through;
* **right**: ``✔`` and, where useful, one line of detail;
* **wrong**: ``✘`` and a hint. A wrong answer that behaves like one of the exercise's
  registered *mistakes* (the slips the book's "Common mistake" boxes discuss) is named.

Three helpers build the common kinds of checker: :func:`function_exercise` (the answer is a
function, compared with a reference on fresh random inputs), :func:`value_exercise` (the
answer is a number or a tensor, compared with a value the checker computes) and
:func:`custom_exercise` (anything else).
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import dis
import enum
import inspect
import textwrap
import zlib
from typing import Any, Callable, Dict, Optional, Sequence

import torch

__all__ = [
    "Exercise", "Mistake", "Result", "Status", "Wrong", "check", "custom_exercise",
    "exercise", "function_exercise", "get", "last_result", "name_mistake", "registry",
    "value_exercise",
]

KINDS = ("derive", "code", "explore")


class Status(enum.Enum):
    NOT_ATTEMPTED = "not attempted"
    RIGHT = "right"
    WRONG = "wrong"


SYMBOL = {Status.NOT_ATTEMPTED: "○", Status.RIGHT: "✔", Status.WRONG: "✘"}


class Wrong(Exception):
    """Raised by a checker when the answer is wrong; the message is the hint."""


@dataclasses.dataclass(frozen=True)
class Mistake:
    """A known wrong answer: its name (as the book's common-mistake boxes call it), the
    hint the reader gets, and an example of the wrong answer itself (a function or a
    value), which the tests feed to the checker to prove that it is caught by name."""

    name: str
    hint: str
    answer: Any


@dataclasses.dataclass
class Result:
    """The verdict on one answer. True when right; displays as nothing (check() prints)."""

    label: str
    status: Status
    message: str

    def __bool__(self) -> bool:
        return self.status is Status.RIGHT

    def __str__(self) -> str:
        return f"{SYMBOL[self.status]} Exercise {self.label}: {self.message}"

    def _ipython_display_(self) -> None:  # the line was printed by check()
        pass


@dataclasses.dataclass
class Exercise:
    label: str
    kind: str
    section: str
    checker: Callable[[Any, torch.Generator], Optional[str]]
    mistakes: Sequence[Mistake] = ()
    answer_type: str = "function"      # or "value"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.answer_type not in ("function", "value"):
            raise ValueError(f"answer_type must be 'function' or 'value', got {self.answer_type!r}")


_REGISTRY: Dict[str, Exercise] = {}
_LAST: Dict[str, Result] = {}
_CALLS: Dict[str, int] = {}


def registry() -> Dict[str, Exercise]:
    """Every registered exercise, by label."""
    return dict(_REGISTRY)


def get(label: str) -> Exercise:
    """The exercise registered under ``label`` (e.g. ``"04-hebbian"``); a clear error if none."""
    if not isinstance(label, str):
        raise TypeError(f"label must be a string such as '04-hebbian', got {type(label).__name__}")
    if label not in _REGISTRY:
        close = [k for k in _REGISTRY if k.split("-")[0] == label.split("-")[0]]
        raise ValueError(f"no exercise is registered under label {label!r}"
                         + (f"; this chapter has {sorted(close)}" if close else ""))
    return _REGISTRY[label]


def last_result(label: str) -> Optional[Result]:
    """The result of the last :func:`check` of ``label`` in this session (None if never)."""
    return _LAST.get(label)


def exercise(ex: Exercise) -> Exercise:
    """Register an exercise (used by the chapter modules)."""
    if ex.label in _REGISTRY:
        raise ValueError(f"exercise {ex.label!r} is registered twice")
    _REGISTRY[ex.label] = ex
    return ex


# --------------------------------------------------------------------------- stubs
def _body_is_ellipsis(fn: Callable) -> Optional[bool]:
    """True when the function's body (after its docstring) is only ``...`` or ``pass``;
    None when its source cannot be read."""
    try:
        src = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return _trivial_code(fn)
    defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))]
    if not defs:
        return None
    node = defs[0]
    if isinstance(node, ast.Lambda):
        return isinstance(node.body, ast.Constant) and node.body.value is Ellipsis
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]                                  # the docstring
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr)
               and isinstance(s.value, ast.Constant) and s.value.value is Ellipsis)
               for s in body)


def _trivial_code(fn: Callable) -> Optional[bool]:
    """Without source: True when the function's code only returns None, as a body of
    ``...`` compiles (an explicit ``return None`` looks the same)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    ops = [(i.opname, i.argval) for i in dis.get_instructions(code)
           if i.opname not in ("RESUME", "NOP", "CACHE")]
    return ops in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def is_stub(answer: Any) -> bool:
    """True for an answer that has not been written yet: ``...``, or a function whose
    body is ``...``; also a tuple, list or dict in which every entry is ``...``."""
    if answer is Ellipsis:
        return True
    if isinstance(answer, (tuple, list)) and answer and all(a is Ellipsis for a in answer):
        return True
    if isinstance(answer, dict) and answer and all(a is Ellipsis for a in answer.values()):
        return True
    if callable(answer) and not isinstance(answer, (torch.Tensor, type)):
        return bool(_body_is_ellipsis(answer))
    return False


def _has_ellipsis(answer: Any) -> bool:
    if isinstance(answer, (tuple, list)):
        return any(a is Ellipsis for a in answer)
    if isinstance(answer, dict):
        return any(a is Ellipsis for a in answer.values())
    return False


# --------------------------------------------------------------------------- check
def _generator(label: str, seed: Optional[int]) -> torch.Generator:
    """Fresh inputs for every call, reproducible within a session: the seed mixes the label
    with how many times it has been checked (or is ``seed`` when given)."""
    if seed is None:
        n = _CALLS.get(label, 0)
        seed = zlib.crc32(f"{label}:{n}".encode()) & 0x7FFFFFFF
    _CALLS[label] = _CALLS.get(label, 0) + 1
    return torch.Generator().manual_seed(int(seed))


def _name_of(answer: Any) -> str:
    return getattr(answer, "__name__", "your answer")


def check(label: str, answer: Any, *, seed: Optional[int] = None, quiet: bool = False) -> Result:
    """Check the answer to exercise ``label`` and print one line: ✔ right, ✘ wrong (with a
    hint), or ○ not attempted yet. Never raises for a wrong or missing answer."""
    ex = get(label)
    if is_stub(answer):
        what = (f"replace the `...` in `{_name_of(answer)}` with your code"
                if callable(answer) else "replace `...` with your answer")
        result = Result(label, Status.NOT_ATTEMPTED, f"not attempted yet: {what}, then run "
                        "this cell again.")
    elif _has_ellipsis(answer):
        result = Result(label, Status.NOT_ATTEMPTED, "not finished: some entries are still "
                        "`...`; fill them in and run this cell again.")
    elif ex.answer_type == "function" and not callable(answer):
        result = Result(label, Status.WRONG, f"expected a function, got "
                        f"{type(answer).__name__}; define it with `def` and pass its name.")
    else:
        gen = _generator(label, seed)
        try:
            with torch.random.fork_rng(devices=[]):   # the reader's own random numbers stay
                detail = ex.checker(answer, gen)         # as they were, whatever the answer
            result = Result(label, Status.RIGHT, "right." + (f" {detail}" if detail else ""))
        except Wrong as w:
            result = Result(label, Status.WRONG, str(w))
        except Exception as exc:  # noqa: BLE001 - the reader's code raised: say so, don't raise
            result = Result(label, Status.WRONG, f"{_name_of(answer)} raised "
                            f"{type(exc).__name__}: {exc}")
    _LAST[label] = result
    if not quiet:
        print(result)
    return result


# --------------------------------------------------------------------------- comparing
def _as_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64)
    return torch.as_tensor(x, dtype=torch.float64)


def close(got: Any, expected: Any, *, rtol: float, atol: float) -> Optional[str]:
    """None when ``got`` matches ``expected`` (same shape, values within tolerance);
    otherwise a short description of the difference."""
    if got is None:
        return "it returned None: did you forget `return`?"
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected {len(expected)} values, got {type(got).__name__}"
        for i, (g, e) in enumerate(zip(got, expected)):
            diff = close(g, e, rtol=rtol, atol=atol)
            if diff:
                return f"value {i}: {diff}"
        return None
    try:
        g, e = _as_tensor(got), _as_tensor(expected)
    except (TypeError, ValueError, RuntimeError) as exc:
        return f"could not read it as numbers ({exc})"
    if g.shape != e.shape:
        if g.numel() == e.numel() == 1:
            g, e = g.reshape(()), e.reshape(())
        else:
            return f"shape {tuple(g.shape)}, expected {tuple(e.shape)}"
    if not torch.isfinite(g).all() and torch.isfinite(e).all():
        return "it contains NaN or infinity"
    if not torch.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
        err = (g - e).abs().max().item()
        return f"largest difference from the right answer {err:.3g}"
    return None


def _matches(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    try:
        return close(got, expected, rtol=rtol, atol=atol) is None
    except Exception:  # noqa: BLE001
        return False


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def _mistake_message(m: Mistake) -> str:
    return f"this looks like the common mistake \"{m.name}\": {m.hint}"


def _fresh(args: tuple) -> list:
    """Each call gets its own copy of the case: tensors cloned and modules deep-copied (an
    answer that writes into its input cannot change what the reference sees), generators
    cloned with their state (the answer, the reference and each mistake draw the same
    random numbers)."""
    return [a.clone() if isinstance(a, torch.Tensor)
            else copy.deepcopy(a) if isinstance(a, torch.nn.Module)
            else a.clone_state() if isinstance(a, torch.Generator) else a for a in args]


def name_mistake(outputs: Sequence[Any], mistakes: Sequence[Mistake], cases: Sequence[tuple],
                 *, rtol: float = 1e-9, atol: float = 1e-9) -> None:
    """Raise :class:`Wrong` naming the first mistake whose function gives the answer's
    ``outputs`` on every case (each call on a fresh copy of the case); a mistake that
    cannot run on a case does not match. For checkers that compare answers their own way."""
    for m in mistakes:
        try:
            if all(_matches(o, m.answer(*_fresh(args)), rtol, atol)
                   for o, args in zip(outputs, cases)):
                raise Wrong(_mistake_message(m))
        except Wrong:
            raise
        except Exception:  # noqa: BLE001 - a mistake that cannot run on this case
            continue


# --------------------------------------------------------------------------- builders
def function_exercise(label: str, *, kind: str, section: str,
                      cases: Callable[[torch.Generator], Sequence[tuple]],
                      reference: Callable[..., Any],
                      mistakes: Sequence[Mistake] = (), rtol: float = 1e-6,
                      atol: float = 1e-8, hint: str = "") -> Exercise:
    """The answer is a function. ``cases(gen)`` returns argument tuples drawn fresh from
    ``gen``; the answer must agree with ``reference`` on each (within ``rtol``/``atol``).
    When it does not, it is compared with each mistake's function in turn, and a match
    names the mistake; otherwise the reader sees where it differs, and ``hint``."""

    def checker(answer, gen):
        args_list = list(cases(gen))
        outputs = [answer(*_fresh(args)) for args in args_list]
        diffs = [close(o, reference(*_fresh(args)), rtol=rtol, atol=atol)
                 for o, args in zip(outputs, args_list)]
        if not any(diffs):
            return None
        name_mistake(outputs, mistakes, args_list, rtol=rtol, atol=atol)
        first = next(d for d in diffs if d)
        raise Wrong(_sentence(f"on fresh random inputs, {first}") + (f" Hint: {hint}" if hint else ""))

    return exercise(Exercise(label, kind, section, checker, tuple(mistakes), "function"))


def value_exercise(label: str, *, kind: str, section: str, expected: Callable[[], Any],
                   mistakes: Sequence[Mistake] = (), rtol: float = 1e-3, atol: float = 0.0,
                   hint: str = "", show: Optional[Callable[[Any], str]] = None) -> Exercise:
    """The answer is a value (a number, a tuple of numbers, a tensor). ``expected()``
    computes the right value (once, then cached); a mistake's ``answer`` is a wrong value,
    or a function returning one. ``show(value)`` may format the right value for the
    reader once they have it right."""
    cache: dict = {}

    def right_value():
        if "v" not in cache:
            cache["v"] = expected()
        return cache["v"]

    def checker(answer, gen):
        truth = right_value()
        diff = close(answer, truth, rtol=rtol, atol=atol)
        if diff is None:
            return show(truth) if show else None
        for m in mistakes:
            wrong = m.answer() if callable(m.answer) else m.answer
            if _matches(answer, wrong, rtol, atol) and not _matches(wrong, truth, rtol, atol):
                raise Wrong(_mistake_message(m))
        raise Wrong(_sentence(f"not quite: {diff}") + (f" Hint: {hint}" if hint else ""))

    ex = Exercise(label, kind, section, checker, tuple(mistakes), "value")
    ex.expected = right_value  # type: ignore[attr-defined]
    return exercise(ex)


def custom_exercise(label: str, *, kind: str, section: str,
                    checker: Callable[[Any, torch.Generator], Optional[str]],
                    mistakes: Sequence[Mistake] = (), answer_type: str = "function") -> Exercise:
    """Any other answer: ``checker(answer, gen)`` returns (optionally a detail string) when
    right and raises :class:`Wrong` with a hint when wrong. It should recognise each of
    ``mistakes`` and name it (use :func:`mistake_message`)."""
    return exercise(Exercise(label, kind, section, checker, tuple(mistakes), answer_type))


def mistake_message(m: Mistake) -> str:
    """The hint a custom checker raises (as ``Wrong(...)``) when it recognises mistake ``m``."""
    return _mistake_message(m)

"""Small helpers for the chapters: show the companion's source where the reader should see it."""
from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap

__all__ = ["Listing", "in_colab", "show_source"]

#: listings longer than this many lines are folded (a "show the source" dropdown)
FOLD_AFTER = 30
_CHECK_NAME = re.compile(r"^_?check(_\w+)?$")


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


class Listing:
    """A source listing: displays as a highlighted code block (folded when long)."""

    def __init__(self, code: str, name: str, hidden: int = 0, fold: bool = False):
        self.code, self.name, self.hidden, self.fold = code, name, hidden, fold

    def _repr_markdown_(self) -> str:
        block = f"```python\n{self.code}\n```"
        if not self.fold:
            return block
        n = len(self.code.splitlines())
        return (f"<details><summary>The source of <code>{self.name}</code> ({n} lines): "
                f"click to show</summary>\n\n{block}\n\n</details>")

    def __repr__(self) -> str:
        return self.code


def _is_check(node: ast.AST) -> bool:
    """A statement that only validates arguments: ``check_x(...)``, ``a = _check_y(...)``,
    ``a, b = check_z(...)`` (any call whose name is check/_check/check_*/_check_*)."""
    value = getattr(node, "value", None)
    if not isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) or value is None:
        return False
    calls = value.elts if isinstance(value, ast.Tuple) else [value]
    names = []
    for call in calls:
        if not isinstance(call, ast.Call):
            return False
        f = call.func
        names.append(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute)
                     else "")
    return all(_CHECK_NAME.match(n) for n in names)


def _is_validation(node: ast.AST) -> bool:
    """A check call, or an ``if`` whose branches only check arguments or raise."""
    if _is_check(node):
        return True
    if isinstance(node, ast.If):
        branch = node.body + node.orelse
        return all(isinstance(s, ast.Raise) or _is_validation(s) for s in branch)
    return False


def _strip_checks(code: str) -> tuple[str, int]:
    """Remove the argument-checking statements from the top level of a function's body (and
    of each method of a class); a comment says how many lines were left out."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, 0
    lines = code.splitlines()
    drop: set[int] = set()
    bodies = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bodies.append(node.body)
        elif isinstance(node, ast.ClassDef):
            bodies += [n.body for n in node.body
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for body in bodies:
        checks = [s for s in body if _is_validation(s)]
        if not checks:
            continue
        first = checks[0]
        indent = re.match(r"\s*", lines[first.lineno - 1]).group(0)
        for s in checks:
            drop.update(range(s.lineno - 1, s.end_lineno))
        lines[first.lineno - 1] = f"{indent}# ... argument checks omitted (see the module's source)"
        drop.discard(first.lineno - 1)
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return "\n".join(kept), len(drop)


def show_source(obj, *, checks: bool = False, fold: bool | None = None) -> Listing:
    """The source of a function, class or method, displayed as a highlighted code block.

    The lines that only validate arguments (calls to ``check_*``) are left out, so the
    listing shows the lines that compute; ``checks=True`` keeps them. Listings longer than
    ``FOLD_AFTER`` lines are folded behind a "click to show" line (``fold`` forces it).

    >>> from companion import samplers
    >>> show_source(samplers.langevin)  # doctest: +SKIP
    """
    try:
        code = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"obj must be a function, class or method defined in Python "
                        f"(show_source shows its source), got {type(obj).__name__}") from exc
    code = textwrap.dedent(code).rstrip()
    hidden = 0
    if not checks:
        code, hidden = _strip_checks(code)
    if fold is None:
        fold = len(code.splitlines()) > FOLD_AFTER
    return Listing(code, getattr(obj, "__qualname__", repr(obj)), hidden, bool(fold))

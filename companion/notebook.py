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
    """A statement that only validates arguments: ``check_x(...)``, or an assignment of a
    checked argument to its own name (``n = check_int("n", n)``, ``a, b = _check(a, b)``).
    An assignment to another name (``self.n = check_int("n", n)``) is not one: its check
    call is replaced by the value instead (:func:`_inline_checks`)."""
    if isinstance(node, ast.Expr):
        calls = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        return all(isinstance(c, ast.Call) and _CHECK_NAME.match(_call_name(c)) for c in calls)
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if len(targets) != 1:
        return False
    target, value = targets[0], node.value
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        pairs = list(zip(target.elts, value.elts))
    elif isinstance(target, ast.Tuple) and isinstance(value, ast.Call):
        return (bool(_CHECK_NAME.match(_call_name(value)))
                and all(isinstance(t, ast.Name) for t in target.elts))
    else:
        pairs = [(target, value)]
    for t, v in pairs:
        checked = _checked_value(v)
        if not (isinstance(t, ast.Name) and isinstance(checked, ast.Name) and checked.id == t.id):
            return False
    return True


def _is_validation(node: ast.AST) -> bool:
    """A check call, an ``if`` whose branches only check arguments or raise ``ValueError`` /
    ``TypeError``, or a ``for`` loop that checks each item."""
    if _is_check(node):
        return True
    if isinstance(node, ast.If):
        branch = node.body + node.orelse
        return all(_is_argument_error(s) or _is_validation(s) for s in branch)
    if isinstance(node, ast.For) and not node.orelse:
        # a loop over arguments that checks each one (a ``try`` in it may only compute
        # the names a check then tests, or raise)
        return all(_is_validation(s) or _is_checking_try(s) for s in node.body) and \
            any(_is_validation(s) for s in node.body)
    return False


def _is_argument_error(node: ast.AST) -> bool:
    """``raise ValueError(...)`` or ``raise TypeError(...)``: a bad argument. Any other
    exception (``NotErgodicError``) says something about the model, and stays listed."""
    if not isinstance(node, ast.Raise):
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    name = exc.id if isinstance(exc, ast.Name) else getattr(exc, "attr", "")
    return name in ("ValueError", "TypeError")


def _is_checking_try(node: ast.AST) -> bool:
    if not isinstance(node, ast.Try):
        return False
    stmts = node.body + [s for h in node.handlers for s in h.body] + node.orelse + node.finalbody
    return all(isinstance(s, ast.Assign) or _is_argument_error(s) for s in stmts)


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _is_name_arg(node: ast.AST) -> bool:
    """The argument's name that a check call takes first: "x" or f"sizes[{i}]"."""
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                                and isinstance(node.value, str))


def _checked_value(call: ast.AST):
    """For a check call used as a value, the argument it returns, or None when that is not
    known. ``check_x("name", value, ...)`` (the ``_checks`` helpers) and a private
    ``_check_y("name", value, ...)`` return ``value``; a private ``_check_z(value)`` with
    one argument returns it. A helper that computes something from several arguments is
    named for what it returns (``_base_logits``), and its call stays in the listing."""
    if not (isinstance(call, ast.Call) and _CHECK_NAME.match(_call_name(call))):
        return None
    args = call.args
    if args and _is_name_arg(args[0]):
        return args[1] if len(args) > 1 and not _is_name_arg(args[1]) else None
    values = [a for a in args if not _is_name_arg(a)]
    if _call_name(call).startswith("_") and len(values) == 1:
        return values[0]                     # _check_z(value), _check_z(value, "name", min_batch=1)
    return None


def _drop_validation(body: list, drop: set, lines: list, notes: list) -> None:
    """Mark the validating statements of a block (and of the blocks nested in it) for
    removal. A block left with nothing but validation goes too (``else:`` with it)."""
    for s in body:
        if _is_validation(s):
            drop.update(range(s.lineno - 1, s.end_lineno))
            notes.append(s)
        elif isinstance(s, ast.If):
            if not all(_is_validation(t) for t in s.body):   # a block never left empty
                _drop_validation(s.body, drop, lines, notes)
            if s.orelse:
                _drop_validation(s.orelse, drop, lines, notes)
                if all(_is_validation(t) for t in s.orelse) and not isinstance(s.orelse[0], ast.If):
                    # the `else:` line itself, the last one before the branch that says so
                    i = s.orelse[0].lineno - 2
                    while i > s.body[-1].end_lineno - 1 and lines[i].strip() != "else:":
                        i -= 1
                    if lines[i].strip() == "else:":
                        drop.add(i)


def _inline_checks(tree: ast.AST, code: str) -> str:
    """Replace each check call used inside an expression by the value it returns:
    ``x if s is None else check_number("s", s)`` reads ``x if s is None else s``."""
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def position(lineno: int, col: int) -> int:     # ast's columns count UTF-8 bytes
        return offsets[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    spans = []
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            value = _checked_value(child)
            if value is not None and not isinstance(node, ast.Expr):
                spans.append((position(child.lineno, child.col_offset),
                              position(child.end_lineno, child.end_col_offset),
                              ast.get_source_segment(code, value)))
    outer, reach = [], -1
    for start, end, text in sorted(spans, key=lambda sp: (sp[0], -sp[1])):
        if start >= reach:                           # not inside a call already replaced
            outer.append((start, end, text))
            reach = end
    for start, end, text in reversed(outer):
        code = code[:start] + text + code[end:]
    # what is left of a checked copy: [s for i, s in enumerate(sizes)] is list(sizes)
    code = re.sub(r"\[(\w+) for \w+, \1 in enumerate\(([\w.]+)\)\]", r"list(\2)", code)
    code = re.sub(r"\((\w+) for \w+, \1 in enumerate\(([\w.]+)\)\)", r"(\2)", code)
    code = re.sub(r"\[(\w+) for \1 in ([\w.]+)\]", r"list(\2)", code)
    code = re.sub(r"\{(\w+) for \1 in ([\w.]+)\}", r"set(\2)", code)
    return code


def _strip_checks(code: str) -> tuple[str, int]:
    """Remove the argument checking from a function (or each method of a class): the
    checking statements, also inside ``if`` blocks, and check calls inside expressions,
    which are replaced by the value they return. A comment marks where the checks were;
    returns the listing and the number of lines it lost."""
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
        notes: list = []
        _drop_validation(body, drop, lines, notes)
        if not notes:
            continue
        first = min(notes, key=lambda s: s.lineno)
        if any(s is first for s in body):      # the note goes where the checks begin
            indent = re.match(r"\s*", lines[first.lineno - 1]).group(0)
            lines[first.lineno - 1] = f"{indent}# ... argument checks omitted (see the module's source)"
            drop.discard(first.lineno - 1)
    kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    before = len(kept.splitlines())
    try:
        kept = _inline_checks(ast.parse(kept), kept)
    except SyntaxError:
        pass
    return kept, len(drop) + before - len(kept.splitlines())


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

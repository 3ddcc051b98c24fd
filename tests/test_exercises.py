"""Every exercise in every chapter: registered, checked, solved, and its mistakes caught.

For each chapter notebook the test reads the exercises out of the markup
(``_ext/abnn_markup.py``), runs the chapter's import-and-configuration cells, then each
exercise's stub cells (which must be reported as *not attempted*) and its solution cells
(which must pass their checker). Every mistake registered for an exercise is fed to the
checker and must be reported as wrong, by name. Breaking a solution in a notebook, or a
checker in ``companion/exercises``, fails this file.
"""
from __future__ import annotations

import contextlib
import io
import linecache
import re
import sys
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import abnn_markup as markup  # noqa: E402

from companion import exercises  # noqa: E402
from companion.exercises import Status  # noqa: E402

NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
MIN_EXERCISES, MIN_PER_KIND = 6, 2


def read(path):
    return nbformat.read(path, as_version=4)


PARSED = {p.name: (read(p), markup.exercises(read(p))) for p in NOTEBOOKS}


def chapter_of(path_name: str) -> str:
    return path_name[:2]


@pytest.mark.parametrize("name", sorted(PARSED))
def test_every_chapter_has_exercises_of_each_kind(name):
    _, exs = PARSED[name]
    kinds = Counter(e.kind for e in exs)
    assert len(exs) >= MIN_EXERCISES, f"{name}: {len(exs)} exercises, want >= {MIN_EXERCISES}"
    for kind in markup.KINDS:
        assert kinds[kind] >= MIN_PER_KIND, f"{name}: {kinds[kind]} {kind} exercises"
    assert all(e.kind for e in exs), f"{name}: an exercise without :class: derive|code|explore"


@pytest.mark.parametrize("name", sorted(PARSED))
def test_exercises_are_well_formed(name):
    nb, exs = PARSED[name]
    targets = markup.section_targets(nb)
    headings = [markup.source(c) for c in nb.cells if c.cell_type == "markdown"]
    assert any(re.search(r"^## Exercises", h, re.M) for h in headings), \
        f"{name}: no '## Exercises' section"
    labels = [e.label for e in exs]
    assert len(labels) == len(set(labels)), f"{name}: duplicate exercise labels"
    reg = exercises.registry()
    for e in exs:
        assert e.label.startswith(f"ex-{chapter_of(name)}-"), f"{e.label}: ex-NN-name"
        assert e.key in reg, f"{e.label}: no checker registered for {e.key!r}"
        assert reg[e.key].kind == e.kind, f"{e.label}: :class: {e.kind}, registry {reg[e.key].kind}"
        refs = re.findall(r"\{ref\}`(?:[^`<]*<)?(sec-[\w-]+)>?`", e.body)
        assert refs and all(r in targets for r in refs), \
            f"{e.label} must point back to the section it practises ({{ref}}`sec-...`)"
        assert e.stub, f"{e.label}: no stub cell after the exercise"
        stub_src = "\n".join(markup.source(nb.cells[i]) for i in e.stub)
        assert f'exercises.check("{e.key}"' in stub_src, f"{e.label}: stub never checks"
        assert e.solution_start is not None and e.solution_end is not None, \
            f"{e.label}: solution-start/solution-end missing"
        sol_code = [i for i in e.solution if nb.cells[i].cell_type == "code"]
        assert sol_code, f"{e.label}: the solution has no code cell that checks it"
        sol_src = "\n".join(markup.source(nb.cells[i]) for i in sol_code)
        assert f'exercises.check("{e.key}"' in sol_src, f"{e.label}: solution never checks"
        for i in sol_code:
            meta = nb.cells[i].metadata
            assert meta.get("jupyter", {}).get("source_hidden") is True, \
                f"{e.label}: solution cell {i} is not collapsed in JupyterLab"
        for i in e.stub + sol_code:
            assert not re.search(r"^\s*[%!]", markup.source(nb.cells[i]), re.M), \
                f"{e.label}: no magics in exercise cells"


def test_every_checker_is_used_by_a_notebook():
    used = {e.key for _, exs in PARSED.values() for e in exs}
    unused = sorted(set(exercises.registry()) - used)
    assert not unused, f"checkers no notebook uses: {unused}"


def test_code_exercises_register_known_mistakes():
    for label, ex in exercises.registry().items():
        if ex.kind == "code":
            assert ex.mistakes, f"{label}: a code exercise needs >= 1 registered mistake"


def _run(src: str, ns: dict, where: str) -> str:
    """Execute a cell's source in ``ns`` (functions keep their source, for stub detection);
    return what it printed."""
    filename = f"<{where}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(src, filename, "exec"), ns)  # noqa: S102 - the book's own cells
    plt.close("all")
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(PARSED))
def test_stubs_are_not_attempted_and_solutions_pass(name, monkeypatch, tmp_path):
    nb, exs = PARSED[name]
    if not exs:
        pytest.skip(f"{name} has no exercises yet")
    monkeypatch.chdir(ROOT / "chapters")
    ns: dict = {"__name__": "__main__"}
    for i in markup.setup_cells(nb):
        _run(markup.source(nb.cells[i]), ns, f"{name} cell {i}")
    for e in exs:
        for i in e.stub:
            printed = _run(markup.source(nb.cells[i]), ns, f"{name} stub {i}")
            result = exercises.last_result(e.key)
            assert result is not None and result.status is Status.NOT_ATTEMPTED, \
                f"{e.label}: the stub as shipped reads {result}; printed {printed!r}"
            assert "○" in printed, f"{e.label}: the stub prints one 'not attempted' line"
        for i in e.solution:
            if nb.cells[i].cell_type == "code":
                _run(markup.source(nb.cells[i]), ns, f"{name} solution {i}")
        result = exercises.last_result(e.key)
        assert result is not None and result.status is Status.RIGHT, \
            f"{e.label}: the notebook's own solution reads {result}"


MISTAKES = [(label, m) for label, ex in sorted(exercises.registry().items())
            for m in ex.mistakes]


@pytest.mark.parametrize("label,mistake", MISTAKES,
                         ids=[f"{lab}:{m.name[:40]}" for lab, m in MISTAKES])
def test_known_mistakes_are_caught_by_name(label, mistake):
    ex = exercises.get(label)
    answer = mistake.answer
    if ex.answer_type == "value" and callable(answer):
        answer = answer()                  # a value exercise's mistake may be computed
    result = exercises.check(label, answer, quiet=True)
    assert result.status is Status.WRONG, f"{label}: mistake {mistake.name!r} passes as {result}"
    assert mistake.name in result.message, f"{label}: hint does not name {mistake.name!r}: {result}"


def test_the_mechanism_tells_the_three_cases_apart():
    """On a throwaway exercise: stub, right, wrong, named mistake, and an answer that raises."""
    import torch

    from companion.exercises import _core

    label = "00-selftest-square"
    if label not in exercises.registry():
        _core.function_exercise(
            label, kind="code", section="self-test",
            cases=lambda g: [(torch.randn(5, generator=g, dtype=torch.float64),)],
            reference=lambda x: x ** 2,
            mistakes=[exercises.Mistake("doubled instead of squared", "x * x, not 2 * x",
                                        lambda x: 2 * x)])
    try:
        def stub(x):
            """Square x."""
            ...

        assert exercises.check(label, stub, quiet=True).status is Status.NOT_ATTEMPTED
        assert exercises.check(label, ..., quiet=True).status is Status.NOT_ATTEMPTED
        assert exercises.check(label, lambda x: x * x, quiet=True)
        r = exercises.check(label, lambda x: 2 * x, quiet=True)
        assert r.status is Status.WRONG and "doubled instead of squared" in r.message
        r = exercises.check(label, lambda x: x + 1, quiet=True)
        assert r.status is Status.WRONG and "largest difference" in r.message
        r = exercises.check(label, lambda x: 1 / 0, quiet=True)
        assert r.status is Status.WRONG and "ZeroDivisionError" in r.message

        def forgot_return(x):
            x ** 2

        r = exercises.check(label, forgot_return, quiet=True)
        assert r.status is Status.WRONG and "return" in r.message
        r = exercises.check(label, 3.0, quiet=True)
        assert r.status is Status.WRONG and "expected a function" in r.message
        with pytest.raises(ValueError, match="no exercise is registered"):
            exercises.check("00-no-such-exercise", stub)
    finally:
        _core._REGISTRY.pop(label, None)

"""The book's MyST markup, read out of the chapter notebooks.

One parser for the conventions the chapters follow, used by the tests (exercises,
figures, cross-references) and by the Jupyter/Colab edition (``_ext/edition.py``):

* an exercise is a markdown cell with an ``{exercise}`` directive, a ``:label:
  ex-NN-name`` and a ``:class:`` naming its kind (derive, code or explore); the code cells
  after it, up to its ``{solution-start}``, are its stub; the cells between
  ``{solution-start} ex-NN-name`` and ``{solution-end}`` are its solution;
* a section target is a line ``(sec-NN-name)=`` before a heading;
* a figure is a code cell whose metadata has ``mystnb.figure`` (``name`` and ``caption``)
  and, for image outputs, ``mystnb.image.alt``.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional

EXERCISE_RE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise\}[ \t]*(?P<title>[^\n]*)\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)"
    r"(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
OPTION_RE = re.compile(r"^[ \t]*:([\w-]+):[ \t]*(.*?)[ \t]*$", re.M)
SOLUTION_START_RE = re.compile(r"^(`{3,}|:{3,})\{solution-start\}[ \t]+(ex-[\w-]+)", re.M)
SOLUTION_END_RE = re.compile(r"^(`{3,}|:{3,})\{solution-end\}", re.M)
TARGET_RE = re.compile(r"^\(([\w-]+)\)=[ \t]*\n+(#+)[ \t]+(.+?)[ \t]*$", re.M)
CHECK_RE = re.compile(r"exercises\.check\(\s*[\"']([\w-]+)[\"']")
KINDS = ("derive", "code", "explore")


@dataclasses.dataclass
class ExerciseCells:
    label: str                 # "ex-04-hebbian"
    title: str
    kind: Optional[str]        # derive | code | explore (from :class:)
    body: str                  # the exercise text
    cell: int                  # index of the markdown cell with the directive
    stub: List[int] = dataclasses.field(default_factory=list)       # code cells
    solution: List[int] = dataclasses.field(default_factory=list)   # all cells, both kinds
    solution_start: Optional[int] = None
    solution_end: Optional[int] = None

    @property
    def key(self) -> str:
        """The checker's label: ``ex-04-hebbian`` -> ``04-hebbian``."""
        return self.label[3:] if self.label.startswith("ex-") else self.label


def source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def exercises(nb) -> List[ExerciseCells]:
    """The exercises of a notebook, in order, with their stub and solution cells."""
    cells = nb["cells"] if isinstance(nb, dict) else nb.cells
    found: List[ExerciseCells] = []
    by_label: Dict[str, ExerciseCells] = {}
    current: Optional[ExerciseCells] = None       # exercise whose stub cells we collect
    inside: Optional[ExerciseCells] = None        # exercise whose solution we are in
    for i, cell in enumerate(cells):
        text = source(cell)
        if cell["cell_type"] == "markdown":
            start = SOLUTION_START_RE.search(text)
            end = SOLUTION_END_RE.search(text)
            for m in EXERCISE_RE.finditer(text):
                opts = dict(OPTION_RE.findall(m.group("options")))
                ex = ExerciseCells(label=opts.get("label", ""), title=m.group("title").strip(),
                                   kind=next((c for c in opts.get("class", "").split()
                                              if c in KINDS), None),
                                   body=m.group("body"), cell=i)
                found.append(ex)
                by_label[ex.label] = ex
                current = ex
            if start:
                inside = by_label.get(start.group(2))
                current = None
                if inside is not None:
                    inside.solution_start = i
                    inside.solution.append(i)
            elif inside is not None:
                inside.solution.append(i)
            if end and inside is not None:
                inside.solution_end = i
                inside = None
        elif cell["cell_type"] == "code":
            if inside is not None:
                inside.solution.append(i)
            elif current is not None:
                current.stub.append(i)
    return found


def section_targets(nb) -> Dict[str, str]:
    """``(sec-NN-name)=`` targets and the heading each stands before: label -> title."""
    cells = nb["cells"] if isinstance(nb, dict) else nb.cells
    targets = {}
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for label, _, title in TARGET_RE.findall(source(cell)):
                targets[label] = title
    return targets


def figure_cells(nb) -> List[int]:
    """Indices of code cells that carry figure metadata (``mystnb.figure``)."""
    cells = nb["cells"] if isinstance(nb, dict) else nb.cells
    return [i for i, c in enumerate(cells) if c["cell_type"] == "code"
            and isinstance(c.get("metadata", {}).get("mystnb", {}).get("figure"), dict)]


def displays_figure(cell) -> bool:
    """True when a code cell's stored outputs include an image or a static slider."""
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data or "image/svg+xml" in data or "image/jpeg" in data:
            return True
        if "abnn-slider" in "".join(data.get("text/html", "")):
            return True
    return False


def setup_cells(nb) -> List[int]:
    """The code cells before the first second-level heading: imports and configuration."""
    cells = nb["cells"] if isinstance(nb, dict) else nb.cells
    out = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and re.search(r"^## ", source(cell), re.M):
            break
        if cell["cell_type"] == "code":
            out.append(i)
    return out

"""The Jupyter/Colab edition of the book: ``notebooks/`` generated from ``chapters/``.

The chapters are written in MyST (citations, admonitions, exercise directives, numbered
cross-references), which only the book's build understands: opened in Colab or Jupyter, a
chapter would show ``{cite}`hopfield1982neural``` and fenced ``{admonition}`` blocks as raw
text. This module writes, for every chapter, a notebook in which the same content reads as
plain Markdown and HTML that every front end renders:

* citations become "(Hopfield, 1982)" or "Hopfield (1982)", linked to a reference list at the
  end of the notebook, formatted from ``references.bib``;
* admonitions ("Common mistake" boxes, notes) become block quotes with a bold title;
* exercises become headed, numbered blocks ("Exercise 4.3"); each solution's text sits in a
  closed ``<details>`` block and each solution code cell starts collapsed (JupyterLab's
  ``jupyter.source_hidden`` and Colab's ``cellView: form`` with a ``# @title`` line);
* ``{numref}``/``{ref}`` become "Figure 4.3", "Exercise 4.2" or a section's title, linked to
  anchors; each captioned figure is followed by its caption, numbered as in the book.

Code cells and their stored outputs are copied unchanged (only solution cells get their
title line), so the edition runs exactly as the chapter does. There is one source of truth:
``chapters/``; ``tests/test_edition.py`` fails when ``notebooks/`` is out of date, and the
book's launch buttons open the edition (``_ext/book_fixes.py``).

    python _ext/edition.py            # (re)write notebooks/ from chapters/
    python _ext/edition.py --check    # exit 1 if notebooks/ is out of date
    python _ext/edition.py --first-cell   # rewrite every chapter's Colab cell from _config.yml
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import abnn_markup as markup  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS, EDITION = ROOT / "chapters", ROOT / "notebooks"

ROLE_RE = re.compile(r"\{(cite(?::[tp])?|numref|ref|eq|doc)\}`([^`]*)`")
ADMONITION_RE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>admonition|note|warning|tip|important|caution)\}"
    r"[ \t]*(?P<title>[^\n]*)\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)(?P<body>.*?)"
    r"^(?P=fence)[ \t]*$\n?", re.M | re.S)
GATE_RE = re.compile(r"^(`{3,}|:{3,})\{solution-(?:start|end)\}[^\n]*\n"
                     r"(?:[ \t]*:[\w-]+:[^\n]*\n)*\1[ \t]*$\n?", re.M)
TARGET_LINE_RE = re.compile(r"^\(([\w-]+)\)=[ \t]*$", re.M)
FIRST_CELL = '''# Colab setup: install the book's companion package when running in Google Colab.
# Elsewhere (Jupyter, the book's build) this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "abnn-companion @ git+{url}@{branch}"], check=True)'''


# ----------------------------------------------------------------------------- bibliography
class Bibliography:
    def __init__(self, path: Path):
        from pybtex.database import parse_file

        self.entries = parse_file(str(path)).entries

    @staticmethod
    def _text(latex: str) -> str:
        from pybtex.richtext import Text

        text = Text.from_latex(latex).render_as("text")
        return re.sub(r"\\url\s*", "", text).strip()

    def _last_names(self, key: str) -> List[str]:
        entry = self.entries[key]
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        return [self._text(" ".join(p.last_names)) for p in people]

    def year(self, key: str) -> str:
        return self.entries[key].fields.get("year", "n.d.")

    def who(self, key: str) -> str:
        names = self._last_names(key)
        if not names:
            return self._text(self.entries[key].fields.get("title", key))
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."

    def entry(self, key: str) -> str:
        """One formatted reference: authors (year). Title. Venue."""
        e = self.entries[key]
        people = e.persons.get("author") or e.persons.get("editor") or []
        names = []
        for p in people:
            first = " ".join(p.first_names + p.middle_names)
            initials = " ".join(f"{n[0]}." for n in self._text(first).split() if n)
            names.append(f"{self._text(' '.join(p.prelast_names + p.last_names))}, {initials}".strip(", "))
        authors = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] \
            if names else ""
        f = e.fields
        title = self._text(f.get("title", ""))
        venue = self._text(f.get("journal") or f.get("booktitle") or f.get("publisher")
                           or f.get("institution") or f.get("howpublished") or "")
        extra = []
        if f.get("volume"):
            extra.append(f"vol. {f['volume']}")
        if f.get("pages"):
            extra.append(f"pp. {self._text(f['pages'])}")
        tail = f"{venue}" + (f", {', '.join(extra)}" if extra and venue else "")
        url = f.get("url") or ""
        return (f"{authors} ({self.year(key)}). {title}." + (f" *{tail}*." if tail else "")
                + (f" <{url}>" if url else ""))


# ----------------------------------------------------------------------------- numbering
def chapter_numbers() -> Dict[str, int]:
    """Chapter file stem -> chapter number, in the order of _toc.yml (numbered parts)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbers, n = {}, 0
    for part in toc.get("parts", []):
        if not part.get("numbered"):
            continue
        for ch in part.get("chapters", []):
            n += 1
            numbers[Path(ch["file"]).stem] = n
    return numbers


class Labels:
    """What each label of a chapter renders as: Figure 4.3, Exercise 4.2, a section title."""

    def __init__(self, nb, number: int):
        self.text: Dict[str, str] = {}
        for k, i in enumerate(markup.figure_cells(nb), start=1):
            name = nb.cells[i].metadata["mystnb"]["figure"].get("name")
            if name:
                self.text[name] = f"Figure {number}.{k}"
        for k, ex in enumerate(markup.exercises(nb), start=1):
            self.text[ex.label] = f"Exercise {number}.{k}"
        for label, title in markup.section_targets(nb).items():
            self.text[label] = re.sub(r"\$([^$]*)\$", r"\1", title)

    def get(self, label: str) -> Optional[str]:
        return self.text.get(label)


# ----------------------------------------------------------------------------- converting
class Converter:
    def __init__(self, bib: Bibliography):
        self.bib = bib

    def roles(self, text: str, labels: Labels, cited: List[str]) -> str:
        def replace(m):
            role, arg = m.group(1), m.group(2)
            if role.startswith("cite"):
                keys = [k.strip() for k in arg.split(",") if k.strip()]
                for k in keys:
                    if k not in self.bib.entries:
                        raise KeyError(f"citation {k!r} is not in references.bib")
                    if k not in cited:
                        cited.append(k)
                if role == "cite:t":
                    return "; ".join(f"[{self.bib.who(k)} ({self.bib.year(k)})](#ref-{k})"
                                     for k in keys)
                return "(" + "; ".join(f"[{self.bib.who(k)}, {self.bib.year(k)}](#ref-{k})"
                                       for k in keys) + ")"
            explicit = re.match(r"^(.*?)\s*<([\w-]+)>$", arg)
            label = explicit.group(2) if explicit else arg.strip()
            shown = labels.get(label)
            if shown is None:
                raise KeyError(f"{{{role}}}`{arg}`: no figure, exercise or section {label!r}")
            if explicit and explicit.group(1):
                shown = explicit.group(1).replace("%s", shown.split()[-1]).replace("{number}", shown.split()[-1])
            return f"[{shown}](#{label})"

        return ROLE_RE.sub(replace, text)

    @staticmethod
    def admonitions(text: str) -> str:
        def replace(m):
            name, title = m.group("name"), m.group("title").strip()
            opts = dict(markup.OPTION_RE.findall(m.group("options")))
            kind = opts.get("class", name)
            icon = "⚠️" if ("warning" in kind or "caution" in kind) else "ℹ️"
            title = title or name.capitalize()
            body = m.group("body").rstrip("\n")
            lines = [f"> {icon} **{title}**", ">"] + [f"> {line}" if line else ">"
                                                      for line in body.split("\n")]
            return "\n".join(lines) + "\n"

        return ADMONITION_RE.sub(replace, text)

    @staticmethod
    def targets(text: str) -> str:
        return TARGET_LINE_RE.sub(lambda m: f'<a id="{m.group(1)}"></a>', text)

    def exercise_blocks(self, text: str, labels: Labels) -> str:
        def replace(m):
            opts = dict(markup.OPTION_RE.findall(m.group("options")))
            label = opts.get("label", "")
            title = m.group("title").strip()
            head = labels.get(label) or "Exercise"
            body = m.group("body").rstrip("\n")
            lines = [f'<a id="{label}"></a>', "", f"> ✏️ **{head}" + (f": {title}**" if title else "**"),
                     ">"] + [f"> {line}" if line else ">" for line in body.split("\n")]
            return "\n".join(lines) + "\n"

        return markup.EXERCISE_RE.sub(replace, text)

    def markdown(self, text: str, labels: Labels, cited: List[str]) -> str:
        text = self.exercise_blocks(text, labels)
        text = self.admonitions(text)
        text = self.targets(text)
        return self.roles(text, labels, cited)

    def notebook(self, nb, number: int, stem: str, config: dict) -> nbformat.NotebookNode:
        labels = Labels(nb, number)
        out = copy.deepcopy(nb)
        cited: List[str] = []
        solution_of: Dict[int, str] = {}
        for ex in markup.exercises(nb):
            for i in ex.solution:
                solution_of[i] = labels.get(ex.label) or "the exercise"
        figures = set(markup.figure_cells(nb))
        cells = []
        for i, cell in enumerate(out.cells):
            if cell.cell_type == "markdown":
                text = cell.source
                if i in solution_of:
                    text = GATE_RE.sub("", text).strip()
                    if not text:
                        continue
                    text = (f"<details><summary>Solution to {solution_of[i]} (click to "
                            f"show)</summary>\n\n{self.markdown(text, labels, cited)}\n\n</details>")
                    cell.source = text
                else:
                    cell.source = self.markdown(text, labels, cited)
                cells.append(cell)
                continue
            if cell.cell_type == "code" and i in solution_of:
                cell.source = (f"# @title Solution to {solution_of[i]} (double-click to show "
                               f"the code)\n" + cell.source)
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
                cell.metadata["cellView"] = "form"
            cells.append(cell)
            if i in figures:
                fig = nb.cells[i].metadata["mystnb"]["figure"]
                name = fig.get("name", "")
                caption = self.markdown(str(fig.get("caption", "")), labels, cited)
                cells.append(nbformat.v4.new_markdown_cell(
                    f'<a id="{name}"></a>**{labels.get(name) or "Figure"}.** {caption}'))
        url = config["repository"]["url"].rstrip("/")
        branch = config["repository"].get("branch", "main")
        note = nbformat.v4.new_markdown_cell(
            f"*This is the Jupyter and Colab edition of chapter {number} of "
            f"{config['title']}, generated from `chapters/{stem}.ipynb` in "
            f"[the book's repository]({url}) (branch `{branch}`); the HTML book shows the same "
            f"chapter with its cross-references and exercises typeset. Run the cells in order; "
            f"solutions to the exercises start collapsed.*")
        insert_at = next((k + 1 for k, c in enumerate(cells)
                          if c.cell_type == "markdown" and c.source.lstrip().startswith("# ")), 1)
        cells.insert(insert_at, note)
        if cited:
            refs = ["## References", ""]
            for k in sorted(cited, key=lambda k: (self.bib.who(k), self.bib.year(k))):
                refs.append(f'- <a id="ref-{k}"></a>{self.bib.entry(k)}')
            cells.append(nbformat.v4.new_markdown_cell("\n".join(refs)))
        for k, c in enumerate(cells):
            c["id"] = f"{stem[:2]}-{k:03d}"
        out.cells = cells
        out.metadata.setdefault("colab", {})["provenance"] = []
        out.metadata["abnn"] = {"generated_from": f"chapters/{stem}.ipynb",
                                "generator": "_ext/edition.py"}
        return out


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def build(stem_filter: Optional[str] = None) -> Dict[str, str]:
    """Path name -> generated notebook JSON, for every chapter."""
    cfg = config()
    bib = Bibliography(ROOT / cfg["bibtex_bibfiles"][0])
    conv = Converter(bib)
    numbers = chapter_numbers()
    out = {}
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        if stem_filter and stem_filter not in path.stem:
            continue
        if path.stem not in numbers:
            continue
        nb = nbformat.read(path, as_version=4)
        edition = conv.notebook(nb, numbers[path.stem], path.stem, cfg)
        out[path.name] = nbformat.writes(edition) + "\n"
    return out


CLAIM_RE = re.compile(r'class="abnn-claim" data-claim="([^"]*)"')
COUNT_RE = re.compile(r"(<!-- claims-count -->)(\d+)(<!-- /claims-count -->)")


def stored_claim_count() -> int:
    """How many results the chapters reproduce: the claims in their stored outputs (the same
    claims the book's build collects into the "Reproduced results" appendix)."""
    n = 0
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                n += len(CLAIM_RE.findall("".join(out.get("data", {}).get("text/html", ""))))
    return n


def readme_with_count(text: str, n: int) -> str:
    return COUNT_RE.sub(lambda m: f"{m.group(1)}{n}{m.group(3)}", text)


def write_first_cells() -> List[str]:
    """Rewrite every chapter's first (Colab) cell from _config.yml's repository url/branch."""
    cfg = config()
    src = FIRST_CELL.format(url=cfg["repository"]["url"].rstrip("/"),
                            branch=cfg["repository"].get("branch", "main"))
    changed = []
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if nb.cells and nb.cells[0].cell_type == "code" and nb.cells[0].source != src:
            nb.cells[0].source = src
            nbformat.write(nb, path)
            changed.append(path.name)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if notebooks/ is stale")
    parser.add_argument("--first-cell", action="store_true",
                        help="rewrite the chapters' Colab cells from _config.yml first")
    args = parser.parse_args(argv)
    if args.first_cell:
        for name in write_first_cells():
            print(f"rewrote the first cell of chapters/{name}")
    generated = build()
    stale = [n for n, text in generated.items()
             if not (EDITION / n).exists() or (EDITION / n).read_text() != text]
    extra = [p.name for p in EDITION.glob("*.ipynb") if p.name not in generated]
    readme = ROOT / "README.md"
    counted = readme_with_count(readme.read_text(), stored_claim_count())
    readme_stale = counted != readme.read_text()
    if args.check:
        for n in stale + extra:
            print(f"notebooks/{n} is out of date: run `make edition`")
        if readme_stale:
            print("README.md's count of reproduced results is out of date: run `make edition`")
        return 1 if stale or extra or readme_stale else 0
    if readme_stale:
        readme.write_text(counted)
        print("updated the count of reproduced results in README.md")
    EDITION.mkdir(exist_ok=True)
    for n in stale:
        (EDITION / n).write_text(generated[n])
        print(f"wrote notebooks/{n}")
    for n in extra:
        (EDITION / n).unlink()
        print(f"removed notebooks/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

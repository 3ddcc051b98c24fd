"""The Jupyter/Colab edition (notebooks/) is up to date with chapters/ and shows no raw MyST."""
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import edition  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
RAW_MYST = [
    (re.compile(r"\{[a-z][\w:.-]*\}`"), "a MyST role"),
    (re.compile(r"^\s*(`{3,}|:{3,})\s*\{[\w-]+\}", re.M), "a MyST directive"),
    (re.compile(r"^\([\w-]+\)=\s*$", re.M), "a MyST target"),
]
GENERATED = edition.build()


def test_every_chapter_has_an_edition():
    assert sorted(GENERATED) == [p.name for p in CHAPTERS]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_edition_is_up_to_date(name):
    path = ROOT / "notebooks" / name
    assert path.exists(), f"notebooks/{name} is missing: run `make edition`"
    assert path.read_text() == GENERATED[name], \
        f"notebooks/{name} is out of date with chapters/{name}: run `make edition`"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_edition_shows_no_raw_myst(name):
    nb = nbformat.reads(GENERATED[name], as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for pattern, what in RAW_MYST:
            for m in pattern.finditer(cell.source):
                found.append(f"cell {i}: {what}: {cell.source[max(0, m.start() - 30):m.end() + 30]!r}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_code_and_outputs_are_the_chapters(name):
    chapter = nbformat.read(ROOT / "chapters" / name, as_version=4)
    ed = nbformat.reads(GENERATED[name], as_version=4)
    src = [c for c in chapter.cells if c.cell_type == "code"]
    out = [c for c in ed.cells if c.cell_type == "code"]
    assert len(src) == len(out)
    for a, b in zip(src, out):
        body = re.sub(r"^# @title [^\n]*\n", "", b.source)
        assert body == a.source
        assert b.outputs == a.outputs
        if b.source.startswith("# @title Solution"):
            assert b.metadata["jupyter"]["source_hidden"] is True
            assert b.metadata["cellView"] == "form"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_citations_link_to_a_reference_list(name):
    nb = nbformat.reads(GENERATED[name], as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    linked = set(re.findall(r"\]\(#ref-([\w:-]+)\)", text))
    listed = set(re.findall(r'<a id="ref-([\w:-]+)"></a>', text))
    assert linked == listed and linked, "every citation links to an entry of the list"
    for anchor in set(re.findall(r"\]\(#((?:fig|ex|sec)-[\w-]+)\)", text)):
        assert f'<a id="{anchor}"></a>' in text, f"a link to #{anchor} with no anchor"

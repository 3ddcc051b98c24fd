"""The claims registry: a reproduced result outside its tolerance fails, and the chapters
make enough claims, each with a source in references.bib."""
import html
import json
import re
from pathlib import Path

import nbformat
import pytest

from companion import claims

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
DATA_RE = re.compile(r'class="abnn-claim" data-claim="([^"]*)"')


def stored_claims(path):
    """The claims a notebook made when it was last executed (from its stored outputs)."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            page = "".join(out.get("data", {}).get("text/html", ""))
            found += [json.loads(html.unescape(m)) for m in DATA_RE.findall(page)]
    return found


def base(**kw):
    args = dict(quantity="a measured constant", paper=1.0, measured=1.05, tol=0.1,
                source="hopfield1982neural", setting="a test", display=False)
    args.update(kw)
    return args


@pytest.mark.parametrize("measured,tol,relation,holds", [
    (1.05, 0.1, "~", True), (1.2, 0.1, "~", False), (0.8, 0.1, "~", False),
    (0.5, 0.0, "<=", True), (1.01, 0.0, "<=", False), (1.5, 0.0, ">=", True),
    (0.95, 0.1, ">=", True), (0.85, 0.1, ">=", False),
])
def test_a_claim_outside_its_tolerance_fails(measured, tol, relation, holds):
    kw = base(measured=measured, tol=tol, relation=relation)
    if holds:
        c = claims.claim("99-test", **kw)
        assert c.holds and "✔" in c.line()
    else:
        with pytest.raises(claims.ClaimError, match="99-test"):
            claims.claim("99-test", **kw)


def test_relative_tolerance_and_bad_input():
    assert claims.claim("99-test", **base(tol=None, rtol=0.06)).holds
    with pytest.raises(claims.ClaimError):
        claims.claim("99-test", **base(tol=None, rtol=0.04))
    with pytest.raises(ValueError, match="key"):
        claims.claim("alpha", **base())
    with pytest.raises(ValueError, match="measured must be finite"):
        claims.claim("99-test", **base(measured=float("nan")))
    with pytest.raises(ValueError, match="exactly one"):
        claims.claim("99-test", **base(rtol=0.1))
    with pytest.raises(ValueError, match="relation"):
        claims.claim("99-test", **base(relation="=="))


def test_the_html_line_carries_the_data_the_appendix_reads():
    c = claims.claim("99-test", **base())
    data = json.loads(html.unescape(DATA_RE.search(c._repr_html_()).group(1)))
    assert data["key"] == "99-test" and data["holds"] is True and data["measured"] == 1.05


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_chapter_reproduces_results_with_sources(path):
    bib = (ROOT / "references.bib").read_text()
    entries = set(re.findall(r"@\w+\{([^,]+),", bib))
    made = stored_claims(path)
    assert len(made) >= 2, f"{path.name}: {len(made)} reproduced results, want >= 2"
    for c in made:
        assert c["holds"], f"{path.name}: claim {c['key']} fails"
        assert c["key"][:2] == path.name[:2], f"{c['key']} made in {path.name}"
        assert c["source"] in entries, f"{c['key']}: source {c['source']} not in references.bib"


def test_the_book_reproduces_at_least_24_results():
    keys = [c["key"] for path in NOTEBOOKS for c in stored_claims(path)]
    assert len(keys) == len(set(keys)), "claim keys are unique"
    assert len(keys) >= 24, f"{len(keys)} reproduced results, want >= 24"


def test_the_readme_counts_the_reproduced_results_from_the_chapters():
    """README's number comes from the same claims as the appendix (the chapters' outputs),
    written by `make edition`; the intro uses the {claims-count} role, filled at build time."""
    import sys
    sys.path.insert(0, str(ROOT / "_ext"))
    import edition

    n = sum(len(stored_claims(p)) for p in NOTEBOOKS)
    assert n == edition.stored_claim_count()
    readme = (ROOT / "README.md").read_text()
    assert f"<!-- claims-count -->{n}<!-- /claims-count -->" in readme, "run `make edition`"
    assert "{claims-count}" in (ROOT / "intro.md").read_text()

"""The built book as a finished textbook website: accessibility (axe-core), offline search,
the API reference, links from chapters to the code they use, and a page-weight budget."""
import importlib
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGE_BUDGET = 3 * 1024 * 1024          # bytes: a page with the images it shows
MODULES = sorted(p.stem for p in (ROOT / "appendix" / "api").glob("*.md") if p.stem != "index")

# Moderate and minor axe findings that are accepted, with the reason. Serious and critical
# ones are never accepted.
ACCEPTED = {
}


REDIRECT = re.compile(r'^\s*<meta http-equiv="Refresh" content="0; url=([^"]+)" />\s*$', re.I)


def _redirect(path: Path):
    """The target of a redirect stub (the root index.html jupyter-book writes), or None."""
    m = REDIRECT.match(path.read_text(encoding="utf-8", errors="replace")[:500])
    return m.group(1) if m else None


def pages():
    """Every page a reader sees (a redirect stub is not one: the browser leaves it at once)."""
    if not (HTML / "index.html").exists():
        return []
    return sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                  if not p.name.startswith(("genindex", "search", "py-modindex"))
                  and "_static" not in p.parts and "_sources" not in p.parts
                  and _redirect(p) is None)


def test_the_root_page_leads_to_the_book():
    _built()
    target = _redirect(HTML / "index.html")
    page = HTML / (target or "index.html")
    assert page.exists() and _redirect(page) is None and "<main" in page.read_text(), target


def _built():
    if not (HTML / "index.html").exists():
        from browser_support import missing
        missing(f"no built book at {HTML}; run `make build-book` first")


def test_every_public_name_is_in_the_api_reference():
    _built()
    missing = []
    for m in MODULES:
        module = importlib.import_module(f"companion.{m}")
        page = (HTML / "appendix" / "api" / f"{m}.html").read_text()
        for name in getattr(module, "__all__", []):
            if f'id="companion.{m}.{name}"' not in page:
                missing.append(f"companion.{m}.{name}")
    assert not missing, f"{len(missing)} public names missing from the API reference: {missing}"


def test_every_module_has_a_reference_page_with_rendered_equations():
    _built()
    import companion
    on_disk = {p.stem for p in Path(companion.__file__).parent.glob("*.py")
               if not p.stem.startswith("_")} | {"exercises"}
    assert on_disk <= set(MODULES), f"modules without an API page: {sorted(on_disk - set(MODULES))}"
    with_math = [m for m in MODULES
                 if 'class="math' in (HTML / "appendix" / "api" / f"{m}.html").read_text()]
    assert len(with_math) >= 10, f"equations rendered on only {with_math}"


def test_chapters_link_to_the_modules_they_use():
    _built()
    for page in sorted((HTML / "chapters").glob("*.html")):
        text = page.read_text()
        assert "abnn-code-modules" in text, f"{page.name}: no links to its companion modules"
        assert re.search(r'href="\.\./appendix/api/\w+\.html"', text), page.name


def _local_assets(page: Path, text: str):
    for ref in re.findall(r'(?:src|href)="([^"#?]+\.(?:png|jpe?g|svg|gif|webp))"', text):
        path = (page.parent / unquote(ref)).resolve()
        if path.exists() and HTML.resolve() in path.parents:
            yield path


@pytest.mark.parametrize("name", pages() or ["index.html"])
def test_page_weight_budget(name):
    _built()
    page = HTML / name
    text = page.read_text(errors="ignore")
    total = page.stat().st_size + sum(p.stat().st_size for p in set(_local_assets(page, text)))
    assert total <= PAGE_BUDGET, f"{name}: {total / 2**20:.2f} MB with its images (budget 3 MB)"


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        from browser_support import missing
        missing("axe-core is not installed (npm ci)")
    return AXE.read_text()


@pytest.mark.parametrize("name", pages() or ["index.html"])
def test_accessibility_with_axe(page, site, axe_source, name):
    page.goto(f"{site}/{name}", wait_until="load")
    page.wait_for_timeout(300)
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => JSON.stringify(await axe.run(document, "
                           "{resultTypes: ['violations']}))")
    violations = json.loads(result)["violations"]
    bad = [f"{v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} nodes, e.g. "
           f"{v['nodes'][0]['target']}]" for v in violations
           if v["impact"] in ("serious", "critical") or (v["id"] not in ACCEPTED)]
    assert not bad, f"{name}: axe-core finds\n" + "\n".join(bad)


def test_search_works_offline(page, site):
    page.goto(f"{site}/search.html?q=Hopfield", wait_until="load")
    # Sphinx adds the results one at a time (a 5 ms timer each) and writes
    # "Search finished, found N page(s)" when the last is in: wait for that.
    page.wait_for_function(
        "() => (document.querySelector('#search-results .search-summary') || {})"
        ".innerText?.startsWith('Search finished')", timeout=30000)
    summary = page.inner_text("#search-results .search-summary")
    found = int(summary.split("found ")[1].split(" ")[0])
    links = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
    assert len(links) == found, (summary, len(links))
    chapters = {h for h in links if "/chapters/" in h}
    assert any("04_hopfield" in h for h in chapters), links[:10]
    assert any("12_modern_hopfield" in h for h in chapters), links[:10]
    assert page.blocked == [], f"search reached off the local server: {page.blocked}"
    assert page.errors == [], page.errors

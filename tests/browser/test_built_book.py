"""The built HTML book works in a real browser with the network blocked."""
import html
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))


def _open(page, site, name):
    page.goto(f"{site}/chapters/{name}.html", wait_until="load")
    page.wait_for_timeout(300)


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_page_works_offline(page, site, name):
    """One visit per chapter: equations typeset and every static slider moves, with the
    network blocked, no request off the local server and no console error."""
    _open(page, site, name)
    # MathJax is served with the book: equations are typeset with the network blocked
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0",
                           timeout=20000)
    sliders = page.locator(".abnn-slider")
    for i in range(sliders.count()):
        s = sliders.nth(i)
        s.scroll_into_view_if_needed()
        img, rng, out = s.locator("img"), s.locator("input[type=range]"), s.locator("output")
        before_src, before_text = img.get_attribute("src"), out.inner_text()
        top = int(rng.get_attribute("max"))
        target = 0 if int(rng.input_value()) != 0 else top
        rng.focus()
        rng.press("Home" if target == 0 else "End")   # a real keyboard interaction
        assert int(rng.input_value()) == target
        assert img.get_attribute("src") != before_src, f"slider {i} of {name}: frame unchanged"
        assert out.inner_text() != before_text, f"slider {i} of {name}: caption unchanged"
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), "the new frame renders"
    assert page.errors == [], f"console errors: {page.errors}"
    # nothing the page needs comes from elsewhere; any attempt to fetch something would
    # show up here (the theme's optional extras, if any, would be listed too)
    assert page.blocked == [], f"requests off the local server: {page.blocked}"


def _built_page(name: str) -> str:
    path = HTML / "chapters" / f"{name}.html"
    if not path.exists():
        pytest.fail(f"{path} was not built")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", CHAPTERS)
def test_launch_buttons_open_the_jupyter_edition_on_main(name):
    """Colab and Binder open notebooks/<chapter>.ipynb, the edition without raw MyST (the
    links are in the page as built; no browser is needed to read them)."""
    repo = CONFIG["repository"]["url"].rstrip("/")
    slug = repo.split("github.com/")[1]
    hrefs = [html.unescape(h) for h in re.findall(r'<a[^>]*\shref="([^"]+)"', _built_page(name))]
    colab = f"https://colab.research.google.com/github/{slug}/blob/main/notebooks/{name}.ipynb"
    assert colab in hrefs, f"no Colab button for {name}"
    binder = [h for h in hrefs if h.startswith(f"https://mybinder.org/v2/gh/{slug}/main")]
    assert binder and all(f"notebooks/{name}.ipynb" in unquote(h) for h in binder), binder
    assert (ROOT / "notebooks" / f"{name}.ipynb").exists()


def test_the_book_has_sliders():
    with_sliders = [name for name in CHAPTERS if 'class="abnn-slider' in _built_page(name)]
    assert len(with_sliders) >= min(2, len(CHAPTERS)), with_sliders


def test_every_page_of_the_book_was_built():
    pages = {p.stem for p in (HTML / "chapters").glob("*.html")}
    assert set(CHAPTERS) <= pages

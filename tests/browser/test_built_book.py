"""The built HTML book works in a real browser with the network blocked."""
from pathlib import Path

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
def test_chapter_page_is_clean_offline(page, site, name):
    _open(page, site, name)
    # MathJax is served with the book: equations are typeset with the network blocked
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0",
                           timeout=20000)
    assert page.errors == [], f"console errors: {page.errors}"
    # nothing the page needs comes from elsewhere; any attempt to fetch something would
    # show up here (the theme's optional extras, if any, would be listed too)
    assert page.blocked == [], f"requests off the local server: {page.blocked}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_sliders_work_without_a_kernel(page, site, name):
    _open(page, site, name)
    sliders = page.locator(".abnn-slider")
    count = sliders.count()
    for i in range(count):
        s = sliders.nth(i)
        s.scroll_into_view_if_needed()
        img, rng, out = s.locator("img"), s.locator("input[type=range]"), s.locator("output")
        before_src, before_text = img.get_attribute("src"), out.inner_text()
        top = int(rng.get_attribute("max"))
        current = int(rng.input_value())
        target = 0 if current != 0 else top
        rng.focus()
        key = "Home" if target == 0 else "End"
        rng.press(key)                      # a real keyboard interaction with the range input
        assert int(rng.input_value()) == target
        assert img.get_attribute("src") != before_src, f"slider {i} of {name}: frame unchanged"
        assert out.inner_text() != before_text, f"slider {i} of {name}: caption unchanged"
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), "the new frame renders"
    assert page.errors == [], f"console errors: {page.errors}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_launch_buttons_open_the_jupyter_edition_on_main(page, site, name):
    """Colab and Binder open notebooks/<chapter>.ipynb, the edition without raw MyST."""
    _open(page, site, name)
    repo = CONFIG["repository"]["url"].rstrip("/")
    slug = repo.split("github.com/")[1]
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    colab = f"https://colab.research.google.com/github/{slug}/blob/main/notebooks/{name}.ipynb"
    assert colab in hrefs, f"no Colab button for {name}"
    binder = [h for h in hrefs if h.startswith(f"https://mybinder.org/v2/gh/{slug}/main")]
    assert binder and all(f"notebooks/{name}.ipynb" in h for h in binder), binder
    assert (ROOT / "notebooks" / f"{name}.ipynb").exists()


def test_the_book_has_sliders(page, site):
    with_sliders = []
    for name in CHAPTERS:
        _open(page, site, name)
        if page.locator(".abnn-slider").count():
            with_sliders.append(name)
    assert len(with_sliders) >= min(2, len(CHAPTERS)), with_sliders


def test_every_page_of_the_book_was_built():
    pages = {p.stem for p in (HTML / "chapters").glob("*.html")}
    assert set(CHAPTERS) <= pages

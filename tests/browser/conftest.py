"""Browser tests of the built book: headless Debian Chromium driven by Playwright.

They need the built book (``make build-book``) and Debian's ``chromium``. Where either is
missing they are skipped with the reason, except under CI (``CI=true``), where a missing
prerequisite is a failure. Playwright never downloads a browser here.
"""
import functools
import http.server
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import launched_chromium, missing as _missing  # noqa: E402,F401


@pytest.fixture(scope="session")
def site():
    """The built book served on 127.0.0.1; yields its base URL."""
    if not (HTML / "index.html").exists():
        _missing(f"no built book at {HTML}; run `make build-book` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))

    class Quiet(handler.func):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    yield from launched_chromium()


@pytest.fixture
def page(browser, site):
    """A page whose every request off 127.0.0.1 is blocked and recorded, with console errors."""
    context = browser.new_context()
    page = context.new_page()
    page.blocked, page.errors = [], []

    def route(r):
        url = r.request.url
        if url.startswith(site) or url.startswith("data:"):
            r.continue_()
        else:
            page.blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()

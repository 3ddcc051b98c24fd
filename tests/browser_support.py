"""Shared by the browser tests of the built book (tests/browser/) and of the live front
ends (tests/live/): Debian's Chromium, its flags, and the CI rule for missing tools."""
import os
import shutil
from pathlib import Path

import pytest

# Chromium as root, headless, with nothing that reaches for the network by itself.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def missing(reason: str):
    """Skip with the reason, except under CI (CI=true), where a missing tool is a failure."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


def chromium_path():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def launched_chromium():
    """Yield a headless Chromium (playwright driving Debian's binary); for a fixture."""
    path = chromium_path()
    if path is None:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()

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

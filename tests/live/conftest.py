"""Real front ends for the live-slider tests: JupyterLab 4 (ipywidgets 8) and the classic
Notebook 6.5 (ipywidgets 7.7.1), each from its own venv (`make live-env`), started on
127.0.0.1 by these fixtures and stopped by PID after the tests, and driven by Debian's
Chromium through Playwright.

Each server gets a fresh folder holding copies of the notebooks a reader opens (the
Jupyter/Colab edition, ``notebooks/``), and fresh Jupyter configuration, data and runtime
folders, so nothing from the machine's own Jupyter setup leaks in. The environment the
Makefile sets for the book's build (``ABNN_STATIC_SLIDERS``, ``TQDM_DISABLE``) is removed:
the kernels run the chapters as a reader's kernel would, with live widgets.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import launched_chromium, missing as _missing  # noqa: E402

SHOTS = ROOT / "_build" / "live"
FRONT_ENDS = {
    "jupyterlab": (".venv-lab", ["jupyter", "lab"], "lab/tree/{name}"),
    "classic": (".venv-classic", ["jupyter", "notebook"], "notebooks/{name}"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kind: str, tmp: Path):
        venv, cmd, self.path_fmt = FRONT_ENDS[kind]
        self.kind, self.bin = kind, ROOT / venv / "bin"
        if not (self.bin / "jupyter").exists():
            _missing(f"{venv} is not installed (run `make live-env`)")
        self.root = tmp / "work"
        self.root.mkdir(parents=True)
        for p in sorted((ROOT / "notebooks").glob("*.ipynb")):
            shutil.copy(p, self.root / p.name)
        self.port, self.token = _free_port(), secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items()
               if k not in ("ABNN_STATIC_SLIDERS", "TQDM_DISABLE", "JUPYTER_CONFIG_DIR",
                            "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                            "JUPYTERLAB_WORKSPACES_DIR")}
        env.update(JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
                   JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
                   JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
                   JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
                   PATH=f"{self.bin}:{env.get('PATH', '')}", MPLBACKEND="module://matplotlib_inline.backend_inline",
                   PYDEVD_DISABLE_FILE_VALIDATION="1")
        self._settings(tmp / "settings")
        args = [str(self.bin / cmd[0]), *cmd[1:], "--no-browser", f"--port={self.port}",
                "--ip=127.0.0.1", f"--NotebookApp.token={self.token}",
                f"--ServerApp.token={self.token}", f"--notebook-dir={self.root}",
                f"--ServerApp.root_dir={self.root}", "--allow-root"]
        if kind == "jupyterlab":
            args = [a for a in args if not a.startswith(("--NotebookApp", "--notebook-dir"))]
        else:
            args = [a for a in args if not a.startswith(("--ServerApp",))]
        self.log = open(tmp / "server.log", "w")
        self.proc = subprocess.Popen(args, cwd=self.root, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait()

    @staticmethod
    def _settings(folder: Path):
        """JupyterLab renders every cell (no windowing), so the test can see all outputs."""
        tracker = folder / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        tracker.write_text('{"windowingMode": "none"}')
        news = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True, exist_ok=True)
        news.write_text('{"fetchNews": "false", "checkForUpdates": false}')

    def _wait(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: see {self.log.name}")
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2)
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        raise RuntimeError(f"{self.kind} server did not start in {timeout} s")

    def url(self, name: str) -> str:
        return f"{self.base}/{self.path_fmt.format(name=name)}?token={self.token}"

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium()


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (``-n 2 --dist loadgroup``) each front end runs on its own worker,
    so that one server (and one Chromium) serves all of that front end's tests."""
    for item in items:
        kind = getattr(item, "callspec", None) and item.callspec.params.get("server")
        if kind:
            item.add_marker(pytest.mark.xdist_group(name=kind))


@pytest.fixture(scope="module", params=sorted(FRONT_ENDS))
def server(request, tmp_path_factory):
    worker = getattr(request.config, "workerinput", {}).get("workerid", "gw0")
    if worker != "gw0":
        time.sleep(5.0)      # two servers and their first kernels do not start at one moment
    s = Server(request.param, tmp_path_factory.mktemp(request.param))
    yield s
    s.stop()


@pytest.fixture
def page(browser, server):
    """A 1280 x 800 page whose requests off 127.0.0.1 are blocked, with console errors kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors, page.blocked = [], []

    def route(r):
        url = r.request.url
        if url.startswith(server.base) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            page.blocked.append(url)
            r.abort()

    context.route("**/*", route)

    def console(m):
        if m.type != "error":
            return
        where = (m.location or {}).get("url", "")
        # The classic Notebook's own MathJax asks for web fonts it does not ship (a 404 on
        # /static/components/MathJax/fonts/..., then an 'about:blank' font): the front
        # end's noise, not the book's; anything else is an error.
        if ("/static/components/MathJax/" in where or where == "about:blank"
                or "Access to font at 'about:blank'" in m.text):
            return
        page.errors.append(f"{m.text} ({where})")

    page.on("console", console)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()

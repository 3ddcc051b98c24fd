"""A pytest plugin for the nbval run: every notebook nbval executes is stored in the
jupyter-cache that the book's build reads, so that ``make test`` executes each chapter once.

nbval runs each code cell in a fresh kernel and compares the outputs of the cells marked
``# NBVAL_CHECK_OUTPUT`` with the stored ones. This plugin keeps the outputs of every cell
it ran; when all the cells of a notebook passed, the notebook with those outputs is put in
the cache at ``$ABNN_NB_CACHE`` (the ``execute.cache`` folder of ``_config.yml``). The build,
with ``execute_notebooks: cache``, then finds every chapter there (jupyter-cache matches a
notebook by the hash of its code cells and their metadata) and executes none of them again.

Used as ``pytest -p nbval_cache`` with ``tests/`` on ``PYTHONPATH`` (see the Makefile); with
pytest-xdist (``-n 2 --dist loadfile``) each worker stores the notebooks it ran.
"""
from __future__ import annotations

import copy
import os
import time
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

_outputs: dict = defaultdict(dict)     # notebook path -> {code cell number: outputs}
_failed: set = set()


def pytest_sessionstart(session):
    """Under pytest-xdist the workers start their first kernels at the same moment, and two
    kernels choosing their TCP ports at once can collide ("Kernel died before replying to
    kernel_info"): the second worker starts a few seconds later."""
    worker = getattr(session.config, "workerinput", {}).get("workerid", "gw0")
    if worker != "gw0":
        time.sleep(4.0 * int(worker[2:] or 0))


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "cell_num")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _is_nbval_cell(item) or call.when != "call":
        return
    report = outcome.get_result()
    path = str(item.parent.fspath)
    if report.failed or item.test_outputs is None:
        _failed.add(path)
        return
    _outputs[path][item.cell_num] = item.test_outputs


def _silenced(source: str) -> bool:
    """Whether IPython would print no result for this cell (it ends in ``;``). nbval runs
    cells with ``store_history=False``, so IPython, which looks for the ``;`` in its
    history, shows the result anyway; the build must get the outputs Jupyter would show
    (a figure cell would otherwise have two outputs, both carrying its figure label)."""
    from IPython.core.displayhook import DisplayHook
    return DisplayHook.semicolon_at_end_of_expression(source)


def _executed(path: str, outputs: dict):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if sorted(outputs) != list(range(len(code))):
        return None
    for n, cell in enumerate(code, start=1):
        outs = []
        silenced = _silenced(cell.source)
        for out in outputs[n - 1]:
            out = copy.deepcopy(dict(out))
            if silenced and out.get("output_type") == "execute_result":
                continue
            if out.get("output_type") == "execute_result":
                out["execution_count"] = n
            outs.append(nbformat.from_dict(out))
        cell.outputs = outs
        cell.execution_count = n
    return nb


def pytest_sessionfinish(session, exitstatus):
    folder = os.environ.get("ABNN_NB_CACHE")
    if not folder:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(folder)
    stored = []
    for path, outputs in sorted(_outputs.items()):
        if path in _failed:
            continue
        nb = _executed(path, outputs)
        if nb is None:
            continue
        rel = os.path.relpath(path)
        for attempt in range(10):          # pytest-xdist workers may write at the same time
            try:
                cache.cache_notebook_bundle(CacheBundleIn(nb, uri=str(Path(path).resolve())),
                                            check_validity=False, overwrite=True)
                break
            except Exception:  # noqa: BLE001 - a locked database: wait and retry
                if attempt == 9:
                    raise
                time.sleep(0.5 + attempt)
        stored.append(rel)
    if hasattr(session.config, "workerinput") or not stored:
        return                             # an xdist worker (its output is not shown)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"nbval_cache: stored {len(stored)} executed notebooks in {folder}")

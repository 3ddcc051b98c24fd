"""Execute every chapter, time it, and optionally store the outputs or a timing table.

    python benchmarks/run_notebooks.py --inplace                 # `make notebooks`
    python benchmarks/run_notebooks.py --table benchmarks/README.md   # `make bench`

Each notebook runs top to bottom in a fresh kernel, in its own directory, exactly as the
book's build runs it. With ``--inplace`` the executed notebook is written back (outputs
are what GitHub and Colab show before anything runs). Live-widget outputs are dropped
from the stored copy, because a saved notebook has no kernel to drive them: the static
slider (``text/html``) is kept, and works anywhere.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_live_widgets(nb: nbformat.NotebookNode) -> None:
    """Remove widget views and saved widget state (they need a live kernel)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]


def execute(path: Path, timeout: int = 600) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


START, END = "<!-- notebook-times:start -->", "<!-- notebook-times:end -->"


def write_table(path: Path, rows: list[tuple[str, float]], budget: float) -> None:
    """Write the timing table between the START and END markers of ``path``, keeping the rest."""
    import torch

    machine = f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none used"
    lines = [
        START,
        f"Measured on {dt.date.today().isoformat()} by `make bench`: each chapter executed top "
        f"to bottom in a fresh kernel; wall time including kernel start-up and imports.",
        "",
        f"- Machine: {machine}; GPU: {gpu}",
        f"- Python {platform.python_version()}, torch {torch.__version__}",
        f"- Budget: {budget:.0f} s per notebook",
        "",
        "| notebook | seconds | within budget |",
        "|---|---|---|",
        *[f"| {name} | {sec:.1f} | {'yes' if sec <= budget else 'NO'} |" for name, sec in rows],
        END,
    ]
    block = "\n".join(lines)
    text = path.read_text() if path.exists() else "# Benchmarks\n\n## Notebook run times\n\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: chapters/*.ipynb)")
    parser.add_argument("--inplace", action="store_true", help="write the outputs back")
    parser.add_argument("--table", type=Path, help="write a Markdown timing table here")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds a notebook may take (default 60)")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("ABNN_STATIC_SLIDERS", "1")
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    rows = []
    for path in paths:
        nb, seconds = execute(path)
        rows.append((path.name, seconds))
        print(f"{path.name}: {seconds:.1f} s", flush=True)
        if args.inplace:
            strip_live_widgets(nb)
            nbformat.write(nb, path)
    if args.table:
        write_table(args.table, rows, args.budget)
        print(f"wrote {args.table}")
    over = [name for name, seconds in rows if seconds > args.budget]
    if over:
        print(f"over the {args.budget:.0f} s budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

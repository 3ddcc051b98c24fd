"""Time `make test` stage by stage in a fresh clone, and record the table.

    python benchmarks/test_stages.py                  # clone HEAD, install, run make test
    python benchmarks/test_stages.py --table benchmarks/README.md

The install (venvs, requirements, npm packages, the two live front ends) runs first and is
timed separately; `make test` then prints one ``[stage] name: N s`` line per stage (see the
Makefile), which this script collects. The budget for the stages together is 10 minutes
on the 2-core machine the book is built on.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run_notebooks import cpu_name  # noqa: E402

START, END = "<!-- test-stages:start -->", "<!-- test-stages:end -->"
BUDGET = 600.0


def run(cmd, cwd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, shell=True)
    return proc, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, help="write the Markdown table here")
    args = parser.parse_args()
    env = dict(os.environ, CI="true")
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "book"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone,
                                capture_output=True, text=True).stdout.strip()
        proc, install = run("make install live-env", clone, env)
        if proc.returncode:
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 1
        print(f"install: {install:.0f} s", flush=True)
        proc, total = run("make test", clone, env)
        log = proc.stdout + proc.stderr
        (ROOT / "_build").mkdir(exist_ok=True)
        (ROOT / "_build" / "test_stages.log").write_text(log)
        stages = [(m.group(1), float(m.group(2)))
                  for m in re.finditer(r"^\[stage\] (.+): (\d+) s$", log, re.M)]
        for name, sec in stages:
            print(f"{name}: {sec:.0f} s")
        print(f"make test: {total:.0f} s, exit {proc.returncode}")
        if args.table:
            write_table(args.table, commit, install, stages, total, proc.returncode)
        return proc.returncode


def write_table(path: Path, commit: str, install: float, stages, total: float, rc: int):
    machine = f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    summed = sum(s for _, s in stages)
    lines = [START,
             f"Measured on {dt.date.today().isoformat()} by `benchmarks/test_stages.py`: "
             f"`make test` in a fresh clone of commit {commit} with `CI=true`, after "
             f"`make install live-env` ({install:.0f} s, not counted).", "",
             f"- Machine: {machine}", "",
             "| stage | seconds |", "|---|---|",
             *[f"| {name} | {sec:.0f} |" for name, sec in stages],
             f"| **all stages** | **{summed:.0f}** ({summed / 60:.1f} min; budget "
             f"{BUDGET / 60:.0f} min: {'within' if summed <= BUDGET else 'OVER'}) |",
             "", f"`make test` exited with {rc} after {total:.0f} s of wall time.", END]
    text = path.read_text()
    block = "\n".join(lines)
    if START in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## make test, stage by stage\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())

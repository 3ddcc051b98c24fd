"""Time a retrieval-capacity sweep at N = 2000: vectorised code against a per-neuron loop.

    python benchmarks/hopfield_sweep.py                  # writes benchmarks/hopfield_sweep.md

The sweep is the one of chapter 4: for each load alpha = P/N, networks store P random
patterns, and asynchronous dynamics run from stored patterns to a fixed point (at most
``MAX_SWEEPS`` sweeps); the result is the final overlap with the starting pattern.

* vectorised: :func:`companion.hopfield.retrieval_overlaps`, every start of every load in
  one batch, jumping from flip to flip (:func:`companion.hopfield.run_async`);
* loop: the textbook implementation, one start at a time, one neuron at a time, a dot
  product per neuron, in a random order per sweep, until a sweep changes nothing.

The loop runs on a reduced number of starts (``LOOP_STARTS_PER_LOAD``), on networks built
the same way, and its time is scaled per start to the vectorised sweep's number of starts;
the table says so. Both report CPU time as well as wall time, because the machine may be
shared.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path

import torch

from companion import hopfield as hf
from companion import seed_everything
from run_notebooks import cpu_name          # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
N = 2000
LOADS = [0.05, 0.10, 0.125, 0.15, 0.175, 0.20]
NETWORKS_PER_LOAD, STARTS_PER_NETWORK = 2, 20        # 40 starts per load, 240 in all
LOOP_STARTS_PER_LOAD = 2                             # 12 starts for the loop
MAX_SWEEPS = 20


def loop_retrieval(W: torch.Tensor, start: torch.Tensor, generator: torch.Generator,
                   max_sweeps: int = MAX_SWEEPS) -> torch.Tensor:
    """Asynchronous retrieval from one start, one neuron at a time (the plain loop)."""
    s = start.clone()
    for _ in range(max_sweeps):
        changed = False
        for i in torch.randperm(len(s), generator=generator).tolist():
            new = 1.0 if float(W[i] @ s) >= 0 else -1.0          # s_i <- sign(h_i)
            if new != s[i]:
                s[i] = new
                changed = True
        if not changed:
            break
    return s


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "hopfield_sweep.md")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch intra-op threads (default: torch's own choice)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = seed_everything(0)
    load_before = os.getloadavg()[0]

    n_vec = len(LOADS) * NETWORKS_PER_LOAD * STARTS_PER_NETWORK
    m_vec, wall_vec, cpu_vec = timed(lambda: hf.retrieval_overlaps(
        N, LOADS, starts_per_network=STARTS_PER_NETWORK, networks_per_load=NETWORKS_PER_LOAD,
        max_sweeps=MAX_SWEEPS, generator=gen))

    loop_m, wall_loop, cpu_loop = [], 0.0, 0.0
    for alpha in LOADS:
        xi = hf.random_patterns(round(alpha * N), N, gen)
        W = hf.hebbian_weights(xi, normalize=False)
        for k in range(LOOP_STARTS_PER_LOAD):
            s, w, c = timed(lambda: loop_retrieval(W, xi[k], gen))
            loop_m.append((s @ xi[k]).item() / N)
            wall_loop, cpu_loop = wall_loop + w, cpu_loop + c
    n_loop = len(LOADS) * LOOP_STARTS_PER_LOAD
    load_after = os.getloadavg()[0]

    scale = n_vec / n_loop
    rows = [
        ("vectorised (`retrieval_overlaps`)", n_vec, wall_vec, cpu_vec, wall_vec, cpu_vec),
        ("per-neuron Python loop", n_loop, wall_loop, cpu_loop, wall_loop * scale,
         cpu_loop * scale),
    ]
    per_load_vec = ", ".join(f"{a}: {m.mean():.3f}" for a, m in zip(LOADS, m_vec))
    per_load_loop = ", ".join(
        f"{a}: {sum(loop_m[i * LOOP_STARTS_PER_LOAD:(i + 1) * LOOP_STARTS_PER_LOAD]) / LOOP_STARTS_PER_LOAD:.3f}"
        for i, a in enumerate(LOADS))
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none used"
    lines = [
        "# Hopfield capacity sweep: vectorised against a per-neuron loop",
        "",
        f"Written by `benchmarks/hopfield_sweep.py` on {dt.date.today().isoformat()}.",
        "",
        f"- Machine: {cpu_name()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.machine()}; GPU: {gpu}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s)",
        f"- Load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}"
        + (" (other jobs shared the machine, so wall times are inflated; CPU times count "
           "only this process)" if max(load_before, load_after) > 1.5 else
           " (the machine was otherwise idle)"),
        "",
        f"The sweep: N = {N} neurons; loads alpha = {LOADS}; for each load "
        f"{NETWORKS_PER_LOAD} networks storing P = alpha N random patterns, "
        f"{STARTS_PER_NETWORK} stored patterns of each as starting states "
        f"({n_vec} starts in all); asynchronous dynamics (random order) to a fixed point "
        f"or at most {MAX_SWEEPS} sweeps.",
        "",
        f"The loop ran only {n_loop} starts ({LOOP_STARTS_PER_LOAD} per load); its "
        f"full-sweep times are its measured times scaled by {n_vec}/{n_loop} = "
        f"{scale:.0f} (per start, so the mix of loads is the same).",
        "",
        "| implementation | starts run | wall (s) | CPU (s) | wall for the full sweep (s) "
        "| CPU for the full sweep (s) |",
        "|---|---|---|---|---|---|",
        *[f"| {name} | {n} | {w:.2f} | {c:.2f} | {fw:.1f} | {fc:.1f} |"
          for name, n, w, c, fw, fc in rows],
        "",
        f"**Speed-up of the vectorised sweep: {wall_loop * scale / wall_vec:.0f}x in wall "
        f"time, {cpu_loop * scale / cpu_vec:.0f}x in CPU time.**",
        "",
        f"Mean final overlap per load, vectorised: {per_load_vec}.",
        "",
        f"Mean final overlap per load, loop ({LOOP_STARTS_PER_LOAD} starts each): "
        f"{per_load_loop}.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

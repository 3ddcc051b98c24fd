"""Exact inference: companion.bayesnet against pgmpy's VariableElimination, side by side.

    python benchmarks/bayesnet_vs_pgmpy.py            # writes benchmarks/bayesnet_vs_pgmpy.md

The networks are every discrete Bayesian network that pgmpy ships with itself (the
``*.bif.gz`` files that ``pgmpy.utils.get_example_model`` reads), listed from pgmpy's
installation, with at most ``MAX_NODES`` nodes. On each, ``QUERIES`` random queries
(seeded): one query variable (every fourth query two), and 0 to 4 evidence variables
whose states are those of one ancestral sample, so that the evidence has positive
probability.

Both implementations answer the same queries in turn. Every query is cold: nothing is
kept from one query to the next but the network itself (our ``BayesianNetwork``; pgmpy's
model and its ``VariableElimination`` object, built once per network as a user would),
and pgmpy runs with its defaults (it prunes the network, then contracts with a greedy
order). A query's time is the best of ``REPEATS`` runs of it, so that other processes on
a shared machine inflate it less; the table gives, per network, the median over the
queries of each implementation's time, their ratio (ours / pgmpy), and the largest
difference between the two answers. The script exits with status 1 if a ratio is not
below 1 or an answer differs by more than ``TOLERANCE``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from companion import bayesnet as bn
from run_notebooks import cpu_name          # benchmarks/ is on sys.path when run as a script

with warnings.catch_warnings():             # pgmpy warns about deprecations on import
    warnings.simplefilter("ignore")
    import pgmpy
    import pgmpy.utils
    from pgmpy.inference import VariableElimination
    from pgmpy.utils import get_example_model

ROOT = Path(__file__).resolve().parents[1]
MAX_NODES, QUERIES, REPEATS, SEED, TOLERANCE = 100, 30, 5, 0, 1e-9


def bundled_networks() -> list[str]:
    """Names of the discrete networks whose files ship inside pgmpy."""
    folder = Path(pgmpy.utils.__file__).parent / "example_models"
    return sorted(p.name[: -len(".bif.gz")] for p in folder.glob("*.bif.gz"))


def load(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_example_model(name)


def queries(net: bn.BayesianNetwork, n: int, generator: torch.Generator):
    """``n`` (query, evidence) pairs; the evidence states come from an ancestral sample."""
    out = []
    for k in range(n):
        x = net.sample(1, generator)[0]
        perm = torch.randperm(len(net.names), generator=generator).tolist()
        query = [net.names[perm[0]]] + ([net.names[perm[1]]] if k % 4 == 3 else [])
        chosen = perm[len(query):len(query) + k % 5]
        out.append((query, {net.names[i]: net.states[net.names[i]][int(x[i])] for i in chosen}))
    return out


def best_time(fn, repeat: int = REPEATS):
    """The answer and the shortest of ``repeat`` wall times of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)


def pgmpy_answer(infer, net, query, evidence) -> np.ndarray:
    """pgmpy's posterior as an array in our axis and state order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = infer.query(query, evidence=evidence or None, show_progress=False)
    values = np.transpose(q.values, [q.variables.index(v) for v in query])
    for k, v in enumerate(query):
        values = np.take(values, [q.state_names[v].index(s) for s in net.states[v]], axis=k)
    return values


def compare(name: str) -> dict:
    model = load(name)
    net = bn.from_pgmpy(model)
    infer = VariableElimination(model)
    gen = torch.Generator().manual_seed(SEED)
    ours_t, theirs_t, diff = [], [], 0.0
    for query, evidence in queries(net, QUERIES, gen):
        theirs, t_theirs = best_time(lambda: pgmpy_answer(infer, net, query, evidence))
        ours, t_ours = best_time(lambda: bn.variable_elimination(net, query, evidence))
        diff = max(diff, float(np.abs(ours.table.numpy() - theirs).max()))
        ours_t.append(t_ours)
        theirs_t.append(t_theirs)
    med_ours, med_theirs = statistics.median(ours_t), statistics.median(theirs_t)
    return {"name": name, "nodes": len(net.names),
            "edges": sum(len(p) for p in net.parents.values()),
            "largest_table": max(t.numel() for t in net.cpt.values()),
            "pgmpy_ms": 1e3 * med_theirs, "ours_ms": 1e3 * med_ours,
            "ratio": med_ours / med_theirs, "diff": diff}


def write_table(path: Path, rows: list[dict], skipped: list[tuple[str, int]]) -> None:
    machine = f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    lines = [
        "# Exact inference: companion.bayesnet against pgmpy",
        "",
        f"Written by `benchmarks/bayesnet_vs_pgmpy.py` on {dt.date.today().isoformat()}; "
        "every number below is measured by it, in one run, the two implementations side "
        "by side.",
        "",
        f"- Machine: {machine} (shared with other jobs: times are the best of "
        f"{REPEATS} runs of each query)",
        f"- Python {platform.python_version()}, torch {torch.__version__}, numpy "
        f"{np.__version__}, pgmpy {pgmpy.__version__}",
        f"- Networks: every discrete network bundled with pgmpy with at most {MAX_NODES} "
        f"nodes; {QUERIES} random queries each (one or two query variables, 0 to 4 "
        "evidence variables set to the states of an ancestral sample), every query cold",
        "- companion: `bn.variable_elimination` (tables pruned to what the query depends on, "
        "greedy min-fill order, `numpy.einsum` per eliminated variable); pgmpy: "
        "`VariableElimination.query` with its defaults",
        "",
        "| network | nodes | edges | largest table | pgmpy median (ms) | companion median (ms) "
        "| ratio | largest difference |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['nodes']} | {r['edges']} | {r['largest_table']:,} | "
                     f"{r['pgmpy_ms']:.3f} | {r['ours_ms']:.3f} | {r['ratio']:.2f} | "
                     f"{r['diff']:.1e} |")
    lines += ["", "Ratio: the companion's median query time over pgmpy's (below 1: faster). "
              "Largest difference: the largest absolute difference between the two "
              f"posteriors over all queries (required: at most {TOLERANCE:g})."]
    if skipped:
        lines += ["", "Not timed (more than {} nodes): {}.".format(
            MAX_NODES, ", ".join(f"{n} ({k})" for n, k in skipped))]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "bayesnet_vs_pgmpy.md")
    parser.add_argument("networks", nargs="*", help="only these networks (default: all bundled)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows, skipped = [], []
    for name in args.networks or bundled_networks():
        n_nodes = len(load(name).nodes())
        if n_nodes > MAX_NODES:
            skipped.append((name, n_nodes))
            continue
        row = compare(name)
        rows.append(row)
        print(f"{name:11s} {row['nodes']:4d} nodes  pgmpy {row['pgmpy_ms']:8.3f} ms  "
              f"companion {row['ours_ms']:8.3f} ms  ratio {row['ratio']:.2f}  "
              f"difference {row['diff']:.1e}", flush=True)
    rows.sort(key=lambda r: r["nodes"])
    if not args.networks:
        write_table(args.out, rows, skipped)
        print(f"wrote {args.out}")
    bad = [r["name"] for r in rows if r["ratio"] >= 1 or r["diff"] > TOLERANCE]
    if bad:
        print(f"not faster, or not agreeing to {TOLERANCE:g}: {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

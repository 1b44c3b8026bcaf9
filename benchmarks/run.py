"""How fast is minigrad? One training step, three ways, in one run.

For each model the same step — forward, cross-entropy loss, backward, SGD update — runs in
  * minigrad  (the code below, unchanged, with ``lib = minigrad``),
  * torch     (the same code with ``lib = torch``, on the CPU with the same thread count),
  * numpy     (hand-written: the notes' VJP formulas, no graph at all),
and the script prints the median time per step and the ratios. numpy is the floor: the
minigrad/numpy ratio is the whole cost of having a graph.

    python benchmarks/run.py                 # all models, at 1 thread and at all cores
    python benchmarks/run.py --quick         # fewer repeats
    python benchmarks/run.py --threads 1     # one table only
    python benchmarks/run.py --json out.json # also write the figures (make bench: results.json)
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigrad  # noqa: E402
import torch  # noqa: E402

from benchmarks import models  # noqa: E402


def _time_steps(step, n_steps):
    t0 = time.perf_counter()
    for _ in range(n_steps):
        step()
    return (time.perf_counter() - t0) / n_steps


def measure(steps, n_steps, repeats):
    """Median seconds per step for each named step function; libraries are interleaved
    round by round so that a slow moment of the machine hits all of them alike."""
    for step in steps.values():        # warm-up
        _time_steps(step, max(2, n_steps // 5))
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            samples[name].append(_time_steps(step, n_steps))
    return {name: float(np.median(s)) for name, s in samples.items()}


def run(threads, only=None, quick=False):
    """Every benchmark at one thread count: a list of rows, printed as a table as they come."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(threads)
    torch.set_num_threads(threads)
    print(f"\nthreads: {threads}")
    print(f"{'model':34s} {'minigrad':>10s} {'torch':>10s} {'numpy':>10s} "
          f"{'mg/torch':>9s} {'mg/numpy':>9s}")
    results = []
    for bench in models.BENCHMARKS:
        if only and bench.name not in only:
            continue
        steps = bench.make_steps()
        t = measure(steps, bench.n_steps, 3 if quick else bench.repeats)
        row = {"model": bench.name, "kind": bench.kind, "description": bench.description,
               "seconds": t, "mg_over_torch": t["minigrad"] / t["torch"]}
        line = f"{bench.name:34s} {_ms(t['minigrad'])} {_ms(t['torch'])} "
        if "numpy" in t:
            row["mg_over_numpy"] = t["minigrad"] / t["numpy"]
            line += f"{_ms(t['numpy'])} {row['mg_over_torch']:9.2f} {row['mg_over_numpy']:9.2f}"
        else:
            line += f"{'-':>10s} {row['mg_over_torch']:9.2f} {'-':>9s}"
        print(line, flush=True)
        results.append(row)
    return results


def _ms(seconds):
    return f"{seconds * 1e3:8.3f}ms" if seconds >= 1e-4 else f"{seconds * 1e6:8.1f}µs"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats (a rough figure)")
    p.add_argument("--threads", type=int, nargs="+", default=sorted({1, os.cpu_count()}),
                   help="thread counts for torch and numpy's BLAS, one table each "
                        "(default: 1 and all cores)")
    p.add_argument("--only", nargs="*", help="model names to run")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)

    print(f"numpy {np.__version__}   torch {torch.__version__}   "
          f"python {platform.python_version()}   cores {os.cpu_count()}")
    runs = [{"threads": n, "results": run(n, args.only, args.quick)} for n in args.threads]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"numpy": np.__version__, "torch": torch.__version__,
                       "python": platform.python_version(), "cores": os.cpu_count(),
                       "runs": runs}, f, indent=2)
            f.write("\n")
    return runs


if __name__ == "__main__":
    main()

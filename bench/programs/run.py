"""Whole-program timing: each program under bench/programs/ run as a whole process, plainly
(``python prog.py``) and under ``python -m threadkit prog.py``, interleaved (plain, threadkit,
plain, threadkit...), and the median wall-clock time of each side.

    python bench/programs/run.py                  # every program, 7 repetitions per side
    python bench/programs/run.py --repeats 5 --only crawler
    python bench/programs/run.py --write bench/programs/results.md

ratio = plain time / threadkit time: above 1, the program is faster on threadkit. The time is
the whole process's, start-up and import included: what a user who switches sees. The
programs use only the standard library's names; under ``python -m threadkit`` their
``threading``, ``queue`` and ``concurrent.futures`` (and those of the standard library's
modules they use: ``socketserver``, ``logging``...) are threadkit's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (file, what it does)
PROGRAMS = [
    ("pipeline.py", "4-stage thread pipeline, bounded queues, 200k items"),
    ("crawler.py", "16-thread pool crawls 2,000 pages from a local ThreadingHTTPServer"),
    ("executor_map.py", "executor.map over 200k small calls, each logging a line"),
]


def run_once(argv: list[str]) -> float:
    env = dict(os.environ)
    env.pop("THREADKIT_INSTALL", None)
    start = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit("%s failed (%d):\n%s" % (" ".join(argv), r.returncode, r.stderr.decode()))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="repetitions per side (>= 5)")
    parser.add_argument("--only", default=None, help="run the programs whose file contains this")
    parser.add_argument("--write", default=None, help="also write the table to this file")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    py = sys.executable
    rows = []
    for name, what in PROGRAMS:
        if args.only and args.only not in name:
            continue
        path = os.path.join(HERE, name)
        plain, tk = [], []
        run_once([py, path])  # warm the file cache and .pyc files, not timed
        run_once([py, "-m", "threadkit", path])
        for _ in range(args.repeats):
            plain.append(run_once([py, path]))
            tk.append(run_once([py, "-m", "threadkit", path]))
        p, t = statistics.median(plain), statistics.median(tk)
        rows.append((name, what, p, t, p / t))
        print("%s: plain %.2f s, threadkit %.2f s (%.2fx)" % (name, p, t, p / t), file=sys.stderr)
    lines = [
        "Python %s, %d interleaved runs per side, median wall-clock time of the whole process."
        % (platform.python_version(), args.repeats),
        "",
        "| program | what it does | `python prog.py` | `python -m threadkit prog.py` | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for name, what, p, t, ratio in rows:
        lines.append("| `%s` | %s | %.2f s | %.2f s | %.2fx |" % (name, what, p, t, ratio))
    table = "\n".join(lines)
    print(table)
    if args.write:
        with open(args.write, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()

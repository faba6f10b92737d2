"""Side-by-side benchmark: threadkit against the standard library, in one process.

Each case runs the same Python loop over the standard library's object and over threadkit's,
interleaved (std, threadkit, std, threadkit, ...), and reports the median time per operation of
each and their ratio, stdlib time / threadkit time (so 10 means ten times faster). Absolute
times on a shared machine are noisy; the ratios are what to read.

    python bench/bench.py                 # every case, the full number of repetitions
    python bench/bench.py --quick         # fewer repetitions (make demo)
    python bench/bench.py --write bench/results.md --chart bench/results.png
    python bench/bench.py --debug         # what debug mode adds to an acquire+release
"""

from __future__ import annotations

import argparse
import concurrent.futures as std_futures
import platform
import queue as std_queue
import statistics
import sys
import threading as std_threading
import time
import types
from dataclasses import dataclass
from typing import Callable

import threadkit.futures as tk_futures
import threadkit.queue as tk_queue
import threadkit.threading as tk_threading


@dataclass
class Impl:
    """One side of the comparison: the modules a case builds its objects from."""

    name: str
    threading: object
    queue: object
    futures: object


STD = Impl("stdlib", std_threading, std_queue, std_futures)
TK = Impl("threadkit", tk_threading, tk_queue, tk_futures)


@dataclass
class Case:
    name: str
    # The ratio to reach, or None for a case reported as measured (no target).
    target: float | None
    # make(impl) -> run(n): performs n operations and returns nothing.
    make: Callable[[Impl], Callable[[int], None]]
    ops: int
    # The names the case uses from threadkit: it runs only once they are threadkit's own.
    needs: tuple[str, ...]


def _lock(impl: Impl, kind: str) -> Callable[[int], None]:
    return _acquire_release(getattr(impl.threading, kind)())


def _acquire_release(lock) -> Callable[[int], None]:
    acquire, release = lock.acquire, lock.release

    def run(n: int) -> None:
        for _ in range(n):
            acquire()
            release()

    return run


def _lock_construction(impl: Impl) -> Callable[[int], None]:
    # threadkit's constructor also records the creation site (the calling Python line).
    Lock = impl.threading.Lock

    def run(n: int) -> None:
        for _ in range(n):
            Lock()

    return run


def _lock_hand_off(impl: Impl) -> Callable[[int], None]:
    # One operation: the main thread releases `ping`, which the other thread is blocked
    # acquiring, then blocks acquiring `pong` until the other thread releases it. Every
    # acquire contends (it parks until the other thread's release): the slow path, where
    # threadkit records what each thread waits for and looks for deadlocks. A plain Lock may be
    # released by a thread that did not acquire it (the hand-off idiom), on both sides.
    def run(n: int) -> None:
        ping, pong = impl.threading.Lock(), impl.threading.Lock()
        ping.acquire()
        pong.acquire()

        def other() -> None:
            for _ in range(n):
                ping.acquire()
                pong.release()

        t = std_threading.Thread(target=other)
        t.start()
        for _ in range(n):
            ping.release()
            pong.acquire()
        t.join()

    return run


def _semaphore(impl: Impl) -> Callable[[int], None]:
    sem = impl.threading.Semaphore(1)
    acquire, release = sem.acquire, sem.release

    def run(n: int) -> None:
        for _ in range(n):
            acquire()
            release()

    return run


def _event(impl: Impl) -> Callable[[int], None]:
    ev = impl.threading.Event()
    set_, is_set, clear = ev.set, ev.is_set, ev.clear

    def run(n: int) -> None:
        for _ in range(n):
            set_()
            is_set()
            clear()

    return run


def _condition_notify(impl: Impl) -> Callable[[int], None]:
    cond = impl.threading.Condition()
    notify = cond.notify

    def run(n: int) -> None:
        with cond:
            for _ in range(n):
                notify()

    return run


def _queue_one_thread(impl: Impl, kind: str) -> Callable[[int], None]:
    q = getattr(impl.queue, kind)()
    put, get = q.put, q.get

    def run(n: int) -> None:
        for i in range(n):
            put(i)
            get()

    return run


def _priority_queue(impl: Impl) -> Callable[[int], None]:
    # A heap of 100 ints (7 levels): each put and get sifts through it with `<`.
    q = impl.queue.PriorityQueue()
    put, get = q.put, q.get
    for i in range(100):
        put((i * 7919) % 100)

    def run(n: int) -> None:
        for i in range(n):
            put((i * 7919) % 100)
            get()

    return run


def _queue_two_threads(impl: Impl, maxsize: int) -> Callable[[int], None]:
    def run(n: int) -> None:
        q = impl.queue.Queue(maxsize)

        def consume() -> None:
            get = q.get
            for _ in range(n):
                get()

        consumer = std_threading.Thread(target=consume)
        consumer.start()
        put = q.put
        for i in range(n):
            put(i)
        consumer.join()

    return run


def _thread_start_join(impl: Impl) -> Callable[[int], None]:
    Thread = impl.threading.Thread

    def noop() -> None:
        pass

    def run(n: int) -> None:
        for _ in range(n):
            t = Thread(target=noop)
            t.start()
            t.join()

    return run


def _noop() -> None:
    pass


def _pool_batch(impl: Impl) -> Callable[[int], None]:
    pool = impl.futures.ThreadPoolExecutor()

    def run(n: int) -> None:
        submit = pool.submit
        futures = [submit(_noop) for _ in range(n)]
        for f in futures:
            f.result()

    return run


def _pool_round_trip(impl: Impl) -> Callable[[int], None]:
    pool = impl.futures.ThreadPoolExecutor()

    def run(n: int) -> None:
        submit = pool.submit
        for _ in range(n):
            submit(_noop).result()

    return run


CASES = [
    Case("Lock acquire+release", 1.2, lambda i: _lock(i, "Lock"), 200_000, ("Lock",)),
    Case("RLock acquire+release", 1.2, lambda i: _lock(i, "RLock"), 200_000, ("RLock",)),
    Case("Lock() construction (site capture included)", 0.5, _lock_construction, 200_000,
         ("Lock",)),
    Case("contended Lock hand-off between 2 threads", None, _lock_hand_off, 10_000, ("Lock",)),
    Case("Semaphore acquire+release", 10, _semaphore, 50_000, ("Semaphore",)),
    Case("Event set + is_set + clear", 8, _event, 50_000, ("Event",)),
    Case("Condition.notify, no waiter", 1.5, _condition_notify, 200_000, ("Condition",)),
    Case("Queue put+get, one thread", 10, lambda i: _queue_one_thread(i, "Queue"), 50_000, ("Queue",)),
    Case("PriorityQueue put+get, 100 ints queued", 5, _priority_queue, 50_000, ("PriorityQueue",)),
    Case("SimpleQueue put+get", 1.0, lambda i: _queue_one_thread(i, "SimpleQueue"), 200_000, ("SimpleQueue",)),
    Case("Queue, 2-thread producer/consumer, maxsize 0", 8, lambda i: _queue_two_threads(i, 0), 20_000, ("Queue",)),
    Case("Queue, 2-thread producer/consumer, maxsize 100", 8, lambda i: _queue_two_threads(i, 100), 20_000, ("Queue",)),
    Case("Thread start+join", 1.0, _thread_start_join, 500, ("Thread",)),
    Case("ThreadPoolExecutor, batch submit of 20k no-op tasks then results", 5, _pool_batch,
         20_000, ("ThreadPoolExecutor",)),
    Case("ThreadPoolExecutor, submit().result() round trip", 1.5, _pool_round_trip, 2_000,
         ("ThreadPoolExecutor",)),
]


def is_ours(case: Case) -> bool:
    """Whether every name the case needs is threadkit's own, not re-exported from stdlib."""
    for name in case.needs:
        tk_obj = (getattr(tk_threading, name, None) or getattr(tk_queue, name, None)
                  or getattr(tk_futures, name, None))
        std_obj = (getattr(std_threading, name, None) or getattr(std_queue, name, None)
                   or getattr(std_futures, name, None))
        if tk_obj is None or tk_obj is std_obj:
            return False
    return True


def measure(run: Callable[[int], None], n: int) -> float:
    start = time.perf_counter()
    run(n)
    return (time.perf_counter() - start) / n


def own_code(run: Callable[[int], None]) -> Callable[[int], None]:
    """``run`` with a code object of its own. Both sides' loops come from one function, and
    CPython's specializing interpreter (3.11+) keeps its inline caches in the code object:
    shared, a call site would flip between the two sides' methods and slow both, unlike in a
    program that uses one of them."""
    return types.FunctionType(run.__code__.replace(), run.__globals__, run.__name__,
                              run.__defaults__, run.__closure__)


def bench_case(case: Case, repeats: int, scale: float) -> tuple[float, float]:
    """Median seconds per operation for (stdlib, threadkit), measured interleaved."""
    n = max(1, int(case.ops * scale))
    runs = {impl.name: own_code(case.make(impl)) for impl in (STD, TK)}
    for impl in (STD, TK):  # warm-up
        runs[impl.name](max(1, n // 10))
    times: dict[str, list[float]] = {STD.name: [], TK.name: []}
    for rep in range(repeats):
        order = (STD, TK) if rep % 2 == 0 else (TK, STD)
        for impl in order:
            times[impl.name].append(measure(runs[impl.name], n))
    return statistics.median(times[STD.name]), statistics.median(times[TK.name])


# -- Debug mode's cost -------------------------------------------------------------------------
# Debug mode (lock-order checking) is process-wide, but only locks created while it is on are
# checked: an unchecked and a checked threadkit lock are measured side by side, interleaved, in
# one process with the mode on, next to the standard library's (never checked).

DEBUG_TARGET_NS = 25.0


def _debug_pair(make_lock: Callable[[], object]) -> Callable[[int], None]:
    return _acquire_release(make_lock())


def _debug_nested(make_lock: Callable[[], object]) -> Callable[[int], None]:
    outer, inner = make_lock(), make_lock()

    def run(n: int) -> None:
        for _ in range(n):
            with outer:
                with inner:
                    pass

    return run


def debug_main(repeats: int, scale: float, readme: str | None = None) -> int:
    import threadkit.debug as tk_debug

    cases = [
        ("Lock acquire+release", _debug_pair, "Lock", 1, 200_000),
        ("RLock acquire+release", _debug_pair, "RLock", 1, 200_000),
        ("`with` two nested Locks", _debug_nested, "Lock", 2, 100_000),
    ]
    title = (f"Python {platform.python_version()}, {repeats} interleaved repetitions, median "
             "time per operation.")
    header = ("| case | stdlib | threadkit, debug off | threadkit, debug on | added per "
              "acquire+release | target | stdlib / debug on |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    print("debug mode's cost, " + title)
    print()
    print("\n".join(lines))
    for name, make, kind, pairs, ops in cases:
        n = max(1, int(ops * scale))
        tk_debug.disable()
        std_run = own_code(make(getattr(std_threading, kind)))
        off_run = own_code(make(getattr(tk_threading, kind)))
        tk_debug.enable()
        on_run = own_code(make(getattr(tk_threading, kind)))
        runs = [("std", std_run), ("off", off_run), ("on", on_run)]
        for _, run in runs:
            run(max(1, n // 10))
        times: dict[str, list[float]] = {k: [] for k, _ in runs}
        for rep in range(repeats):
            for key, run in (runs if rep % 2 == 0 else runs[::-1]):
                times[key].append(measure(run, n))
        std_t, off_t, on_t = (statistics.median(times[k]) for k in ("std", "off", "on"))
        added_ns = (on_t - off_t) / pairs * 1e9
        mark = "met" if added_ns <= DEBUG_TARGET_NS else "MISSED"
        line = (f"| {name} | {fmt_time(std_t)} | {fmt_time(off_t)} | {fmt_time(on_t)} "
                f"| {added_ns:+.1f} ns | <= +{DEBUG_TARGET_NS:g} ns, {mark} "
                f"| {std_t / on_t:.2f}x |")
        print(line, flush=True)
        lines.append(line)
    tk_debug.disable()
    if readme:
        replace_between(readme, "<!-- debug-cost -->", "<!-- /debug-cost -->",
                        "\n".join([title, ""] + lines))
    return 0


def replace_between(path: str, start: str, end: str, text: str) -> None:
    """Replaces what lies between the markers ``start`` and ``end`` of the file ``path``."""
    with open(path) as f:
        content = f.read()
    before, rest = content.split(start, 1)
    _, after = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(before + start + "\n" + text + "\n" + end + after)


def fmt_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e9:.0f} ns"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and operations")
    parser.add_argument("--repeats", type=int, default=None, help="repetitions per side (>= 7)")
    parser.add_argument("--only", default=None, help="run the cases whose name contains this")
    parser.add_argument("--write", default=None, help="write the table as Markdown to this file")
    parser.add_argument("--chart", default=None, help="draw the ratios to this PNG (matplotlib)")
    parser.add_argument("--readme", default=None,
                        help="replace the table between the bench-table markers of this file")
    parser.add_argument("--debug", action="store_true",
                        help="measure what debug mode (lock-order checking) adds instead")
    args = parser.parse_args(argv)
    repeats = args.repeats or (7 if args.quick else 11)
    scale = 0.3 if args.quick else 1.0
    if args.debug:
        return debug_main(repeats, scale, args.readme)

    rows = []
    header = "| case | stdlib | threadkit | ratio | target | |"
    print(f"threadkit vs standard library, Python {platform.python_version()}, "
          f"{repeats} interleaved repetitions, median time per operation")
    print()
    print(header)
    print("|---|---:|---:|---:|---:|---|")
    for case in CASES:
        if args.only and args.only.lower() not in case.name.lower():
            continue
        target = "none" if case.target is None else f">= {case.target:g}"
        if not is_ours(case):
            line = f"| {case.name} | | | not yet threadkit's | {target} | |"
            print(line)
            rows.append((case, None, None, line))
            continue
        std_t, tk_t = bench_case(case, repeats, scale)
        ratio = std_t / tk_t
        if case.target is None:
            mark = "measured"
        else:
            mark = "met" if ratio >= case.target else "MISSED"
        line = (f"| {case.name} | {fmt_time(std_t)} | {fmt_time(tk_t)} | {ratio:.2f}x "
                f"| {target} | {mark} |")
        print(line, flush=True)
        rows.append((case, std_t, tk_t, line))

    if args.write:
        with open(args.write, "w") as f:
            f.write("# Benchmark results\n\n")
            f.write(f"Python {platform.python_version()} on {platform.machine()}, "
                    f"{repeats} interleaved repetitions per side, median time per operation; "
                    "ratio = stdlib time / threadkit time. Produced by `make bench`.\n\n")
            f.write(header + "\n|---|---:|---:|---:|---:|---|\n")
            for *_, line in rows:
                f.write(line + "\n")
    if args.chart:
        draw_chart(rows, args.chart)
    if args.readme:
        update_readme(args.readme, header, rows, repeats)
    return 0


def update_readme(path: str, header: str, rows, repeats: int) -> None:
    table = "\n".join(
        [f"Python {platform.python_version()}, {repeats} interleaved repetitions per side, "
         "median time per operation.", "", header, "|---|---:|---:|---:|---:|---|"]
        + [line for *_, line in rows]
    )
    # One table per CPython version where the file has one (`<!-- bench-table-3.13 -->`),
    # else the one `<!-- bench-table -->`.
    with open(path) as f:
        content = f.read()
    version = "%d.%d" % sys.version_info[:2]
    name = f"bench-table-{version}" if f"<!-- bench-table-{version} -->" in content else "bench-table"
    replace_between(path, f"<!-- {name} -->", f"<!-- /{name} -->", table)


def draw_chart(rows, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [(c, s / t) for c, s, t, _ in rows if s is not None]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(measured) + 1.5))
    names = [c.name for c, _ in measured]
    ratios = [r for _, r in measured]
    colors = ["tab:blue" if c.target is None else "tab:green" if r >= c.target else "tab:red"
              for c, r in measured]
    ax.barh(names, ratios, color=colors)
    targeted = [c for c, _ in measured if c.target is not None]
    ax.scatter([c.target for c in targeted], [c.name for c in targeted], marker="|", s=300,
               color="black", label="target", zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("stdlib time / threadkit time (higher is faster)")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    sys.exit(main())

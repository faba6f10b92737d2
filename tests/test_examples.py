"""Runs every program in examples/ (the seed scenarios) and checks what it prints."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from _helpers_debug import NAMES

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


# The examples that make (potential) deadlocks on purpose run as they are; every other one runs
# in debug mode too, which must find nothing in them.
ON_PURPOSE = {"deadlock.py", "lock_order.py"}


def run_example(name, timeout=60):
    env = dict(os.environ)
    if name not in ON_PURPOSE:
        env["THREADKIT_DEBUG"] = "1"
    r = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert "Fatal Python error" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    return r.stdout.splitlines()


def test_every_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CHECKS)


def check_threads_with_arguments(lines):
    assert lines[3:] == ["ada: hello ada!", "bob: hello bob? hello bob?",
                         "cy: hello cy. hello cy. hello cy."]
    for line in lines[:3]:
        assert re.fullmatch(r"Thread-\d+ \(greet\): finished, alive=False", line), line


def check_counter(lines):
    m = re.fullmatch(r"without a lock: 4000 increments, counter = (\d+) \((\d+) lost\)",
                     lines[0])
    assert m, lines
    assert int(m.group(1)) < 4000 and int(m.group(2)) > 0  # lost updates shown
    assert lines[1] == "with a lock:    4000 increments, counter = 4000 (0 lost)"


def check_worker_pool(lines):
    assert re.fullmatch(r"20 tasks done, each exactly once, shared among [1-4] workers: .*",
                        lines[0]), lines
    assert lines[1] == "squares: %s" % [n * n for n in range(1, 21)]
    assert lines[2] == "sum of squares: 2870"


def check_downloads(lines):
    assert lines[0] == "5 requests, each delayed 1 s by the server"
    assert lines[1] == "got: %s" % ["page /%d" % i for i in range(5)]
    m = re.fullmatch(r"with 5 threads: ([\d.]+) s \(one after the other: about 5 s\)", lines[2])
    assert m and float(m.group(1)) < 2.5, lines
    assert lines[3] == "faster with threads: True"


def check_daemon(lines):
    assert lines == [
        "main: started a non-daemon thread and a daemon thread (daemon=True)",
        "main: done; the process exits when the non-daemon thread ends, daemon or not",
        "non-daemon: the main program ended, and the interpreter waited for me",
    ]


def check_semaphore(lines):
    assert lines == ["10 workers served, at most 3 at a time (limit 3)"]


def check_event(lines):
    assert lines == ["all waiting; before set(): is_set=False, 0 workers ran",
                     "after set(): is_set=True"] + ["worker %d got the signal" % i
                                                    for i in range(3)]


def check_producer_consumer(lines):
    assert lines == ["consumed in order: %s" % list(range(10)),
                     "buffer never held more than 3 items (capacity 3)"]


def check_queue_pipeline(lines):
    assert lines == ["all items through both stages: [1, 4, 9, 16, 25]",
                     "unfinished tasks: raw=0, parsed=0"]


def check_barrier(lines):
    assert lines == ["round %d: all 4 threads done" % r for r in range(3)]


def check_deadlock(lines):
    # The thread whose wait closes the cycle gets DeadlockError: 'restock' (write_log is
    # blocked on the inventory lock by the time restock's work is done), or on a machine too
    # loaded for that, 'write_log'. Either recovers and the program ends.
    closer = lines[0].split(":")[0]
    assert lines[0] == f"{closer}: DeadlockError instead of waiting forever:", lines
    assert lines[1] == "Deadlock found: 2 threads wait for each other.", lines
    text = "\n".join(lines)
    for name in ("restock", "write_log"):
        assert re.search(r"^Thread '%s' \(ident \d+\), waiting for \d+\.\d{3} s$" % name, text,
                         re.M), text
        assert f"    Stack of '{name}' (most recent call last):" in text
    assert re.search(r"^    waits for Lock 'log' created at .*deadlock\.py:\d+$", text, re.M)
    assert re.search(r"^    waits for Lock 'inventory' created at .*deadlock\.py:\d+$", text,
                     re.M)
    cycle = {"restock": "'restock' -> Lock 'log' -> 'write_log' -> Lock 'inventory' -> 'restock'",
             "write_log": "'write_log' -> Lock 'inventory' -> 'restock' -> Lock 'log' -> "
                          "'write_log'"}[closer]
    assert f"Cycle: {cycle}" in lines, lines
    assert f"{closer}: gives up this step; leaving its 'with' block releases its lock" in lines
    if closer == "restock":
        assert lines[-2:] == ["log: [\"inventory: {'apples': 13}\"]",
                              "inventory after restock: {'apples': 13}"], lines
    else:
        assert lines[-2:] == ["log: ['restocked']",
                              "inventory after restock: {'apples': 13}"], lines


def check_two_locks(lines):
    assert lines == ["log written while the inventory lock was held: True",
                     "inventory after restock: {'apples': 13}"]


UNCHANGED_PROGRAM_TYPES = {
    # what the unchanged program's objects are: plainly, and under `python -m threadkit`
    "stdlib": ["threading.Lock()         _thread.lock",
               "queue.Queue              queue.Queue",
               "ThreadPoolExecutor       concurrent.futures.thread.ThreadPoolExecutor",
               "logging's handler lock   _thread.RLock"],
    "threadkit": ["threading.Lock()         threadkit.Lock",
                  "queue.Queue              threadkit.queue.Queue",
                  "ThreadPoolExecutor       threadkit.futures.ThreadPoolExecutor",
                  "logging's handler lock   threadkit.RLock"],
}


def check_unchanged_program(lines):
    # Plainly it runs on the standard library (on threadkit if this suite itself runs under
    # `python -m threadkit`, whose THREADKIT_INSTALL=1 it inherits); test_main.py runs it both
    # ways.
    assert lines[0] == "MainThread: 5 lines, 60 words, reader done: True"
    assert lines[1:] in UNCHANGED_PROGRAM_TYPES.values(), lines


def check_lock_order(lines):
    text = "\n".join(lines)
    assert lines[0] == ("Potential deadlock (lock order inversion): 2 locks taken in a cycle "
                        "of orders."), text
    assert "'write_log' took Lock 'inventory' while holding Lock 'log'" in text
    assert "'restock' took Lock 'log' while holding Lock 'inventory'" in text
    assert len(re.findall(r'File ".*lock_order\.py", line \d+, in (restock|write_log)$', text,
                          re.M)) == 4, text
    assert "    'restock'    acquire Lock 'inventory', then Lock 'log'" in lines
    assert "    'write_log'  acquire Lock 'log', then Lock 'inventory'" in lines
    assert lines[-1] == "finished without hanging, and the inversion is reported above"


CHECKS = {
    "lock_order.py": check_lock_order,
    "threads_with_arguments.py": check_threads_with_arguments,
    "counter.py": check_counter,
    "worker_pool.py": check_worker_pool,
    "downloads.py": check_downloads,
    "daemon.py": check_daemon,
    "semaphore.py": check_semaphore,
    "event.py": check_event,
    "producer_consumer.py": check_producer_consumer,
    "queue_pipeline.py": check_queue_pipeline,
    "barrier.py": check_barrier,
    "two_locks.py": check_two_locks,
    "deadlock.py": check_deadlock,
    "unchanged_program.py": check_unchanged_program,
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(
        not NAMES, strict=True, reason="needs name= on primitives (branch dl-names)"))
    if name == "deadlock.py" else name
    for name in sorted(CHECKS)
])
def test_example(name):
    CHECKS[name](run_example(name))

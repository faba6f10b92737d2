"""Contention by primitive: threadkit.contention(), contention_report(), reset_contention()
(issue 9, point 7). Each case runs in a fresh interpreter, whose counters are the program's."""

import json
import re
from textwrap import dedent

import pytest

import threadkit
import threadkit.debug

from _helpers_debug import NAMES, NEEDS_NAMES, run_program

needs_names = pytest.mark.xfail(not NAMES, strict=True, reason=NEEDS_NAMES)

# `contend(lock, n, seconds)`: another thread tries `n` timed acquires of a lock this thread
# holds; each is one contended wait of about `seconds`.
CONTEND = """
def contend(lock, n, seconds):
    def try_it():
        for _ in range(n):
            assert not lock.acquire(timeout=seconds)
    with lock:
        t = threading.Thread(target=try_it)
        t.start()
        t.join()

def rows():
    return [r._asdict() for r in threadkit.contention(top=None)]
"""


def run(code):
    r = run_program(CONTEND + dedent(code), "report")
    assert r.returncode == 0 and r.stderr == "", (r.stdout, r.stderr)
    return r.stdout


def test_a_contended_lock_is_counted():
    out = run("""
        lock = threading.Lock()
        print(json.dumps(rows()))
        contend(lock, 3, 0.02)
        print(json.dumps(rows()))
    """)
    before, after = [json.loads(line) for line in out.splitlines()]
    assert before == []
    [row] = [r for r in after if r["kind"] == "Lock"]
    assert row["contended"] == 3 and row["waiters"] == 0
    assert row["total_wait"] >= 0.06 and row["max_wait"] >= 0.02
    assert row["total_wait"] >= row["max_wait"]
    assert row["name"] is None and re.fullmatch(r"\S+:\d+", row["site"])


def test_the_uncontended_path_counts_nothing():
    out = run("""
        lock, rlock, ev, q = threading.Lock(), threading.RLock(), threading.Event(), queue.Queue()
        ev.set()
        for i in range(1000):
            with lock, rlock:
                q.put(i)
                q.get()
                ev.wait()
        print(json.dumps(rows()))
    """)
    assert json.loads(out) == []


def test_current_waiters_and_reset():
    out = run("""
        lock = threading.Lock()
        lock.acquire()
        t = threading.Thread(target=lambda: (lock.acquire(), lock.release()))
        t.start()
        wait_until(lambda: any(r.waiters == 1 for r in threadkit.contention()), "one waiter")
        print(json.dumps(rows()))
        lock.release()
        t.join()
        print(json.dumps(rows()))
        threadkit.reset_contention()
        print(json.dumps(rows()))
    """)
    waiting, done, reset = [json.loads(line) for line in out.splitlines()]
    [w] = [r for r in waiting if r["kind"] == "Lock"]
    assert (w["waiters"], w["contended"]) == (1, 0)  # counted when its wait ends
    [d] = [r for r in done if r["kind"] == "Lock"]
    assert (d["waiters"], d["contended"]) == (0, 1)
    assert [r for r in reset if r["kind"] == "Lock"] == []


def test_other_primitives_are_counted_by_kind():
    out = run("""
        q = queue.Queue(maxsize=1)
        ev = threading.Event()
        sem = threading.Semaphore(0)
        try:
            q.get(timeout=0.01)
        except queue.Empty:
            pass
        ev.wait(0.01)
        sem.acquire(timeout=0.01)
        print(json.dumps(sorted(r["kind"] for r in rows())))
    """)
    kinds = json.loads(out)
    assert {"Queue", "Event", "Semaphore"} <= set(kinds), kinds


@needs_names
def test_rows_are_sorted_by_total_wait_and_named():
    out = run("""
        hot = threading.Lock(name="hot")
        warm = threading.RLock(name="warm")
        contend(hot, 4, 0.03)
        contend(warm, 1, 0.01)
        print(json.dumps(rows()))
        print(json.dumps([r._asdict() for r in threadkit.contention(top=1)]))
        report = io.StringIO()
        threadkit.contention_report(file=report)
        print(json.dumps(report.getvalue()))
    """)
    every, top, report = [json.loads(line) for line in out.splitlines()]
    names = [(r["kind"], r["name"]) for r in every]
    assert names[:2] == [("Lock", "hot"), ("RLock", "warm")], every
    assert top == every[:1]
    lines = report.splitlines()
    assert lines[0] == "threadkit contention (longest total wait first):"
    assert re.fullmatch(r"primitive\s+waits\s+total s\s+max s\s+waiting", lines[1]), lines
    assert re.fullmatch(r"Lock 'hot'\s+4\s+0\.\d{6}\s+0\.\d{6}\s+0", lines[2]), lines
    assert re.fullmatch(r"RLock 'warm'\s+1\s+0\.\d{6}\s+0\.\d{6}\s+0", lines[3]), lines


def test_contention_report_without_contention():
    out = run("""
        report = io.StringIO()
        threadkit.contention_report(file=report)
        print(report.getvalue(), end="")
    """)
    assert out == "threadkit contention: no contended waits\n"


def test_contention_report_writes_a_table_to_stderr_by_default():
    r = run_program(CONTEND + dedent("""
        lock = threading.Lock()
        contend(lock, 1, 0.01)
        threadkit.contention_report()
    """), "report")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == "threadkit contention (longest total wait first):", r.stderr
    assert re.fullmatch(r"Lock created at \S+:\d+\s+1\s+0\.\d{6}\s+0\.\d{6}\s+0", lines[2]), lines


def test_contention_rows_in_process():
    rows = threadkit.contention(top=None)
    assert all(isinstance(r, threadkit.debug.ContentionRow) for r in rows)
    totals = [r.total_wait for r in rows]
    assert totals == sorted(totals, reverse=True)
    assert len(threadkit.contention(top=2)) <= 2
    assert threadkit.contention(top=0) == []
    json.dumps(rows)
    row = threadkit.debug.ContentionRow("Lock", None, "app.py:3", 1, 0.5, 0.5, 0)
    assert row.label == "Lock created at app.py:3"
    assert row._replace(name="inventory").label == "Lock 'inventory'"

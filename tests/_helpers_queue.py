"""Helpers shared by the queue tests (test_queue*.py, test_simple_queue.py)."""

import queue as std_queue
import threading

import pytest

import threadkit.queue as tk_queue

KINDS = ["Queue", "LifoQueue", "PriorityQueue"]

# Generous bound for joins of helper threads: a hang fails the test instead of the run.
JOIN_TIMEOUT = 30


def is_threadkit(mod):
    return mod is tk_queue


def reexported(name):
    """True while threadkit.queue.<name> is still the standard library's object."""
    return getattr(tk_queue, name, None) is getattr(std_queue, name)


def require_shutdown(mod):
    """Skips a shutdown test where it cannot run.

    Queue.shutdown and queue.ShutDown exist in the standard library from 3.13. threadkit offers
    them on every version, so its side always runs -- except while threadkit.queue.Queue is still
    the standard library's class re-exported on an interpreter that lacks shutdown (then there is
    nothing of ours to test yet).
    """
    if mod is std_queue:
        if not hasattr(std_queue, "ShutDown"):
            pytest.skip("the standard library has Queue.shutdown from 3.13")
    elif reexported("Queue") and not hasattr(std_queue, "ShutDown"):
        pytest.skip(
            "threadkit.queue.Queue is still the stdlib's class re-exported, without shutdown "
            "before 3.13; runs once threadkit's own Queue lands"
        )


class Runner:
    """Runs ``fn`` in a thread and keeps what it returned or raised."""

    def __init__(self, fn, *args, **kwargs):
        self.result = None
        self.error = None
        self.done = threading.Event()

        def body():
            try:
                self.result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - reported to the test
                self.error = e
            finally:
                self.done.set()

        self.thread = threading.Thread(target=body, daemon=True)
        self.thread.start()

    def join(self, timeout=JOIN_TIMEOUT):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "helper thread still blocked after %s s" % timeout
        return self

    def value(self):
        """Joins, re-raises what the thread raised, or returns what it returned."""
        self.join()
        if self.error is not None:
            raise self.error
        return self.result


def join_all(threads, timeout=JOIN_TIMEOUT):
    for t in threads:
        t.join(timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, "threads still running: %s" % stuck


def none_done(runners, timeout=0.05):
    """True if none of ``runners`` finished: a short timed wait on the first, then a look."""
    return not runners[0].done.wait(timeout) and not any(r.done.is_set() for r in runners)


def assert_blocked_get_releases_the_gil(q):
    """While this thread waits in ``q.get()``, other Python threads run: a spinning thread
    makes progress during a get that times out, and another thread's put ends a get."""
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        before = ticks[0]
        with pytest.raises(std_queue.Empty):
            q.get(timeout=0.2)
        assert ticks[0] > before
    finally:
        stop.set()
        spinner.join(JOIN_TIMEOUT)

    go = threading.Event()
    t = Runner(lambda: (go.wait(JOIN_TIMEOUT), q.put("from another thread")))
    go.set()
    assert q.get(timeout=JOIN_TIMEOUT) == "from another thread"
    t.value()

"""Semaphore and BoundedSemaphore: behaviour pinned against the standard library (every test
with ``threading_mod`` runs on both); validation and error messages compared exactly."""

import re
import threading
import weakref

import pytest

from _helpers_threading import join_all, python_work, site_here, start_thread, timed
from conftest import outcome

KINDS = ["Semaphore", "BoundedSemaphore"]

INITIAL_VALUE_ERROR = (ValueError, "semaphore initial value must be >= 0")
NON_BLOCKING_TIMEOUT_ERROR = (ValueError, "can't specify timeout for non-blocking acquire")
RELEASE_N_ERROR = (ValueError, "n must be one or more")
OVER_RELEASE_ERROR = (ValueError, "Semaphore released too many times")


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def permits(s, limit=1000):
    """How many permits ``s`` has now (takes them without blocking, then gives them back)."""
    n = 0
    while n < limit and s.acquire(False):
        n += 1
    if n:
        s.release(n)
    return n


# ---------------------------------------------------------------------------------------------
# Construction


def test_constructor(threading_mod, kind):
    cls = getattr(threading_mod, kind)
    assert permits(cls()) == 1
    assert permits(cls(0)) == 0
    assert permits(cls(5)) == 5
    assert permits(cls(value=3)) == 3
    assert outcome(lambda: cls(-1)) == INITIAL_VALUE_ERROR
    assert outcome(lambda: cls(value=-100)) == INITIAL_VALUE_ERROR
    # Not a number: the stdlib's message comes from a comparison in Python code; only the
    # exception type is pinned.
    assert outcome(lambda: cls("3"))[0] is TypeError


def test_bounded_is_a_semaphore(threading_mod):
    assert isinstance(threading_mod.BoundedSemaphore(), threading_mod.Semaphore)
    assert issubclass(threading_mod.BoundedSemaphore, threading_mod.Semaphore)


def test_subclassable(threading_mod, kind):
    cls = getattr(threading_mod, kind)

    class Counting(cls):
        def __init__(self, value=1):
            super().__init__(value)
            self.acquired = 0

        def acquire(self, blocking=True, timeout=None):
            got = super().acquire(blocking, timeout)
            self.acquired += bool(got)
            return got

    s = Counting(2)
    with s:  # __enter__ is the class's own acquire (CPython: ``__enter__ = acquire``)
        assert s.acquired == 0
        assert s.acquire(False) is True
        assert s.acquire(False) is False
        s.release()
    assert s.acquired == 1
    assert permits(s) == 2


# ---------------------------------------------------------------------------------------------
# Calls and their results, compared with the stdlib


def _fresh(mod, kind, value):
    return getattr(mod, kind)(value)


# name -> (initial value, call)
CALLS = {
    "acquire() on 1": (1, lambda s: s.acquire()),
    "acquire(False) on 0": (0, lambda s: s.acquire(False)),
    "acquire(False) on 1": (1, lambda s: s.acquire(False)),
    "acquire(0) on 0": (0, lambda s: s.acquire(0)),
    "acquire(None) on 0": (0, lambda s: s.acquire(None)),
    "acquire(None) on 1": (1, lambda s: s.acquire(None)),
    "acquire(blocking=False, timeout=None) on 0": (0, lambda s: s.acquire(blocking=False, timeout=None)),
    "acquire(blocking=False, timeout=1) on 1": (1, lambda s: s.acquire(blocking=False, timeout=1)),
    "acquire(False, 0) on 1": (1, lambda s: s.acquire(False, 0)),
    "acquire(False, -1) on 0": (0, lambda s: s.acquire(False, -1)),
    "acquire(0, 5) on 0": (0, lambda s: s.acquire(0, 5)),
    "acquire(timeout=0) on 0": (0, lambda s: s.acquire(timeout=0)),
    "acquire(timeout=0) on 1": (1, lambda s: s.acquire(timeout=0)),
    "acquire(timeout=-1) on 0": (0, lambda s: s.acquire(timeout=-1)),
    "acquire(timeout=-1) on 1": (1, lambda s: s.acquire(timeout=-1)),
    "acquire(timeout=-0.5) on 0": (0, lambda s: s.acquire(timeout=-0.5)),
    "acquire(True, -1e300) on 0": (0, lambda s: s.acquire(True, -1e300)),
    "acquire(timeout=1e100) on 0": (0, lambda s: s.acquire(timeout=1e100)),
    "acquire(timeout=1e100) on 1": (1, lambda s: s.acquire(timeout=1e100)),
    "acquire(timeout=TIMEOUT_MAX*2) on 0": (0, lambda s: s.acquire(timeout=threading.TIMEOUT_MAX * 2)),
    "acquire(timeout=TIMEOUT_MAX+1) on 0": (0, lambda s: s.acquire(timeout=threading.TIMEOUT_MAX + 1)),
    "acquire(timeout=TIMEOUT_MAX) on 1": (1, lambda s: s.acquire(timeout=threading.TIMEOUT_MAX)),
    "release() on 0": (0, lambda s: s.release()),
    "release(1) on 0": (0, lambda s: s.release(1)),
    "release(3) on 0": (0, lambda s: s.release(3)),
    "release(n=2) on 0": (0, lambda s: s.release(n=2)),
    "release(0) on 0": (0, lambda s: s.release(0)),
    "release(-1) on 0": (0, lambda s: s.release(-1)),
    "release() on 1": (1, lambda s: s.release()),
    "release(2) on 1": (1, lambda s: s.release(2)),
    "__enter__ on 1": (1, lambda s: s.__enter__()),
    "__exit__ on 0": (0, lambda s: s.__exit__(None, None, None)),
    "__exit__ on 1": (1, lambda s: s.__exit__(None, None, None)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_and_errors_match_stdlib(threading_mod, kind, name):
    value, call = CALLS[name]

    def run(mod):
        s = _fresh(mod, kind, value)
        result = outcome(lambda: call(s))
        return result, permits(s)  # the permits after the call too

    assert run(threading_mod) == run(threading)


def test_error_messages(threading_mod, kind):
    s = getattr(threading_mod, kind)(1)
    assert outcome(lambda: s.acquire(blocking=False, timeout=1)) == NON_BLOCKING_TIMEOUT_ERROR
    assert outcome(lambda: s.acquire(False, 0)) == NON_BLOCKING_TIMEOUT_ERROR
    assert outcome(lambda: s.release(0)) == RELEASE_N_ERROR
    assert outcome(lambda: s.release(-3)) == RELEASE_N_ERROR
    assert permits(s) == 1
    if kind == "BoundedSemaphore":
        assert outcome(s.release) == OVER_RELEASE_ERROR
    else:
        assert outcome(s.release) == ("returned", None)


def test_timeout_values(threading_mod, kind):
    s = getattr(threading_mod, kind)(1)
    s.acquire()
    for timeout in (-1, -0.5, 0, -1e300):
        got, elapsed = timed(lambda: s.acquire(timeout=timeout))
        assert got is False and elapsed < 5
    assert outcome(lambda: s.acquire(timeout=1e100)) == (
        OverflowError,
        "timestamp out of range for platform time_t",
    )
    # Consistent after the failed calls: a permit given is taken by the next acquire.
    s.release()
    assert s.acquire(timeout=1e100) is True
    assert permits(s) == 0
    # Not a number: only the exception type is pinned (stdlib's message comes from Python code).
    assert outcome(lambda: s.acquire(timeout="1"))[0] is TypeError


# ---------------------------------------------------------------------------------------------
# Counting


def test_counts_down_and_up(threading_mod, kind):
    s = getattr(threading_mod, kind)(3)
    assert [s.acquire(False) for _ in range(4)] == [True, True, True, False]
    assert s.release() is None
    assert permits(s) == 1
    assert s.release(2) is None
    assert permits(s) == 3


def test_unbounded_semaphore_can_be_released_past_its_initial_value(threading_mod):
    s = threading_mod.Semaphore(1)
    s.release(5)
    s.release()
    assert permits(s) == 7


def test_bounded_over_release_changes_nothing(threading_mod):
    s = threading_mod.BoundedSemaphore(3)
    assert outcome(s.release) == OVER_RELEASE_ERROR
    s.acquire()
    s.acquire()
    assert outcome(lambda: s.release(3)) == OVER_RELEASE_ERROR
    assert permits(s) == 1
    assert s.release(2) is None
    assert permits(s) == 3
    assert outcome(s.release) == OVER_RELEASE_ERROR
    with s:
        pass
    assert outcome(lambda: s.__exit__(None, None, None)) == OVER_RELEASE_ERROR
    assert permits(s) == 3


def test_bounded_zero(threading_mod):
    s = threading_mod.BoundedSemaphore(0)
    assert s.acquire(False) is False
    assert outcome(s.release) == OVER_RELEASE_ERROR
    assert permits(s) == 0


def test_release_by_another_thread(threading_mod, kind):
    s = getattr(threading_mod, kind)(1)
    s.acquire()
    join_all([start_thread(s.release)])
    assert permits(s) == 1


def test_timed_acquire_times_out(threading_mod, kind):
    s = getattr(threading_mod, kind)(1)
    s.acquire()
    got, elapsed = timed(lambda: s.acquire(timeout=0.1))
    assert got is False
    assert 0.08 <= elapsed < 5
    got, elapsed = timed(lambda: s.acquire(True, 0.05))
    assert got is False and 0.04 <= elapsed < 5
    s.release()
    assert permits(s) == 1


def test_context_manager(threading_mod, kind):
    s = getattr(threading_mod, kind)(2)
    with s as got:
        assert got is True
        assert permits(s) == 1
        with s:
            assert permits(s) == 0
    assert permits(s) == 2
    with pytest.raises(ZeroDivisionError):
        with s:
            1 / 0
    assert permits(s) == 2


def test_repr(threading_mod):
    # threadkit's shows the name or creation site after the address (issue 9).
    s, site = threading_mod.Semaphore(2), site_here(threading_mod)
    at = r"<\w+\.Semaphore at 0x[0-9a-f]+%s: " % re.escape(site and " " + site)
    assert re.fullmatch(at + "value=2>", repr(s)), repr(s)
    s.acquire()
    assert re.fullmatch(at + "value=1>", repr(s)), repr(s)
    b, site = threading_mod.BoundedSemaphore(3), site_here(threading_mod)
    b.acquire()
    at = r"<\w+\.BoundedSemaphore at 0x[0-9a-f]+%s: " % re.escape(site and " " + site)
    assert re.fullmatch(at + "value=2/3>", repr(b)), repr(b)
    assert hex(id(s)) in repr(s)


def test_weakref(threading_mod, kind):
    s = getattr(threading_mod, kind)()
    ref = weakref.ref(s)
    assert ref() is s
    del s
    assert ref() is None


# ---------------------------------------------------------------------------------------------
# Waiters


def test_release_n_wakes_n_waiters(threading_mod, kind):
    s = getattr(threading_mod, kind)(0) if kind == "Semaphore" else threading_mod.BoundedSemaphore(5)
    if kind == "BoundedSemaphore":
        for _ in range(5):
            s.acquire()
    got = threading.Semaphore(0)
    results = []

    def waiter():
        results.append(s.acquire(timeout=30))
        got.release()

    threads = [start_thread(waiter) for _ in range(5)]
    s.release(3)
    for _ in range(3):
        assert got.acquire(timeout=30)
    assert got.acquire(timeout=0.1) is False  # exactly three got a permit
    s.release(2)
    join_all(threads)
    assert results == [True] * 5
    assert permits(s) == 0


def test_blocked_acquire_releases_the_gil(threading_mod, kind):
    s = getattr(threading_mod, kind)(1)
    s.acquire()
    progress = []

    def other():
        for _ in range(20):
            progress.append(python_work(5_000))
        s.release()

    t = start_thread(other)
    assert s.acquire(timeout=30) is True
    assert len(progress) == 20
    join_all([t])
    assert permits(s) == 0


def test_permits_are_never_exceeded_stress(threading_mod, kind):
    n_permits, n_threads, n_iter = 3, 10, 500
    s = getattr(threading_mod, kind)(n_permits)
    guard = threading.Lock()
    state = {"inside": 0, "max_inside": 0, "count": 0}
    start = threading.Barrier(n_threads)

    def work():
        start.wait()
        for _ in range(n_iter):
            with s:
                with guard:
                    state["inside"] += 1
                    state["max_inside"] = max(state["max_inside"], state["inside"])
                    state["count"] += 1
                with guard:
                    state["inside"] -= 1

    join_all([start_thread(work) for _ in range(n_threads)])
    assert state["count"] == n_threads * n_iter
    assert 1 <= state["max_inside"] <= n_permits
    assert state["inside"] == 0
    assert permits(s) == n_permits


def test_batched_releases_and_timed_acquires_balance_stress(threading_mod):
    # Producers release permits in batches (release(n)); consumers take them one at a time with
    # short timeouts. Every permit released is taken exactly once: none lost, none invented.
    s = threading_mod.Semaphore(0)
    n_producers, n_consumers, batches = 3, 8, 300
    released = [0] * n_producers
    taken = [0] * n_consumers
    producers_done = threading.Event()

    def producer(p):
        for i in range(batches):
            n = 1 + (i + p) % 4
            s.release(n)
            released[p] += n

    def consumer(c):
        while True:
            if s.acquire(timeout=0.01):
                taken[c] += 1
            elif producers_done.is_set():
                if not s.acquire(False):
                    return
                taken[c] += 1

    consumers = [start_thread(consumer, c) for c in range(n_consumers)]
    producers = [start_thread(producer, p) for p in range(n_producers)]
    join_all(producers)
    producers_done.set()
    join_all(consumers)
    assert sum(taken) == sum(released)
    assert permits(s) == 0

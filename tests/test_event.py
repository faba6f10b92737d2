"""Event: behaviour pinned against the standard library (every test with ``threading_mod`` runs
on both)."""

import os
import re
import threading
import warnings
import weakref

import pytest

from _helpers_threading import (
    join_all,
    python_work,
    site_here,
    start_thread,
    timed,
    wait_child,
    wait_until_blocked_in,
)
from conftest import outcome, requires_fork

# name -> (set first?, call)
CALLS = {
    "is_set": (False, lambda e: e.is_set()),
    "set": (False, lambda e: e.set()),
    "clear": (True, lambda e: e.clear()),
    "wait(0) unset": (False, lambda e: e.wait(0)),
    "wait(0) set": (True, lambda e: e.wait(0)),
    "wait() set": (True, lambda e: e.wait()),
    "wait(None) set": (True, lambda e: e.wait(None)),
    "wait(timeout=None) set": (True, lambda e: e.wait(timeout=None)),
    "wait(-1) unset": (False, lambda e: e.wait(-1)),
    "wait(-1) set": (True, lambda e: e.wait(-1)),
    "wait(-0.5) unset": (False, lambda e: e.wait(-0.5)),
    "wait(-1e300) unset": (False, lambda e: e.wait(-1e300)),
    "wait(nan) unset": (False, lambda e: e.wait(float("nan"))),
    "wait(1e100) unset": (False, lambda e: e.wait(1e100)),
    "wait(1e100) set": (True, lambda e: e.wait(1e100)),
    "wait(TIMEOUT_MAX*2) unset": (False, lambda e: e.wait(threading.TIMEOUT_MAX * 2)),
    "wait(TIMEOUT_MAX+1) unset": (False, lambda e: e.wait(threading.TIMEOUT_MAX + 1)),
    "wait(TIMEOUT_MAX) set": (True, lambda e: e.wait(threading.TIMEOUT_MAX)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_and_errors_match_stdlib(threading_mod, name):
    set_first, call = CALLS[name]

    def run(mod):
        e = mod.Event()
        if set_first:
            e.set()
        return outcome(lambda: call(e)), e.is_set()

    assert run(threading_mod) == run(threading)


def test_set_clear_is_set(threading_mod):
    e = threading_mod.Event()
    assert e.is_set() is False
    assert e.set() is None
    assert e.is_set() is True
    assert e.set() is None  # idempotent
    assert e.is_set() is True
    assert e.clear() is None
    assert e.is_set() is False
    assert e.clear() is None
    assert e.is_set() is False


def test_wait_on_a_set_event_returns_true_at_once(threading_mod):
    e = threading_mod.Event()
    e.set()
    for call in (e.wait, lambda: e.wait(0), lambda: e.wait(-1), lambda: e.wait(30)):
        got, elapsed = timed(call)
        assert got is True and elapsed < 5


def test_wait_times_out_with_false(threading_mod):
    e = threading_mod.Event()
    got, elapsed = timed(lambda: e.wait(0.1))
    assert got is False
    assert 0.08 <= elapsed < 5
    got, elapsed = timed(lambda: e.wait(timeout=0.05))
    assert got is False and 0.04 <= elapsed < 5
    for timeout in (0, -1, -0.5):
        got, elapsed = timed(lambda: e.wait(timeout))
        assert got is False and elapsed < 5
    assert outcome(lambda: e.wait(1e100)) == (
        OverflowError,
        "timestamp out of range for platform time_t",
    )
    # Not a number: only the type is pinned (the stdlib's message comes from Python code).
    assert outcome(lambda: e.wait("1"))[0] is TypeError
    # Still usable after the failed calls.
    e.set()
    assert e.wait(30) is True


def test_wait_after_clear_blocks_again(threading_mod):
    e = threading_mod.Event()
    e.set()
    e.clear()
    got, elapsed = timed(lambda: e.wait(0.05))
    assert got is False and 0.04 <= elapsed < 5


def test_set_wakes_every_waiter(threading_mod):
    e = threading_mod.Event()
    results = []
    threads = [start_thread(lambda: results.append(e.wait())) for _ in range(8)]
    threads += [start_thread(lambda: results.append(e.wait(30))) for _ in range(8)]
    e.set()
    join_all(threads)
    assert results == [True] * 16


def test_wait_returns_true_when_set_even_if_cleared_right_after(threading_mod):
    # A waiter that was waiting when set() happened returns True, even though clear() came
    # before it got to run again.
    for _ in range(3):
        e = threading_mod.Event()
        results = []

        def waiter():
            results.append(e.wait(30))  # BLOCKS

        threads = [start_thread(waiter) for _ in range(4)]
        for i, t in enumerate(threads):
            wait_until_blocked_in(t, waiter, "# BLOCKS", grace=0.05 if i == 3 else 0.0)
        e.set()
        e.clear()
        join_all(threads, timeout=10)
        assert results == [True] * 4
        assert e.is_set() is False


def test_repr(threading_mod):
    # threadkit's shows the name or creation site after the address (issue 9).
    e, site = threading_mod.Event(), site_here(threading_mod)
    at = r"<\w+\.Event at 0x[0-9a-f]+%s: " % re.escape(site and " " + site)
    assert re.fullmatch(at + "unset>", repr(e)), repr(e)
    e.set()
    assert re.fullmatch(at + "set>", repr(e)), repr(e)
    assert hex(id(e)) in repr(e)


def test_weakref(threading_mod):
    e = threading_mod.Event()
    ref = weakref.ref(e)
    assert ref() is e
    del e
    assert ref() is None


def test_is_set_deprecated_alias(threading_mod):
    def call(mod):
        e = mod.Event()
        e.set()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = e.isSet()
        return result, [(w.category, str(w.message)) for w in caught]

    assert call(threading_mod) == call(threading)
    assert call(threading_mod) == (True, [(DeprecationWarning, "isSet() is deprecated, use is_set() instead")])


def test_at_fork_reinit_keeps_the_flag(threading_mod):
    e = threading_mod.Event()
    assert e._at_fork_reinit() is None
    assert e.is_set() is False
    assert e.wait(0) is False
    e.set()
    e._at_fork_reinit()
    assert e.is_set() is True
    assert e.wait(0) is True
    e.clear()
    assert e.wait(0.01) is False


@requires_fork
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_fork_child_reinits_an_event_with_waiters(threading_mod):
    e = threading_mod.Event()
    results = []

    def waiter():
        results.append(e.wait(30))  # BLOCKS

    t = start_thread(waiter)
    wait_until_blocked_in(t, waiter, "# BLOCKS", grace=0.0)
    pid = os.fork()
    if pid == 0:  # child: the waiter does not exist here
        code = 2
        try:
            e._at_fork_reinit()
            ok = e.wait(0.01) is False
            e.set()
            ok = ok and e.wait(0) is True and e.is_set()
            code = 0 if ok else 1
        finally:
            os._exit(code)
    try:
        exit_code = wait_child(pid)
        assert e.is_set() is False  # the child's set() is its own
    finally:
        e.set()
        join_all([t])
    assert exit_code == 0
    assert results == [True]


def test_blocked_wait_releases_the_gil(threading_mod):
    e = threading_mod.Event()
    progress = []

    def other():
        for _ in range(20):
            progress.append(python_work(5_000))
        e.set()

    t = start_thread(other)
    assert e.wait(30) is True
    assert len(progress) == 20
    join_all([t])


def test_ping_pong_stress(threading_mod):
    # Four pairs of threads hand a turn back and forth through two Events each.
    n_pairs, rounds = 4, 400
    counts = []

    def pinger(ping, pong, out):
        n = 0
        for _ in range(rounds):
            ping.set()
            assert pong.wait(30)
            pong.clear()
            n += 1
        out.append(n)

    def ponger(ping, pong, out):
        n = 0
        for _ in range(rounds):
            assert ping.wait(30)
            ping.clear()
            pong.set()
            n += 1
        out.append(n)

    threads = []
    for _ in range(n_pairs):
        ping, pong = threading_mod.Event(), threading_mod.Event()
        threads.append(start_thread(pinger, ping, pong, counts))
        threads.append(start_thread(ponger, ping, pong, counts))
    join_all(threads)
    assert counts == [rounds] * (2 * n_pairs)


def test_many_setters_and_waiters_stress(threading_mod):
    # Rounds of: waiters wait, several threads set at once, everyone sees True; then clear.
    n_waiters, n_setters, rounds = 8, 4, 100
    e = threading_mod.Event()
    arrive = threading.Barrier(n_waiters + n_setters + 1)
    results = []

    def waiter():
        for _ in range(rounds):
            arrive.wait()
            results.append(e.wait(30))
            arrive.wait()

    def setter():
        for _ in range(rounds):
            arrive.wait()
            e.set()
            arrive.wait()

    threads = [start_thread(waiter) for _ in range(n_waiters)]
    threads += [start_thread(setter) for _ in range(n_setters)]
    for _ in range(rounds):
        arrive.wait()
        arrive.wait()  # everyone is done with this round
        assert e.is_set()
        e.clear()
    join_all(threads)
    assert results == [True] * (n_waiters * rounds)

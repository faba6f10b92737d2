"""RLock: behaviour pinned against the standard library (every test with ``threading_mod`` runs
on both); argument validation and error messages compared exactly with CPython's."""

import os
import re
import sys
import threading
import weakref

import pytest

from _helpers_threading import (
    join_all,
    python_work,
    site_here,
    start_thread,
    start_threads,
    timed,
    wait_child,
)
from conftest import outcome, requires_fork

NAN = float("nan")

# Calls on a fresh RLock whose outcome (value or exception and message) must be the stdlib's.
# Not here: ``acquire(None)`` / ``acquire(timeout=None)``: threadkit's Lock documents that it
# takes None for the defaults where CPython raises TypeError (3.11) — RLock may do the same.
CALLS = {
    "release unacquired": lambda R: R().release(),
    "_release_save unacquired": lambda R: R()._release_save(),
    "__exit__ unacquired": lambda R: R().__exit__(None, None, None),
    "acquire()": lambda R: R().acquire(),
    "acquire(False)": lambda R: R().acquire(False),
    "acquire(0)": lambda R: R().acquire(0),
    "acquire(blocking=2)": lambda R: R().acquire(blocking=2),
    "acquire(True, 0)": lambda R: R().acquire(True, 0),
    "acquire(False, 1)": lambda R: R().acquire(False, 1),
    "acquire(False, 0)": lambda R: R().acquire(False, 0),
    "acquire(False, -1)": lambda R: R().acquire(False, -1),
    "acquire(blocking=False, timeout=1)": lambda R: R().acquire(blocking=False, timeout=1),
    "acquire(timeout=-1)": lambda R: R().acquire(timeout=-1),
    "acquire(timeout=-2)": lambda R: R().acquire(timeout=-2),
    "acquire(timeout=-0.5)": lambda R: R().acquire(timeout=-0.5),
    "acquire(timeout=0)": lambda R: R().acquire(timeout=0),
    "acquire(timeout=TIMEOUT_MAX)": lambda R: R().acquire(timeout=threading.TIMEOUT_MAX),
    "acquire(timeout=TIMEOUT_MAX*2)": lambda R: R().acquire(timeout=threading.TIMEOUT_MAX * 2),
    "acquire(timeout=1e100)": lambda R: R().acquire(timeout=1e100),
    "acquire(timeout=nan)": lambda R: R().acquire(timeout=NAN),
    "acquire(timeout='1')": lambda R: R().acquire(timeout="1"),
    "_is_owned": lambda R: R()._is_owned(),
    "_recursion_count": lambda R: R()._recursion_count(),
    "__enter__": lambda R: R().__enter__(),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_and_errors_match_stdlib(threading_mod, name):
    call = CALLS[name]
    assert outcome(lambda: call(threading_mod.RLock)) == outcome(lambda: call(threading.RLock))


def test_error_messages(threading_mod):
    msg = "cannot release un-acquired lock"
    assert outcome(lambda: threading_mod.RLock().release()) == (RuntimeError, msg)
    assert outcome(lambda: threading_mod.RLock()._release_save()) == (RuntimeError, msg)
    assert outcome(lambda: threading_mod.RLock().acquire(False, 1)) == (
        ValueError,
        "can't specify a timeout for a non-blocking call",
    )


def test_reentrancy_and_recursion_count(threading_mod):
    r = threading_mod.RLock()
    assert r._is_owned() is False
    assert r._recursion_count() == 0
    for depth in range(1, 6):
        assert r.acquire() is True
        assert r._recursion_count() == depth
        assert r._is_owned() is True
    assert r.acquire(False) is True  # the owner never blocks
    assert r.acquire(timeout=0) is True
    assert r._recursion_count() == 7
    for depth in range(6, -1, -1):
        assert r.release() is None
        assert r._recursion_count() == depth
    assert r._is_owned() is False
    assert outcome(r.release) == (RuntimeError, "cannot release un-acquired lock")
    assert r._recursion_count() == 0


def test_other_threads_see_it_held_and_cannot_release(threading_mod):
    r = threading_mod.RLock()
    r.acquire()
    r.acquire()
    seen = {}

    def other():
        seen["owned"] = r._is_owned()
        seen["count"] = r._recursion_count()
        seen["nonblocking"] = r.acquire(False)
        seen["timed"] = timed(lambda: r.acquire(timeout=0.05))
        seen["release"] = outcome(r.release)
        seen["exit"] = outcome(lambda: r.__exit__(None, None, None))

    join_all([start_thread(other)])
    assert seen["owned"] is False
    assert seen["count"] == 0
    assert seen["nonblocking"] is False
    got, elapsed = seen["timed"]
    assert got is False and 0.04 <= elapsed < 5
    err = (RuntimeError, "cannot release un-acquired lock")
    assert seen["release"] == seen["exit"] == err
    # Nothing changed for the owner.
    assert r._is_owned() and r._recursion_count() == 2
    r.release()
    r.release()
    assert outcome(r.release) == err


def test_release_save_by_a_non_owner_releases_it_like_cpython(threading_mod):
    # CPython's _release_save checks only that the lock is held, not by whom: it returns the
    # real owner's state and releases the lock. (Condition calls it only after _is_owned().)
    r = threading_mod.RLock()
    r.acquire()
    r.acquire()
    seen = []
    join_all([start_thread(lambda: seen.append(outcome(r._release_save)))])
    assert seen == [("returned", (2, threading.get_ident()))]
    assert r._is_owned() is False
    assert r._recursion_count() == 0
    assert r.acquire(False) is True
    assert r._recursion_count() == 1
    r.release()
    assert outcome(r.release) == (RuntimeError, "cannot release un-acquired lock")


def test_ownership_passes_to_the_next_thread(threading_mod):
    r = threading_mod.RLock()
    r.acquire()
    holding = threading.Event()
    done = threading.Event()
    seen = {}

    def other():
        with r:  # blocks until the main thread releases
            seen["owned"] = r._is_owned()
            seen["count"] = r._recursion_count()
            holding.set()
            done.wait(30)

    t = start_thread(other)
    r.release()
    assert holding.wait(30)
    assert r._is_owned() is False
    assert r.acquire(False) is False
    assert outcome(r.release) == (RuntimeError, "cannot release un-acquired lock")
    done.set()
    join_all([t])
    assert seen == {"owned": True, "count": 1}
    assert r.acquire(False) is True
    r.release()


def test_release_save_and_acquire_restore(threading_mod):
    r = threading_mod.RLock()
    r.acquire()
    r.acquire()
    r.acquire()
    state = r._release_save()
    assert state == (3, threading.get_ident())
    assert r._is_owned() is False
    assert r._recursion_count() == 0
    # Fully released: another thread can take it.
    took = []

    def other():
        took.append(r.acquire(False))
        r.release()

    join_all([start_thread(other)])
    assert took == [True]
    assert r._acquire_restore(state) is None
    assert r._is_owned() is True
    assert r._recursion_count() == 3
    for _ in range(3):
        r.release()
    assert outcome(r.release) == (RuntimeError, "cannot release un-acquired lock")


def test_acquire_restore_blocks_until_the_lock_is_free(threading_mod):
    r = threading_mod.RLock()
    r.acquire()
    state = r._release_save()
    other_holds = threading.Event()
    let_go = threading.Event()

    def other():
        with r:
            other_holds.set()
            let_go.wait(30)

    t = start_thread(other)
    assert other_holds.wait(30)
    # The other thread releases only after doing Python work: the restoring thread must not
    # hold the GIL while it waits.
    start_thread(lambda: (python_work(), let_go.set()))
    r._acquire_restore(state)
    assert r._is_owned() and r._recursion_count() == 1
    r.release()
    join_all([t])


def test_context_manager(threading_mod):
    r = threading_mod.RLock()
    with r as got:
        assert got is True
        with r as again:
            assert again is True
            assert r._recursion_count() == 2
        assert r._recursion_count() == 1
    assert r._is_owned() is False
    with pytest.raises(ZeroDivisionError):
        with r:
            with r:
                1 / 0
    assert r._recursion_count() == 0
    assert r.acquire(False)
    r.release()


def test_repr(threading_mod):
    # threadkit's shows the name or creation site, and the owner thread's name (issue 9).
    r, site = threading_mod.RLock(), site_here(threading_mod)
    obj = r"\w+\.RLock object %s" % re.escape(site and site + " ")
    assert re.fullmatch(r"<unlocked %sowner=0 count=0 at 0x[0-9a-f]+>" % obj, repr(r)), repr(r)
    r.acquire()
    r.acquire()
    owner = threading.get_ident() if site == "" else repr(threading.current_thread().name)
    pattern = r"<locked %sowner=%s count=2 at 0x[0-9a-f]+>" % (obj, re.escape(str(owner)))
    assert re.fullmatch(pattern, repr(r)), repr(r)
    r.release()
    r.release()


def test_weakref(threading_mod):
    r = threading_mod.RLock()
    ref = weakref.ref(r)
    assert ref() is r
    del r
    assert ref() is None


def test_at_fork_reinit_resets_a_held_lock(threading_mod):
    r = threading_mod.RLock()
    r.acquire()
    r.acquire()
    assert r._at_fork_reinit() is None
    assert r._is_owned() is False
    assert r._recursion_count() == 0
    assert outcome(r.release) == (RuntimeError, "cannot release un-acquired lock")
    assert r.acquire(False)
    r.release()


def test_at_fork_reinit_frees_a_lock_held_by_another_thread(threading_mod):
    r = threading_mod.RLock()
    holding = threading.Event()
    let_go = threading.Event()

    released = []

    def other():
        r.acquire()
        holding.set()
        let_go.wait(30)
        released.append(outcome(r.release))

    t = start_thread(other)
    assert holding.wait(30)
    r._at_fork_reinit()
    assert r.acquire(False) is True
    assert r._recursion_count() == 1
    r.release()
    let_go.set()
    join_all([t])
    # The old owner no longer owns the fresh lock.
    assert released == [(RuntimeError, "cannot release un-acquired lock")]
    assert r.acquire(False) is True
    r.release()


@requires_fork
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_fork_child_reinits_lock_held_by_a_thread(threading_mod):
    r = threading_mod.RLock()
    holding = threading.Event()
    let_go = threading.Event()

    def other():
        with r:
            holding.set()
            let_go.wait(30)

    t = start_thread(other)
    assert holding.wait(30)
    pid = os.fork()
    if pid == 0:  # child: the owner thread does not exist here
        code = 2
        try:
            r._at_fork_reinit()
            ok = r.acquire(False) and r._recursion_count() == 1
            r.release()
            code = 0 if ok else 1
        finally:
            os._exit(code)
    try:
        exit_code = wait_child(pid)
    finally:
        let_go.set()
        join_all([t])
    assert exit_code == 0


def test_locked(threading_mod):
    # RLock.locked() is in the stdlib from 3.14; threadkit offers it on every version.
    if not hasattr(threading.RLock(), "locked"):
        if threading_mod is threading:
            pytest.skip("stdlib RLock.locked() needs Python 3.14")
        if threading_mod.RLock is threading.RLock:
            pytest.skip("threadkit.threading.RLock is still the stdlib's")
    r = threading_mod.RLock()
    assert r.locked() is False
    r.acquire()
    assert r.locked() is True
    r.acquire()
    r.release()
    assert r.locked() is True
    seen = []
    join_all([start_thread(lambda: seen.append(r.locked()))])
    assert seen == [True]  # held by any thread
    r.release()
    assert r.locked() is False


def test_blocked_acquire_releases_the_gil(threading_mod):
    r = threading_mod.RLock()
    holding = threading.Event()
    progress = []

    def other():
        with r:
            holding.set()
            # Only possible while the main thread, blocked below, does not hold the GIL.
            for _ in range(20):
                progress.append(python_work(5_000))

    t = start_thread(other)
    assert holding.wait(30)
    assert r.acquire(timeout=30) is True
    assert len(progress) == 20
    assert r._recursion_count() == 1
    r.release()
    join_all([t])


def test_timed_acquire_on_contended_lock(threading_mod):
    r = threading_mod.RLock()
    holding = threading.Event()
    let_go = threading.Event()

    def other():
        with r:
            holding.set()
            let_go.wait(30)

    t = start_thread(other)
    assert holding.wait(30)
    got, elapsed = timed(lambda: r.acquire(timeout=0.1))
    assert got is False and 0.08 <= elapsed < 5
    assert outcome(lambda: r.acquire(timeout=-1e-9)) == outcome(
        lambda: threading.RLock().acquire(timeout=-1e-9)
    )
    assert r.acquire(False) is False
    assert r.acquire(True, 0) is False
    let_go.set()
    join_all([t])
    assert r.acquire(timeout=30) is True
    r.release()


def test_mutual_exclusion_stress(threading_mod):
    r = threading_mod.RLock()
    state = {"inside": 0, "max_inside": 0, "count": 0, "bad_depth": 0}
    n_threads, n_iter = 10, 1500
    start = threading.Barrier(n_threads)

    def work(seed):
        start.wait()
        for i in range(n_iter):
            depth = 1 + (i + seed) % 3
            for _ in range(depth):
                r.acquire()
            if r._recursion_count() != depth:
                state["bad_depth"] += 1
            state["inside"] += 1
            state["max_inside"] = max(state["max_inside"], state["inside"])
            state["count"] += 1
            state["inside"] -= 1
            for _ in range(depth):
                r.release()

    threads = [start_thread(work, seed) for seed in range(n_threads)]
    join_all(threads)
    assert state == {"inside": 0, "max_inside": 1, "count": n_threads * n_iter, "bad_depth": 0}
    assert r._is_owned() is False
    assert r.acquire(False)
    r.release()


def test_contended_timeouts_never_strand_waiters(threading_mod):
    r = threading_mod.RLock()
    got = []
    start = threading.Barrier(8)

    def work():
        start.wait()
        n = 0
        for _ in range(300):
            if r.acquire(timeout=0.001):
                if r.acquire(False):  # reentrant while held
                    r.release()
                n += 1
                r.release()
        got.append(n)

    join_all(start_threads(8, work))
    assert len(got) == 8
    assert r.acquire(False)
    assert r._recursion_count() == 1
    r.release()


def test_stdlib_threading_module_unaffected():
    # The fixture's stdlib side must really be the stdlib's RLock.
    assert type(threading.RLock()).__module__ in ("_thread", "threading")
    assert sys.modules["threading"] is threading

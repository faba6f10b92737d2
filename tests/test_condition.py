"""Condition: behaviour pinned against the standard library (every test with ``threading_mod``
runs on both), over every kind of lock: its own module's Lock and RLock, the other side's
(threadkit Condition over stdlib locks, stdlib Condition over threadkit locks) and user-defined
Python locks that offer only acquire and release."""

import contextlib
import os
import re
import threading
import warnings
import weakref

import pytest

import threadkit.threading as tk
from _helpers_threading import (
    join_all,
    python_work,
    site_here,
    start_thread,
    timed,
    wait_child,
    wait_until,
)
from conftest import outcome, requires_fork

NOT_ACQUIRED_WAIT = (RuntimeError, "cannot wait on un-acquired lock")
NOT_ACQUIRED_NOTIFY = (RuntimeError, "cannot notify on un-acquired lock")


class PyLock:
    """A user-defined lock offering only acquire and release (no context manager, no
    _is_owned / _release_save / _acquire_restore)."""

    def __init__(self):
        self._lock = threading.Lock()

    def acquire(self, blocking=True, timeout=-1):
        return self._lock.acquire(blocking, timeout)

    def release(self):
        self._lock.release()


class PyLockCM(PyLock):
    """The same, usable in a with statement."""

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _other_side(mod):
    return tk if mod is threading else threading


# Lock kinds: name -> (factory(threading_mod) -> lock or None, is reentrant, knows its owner)
LOCK_KINDS = {
    "default": (lambda m: None, True, True),
    "Lock": (lambda m: m.Lock(), False, False),
    "RLock": (lambda m: m.RLock(), True, True),
    "other side's Lock": (lambda m: _other_side(m).Lock(), False, False),
    "other side's RLock": (lambda m: _other_side(m).RLock(), True, True),
    "PyLock": (lambda m: PyLock(), False, False),
    "PyLockCM": (lambda m: PyLockCM(), False, False),
}


@pytest.fixture(params=sorted(LOCK_KINDS))
def lock_kind(request):
    return request.param


def make_cond(threading_mod, lock_kind):
    factory = LOCK_KINDS[lock_kind][0]
    lock = factory(threading_mod)
    return threading_mod.Condition(lock) if lock is not None else threading_mod.Condition()


@contextlib.contextmanager
def held(cond):
    """``with cond`` that works for every lock kind (PyLock has no __enter__)."""
    cond.acquire()
    try:
        yield
    finally:
        cond.release()


def held_elsewhere(cond):
    """True if another thread cannot take the condition's lock right now."""
    got = []

    def probe():
        ok = cond.acquire(False)
        got.append(ok)
        if ok:
            cond.release()

    join_all([start_thread(probe)])
    return not got[0]


def start_waiters(cond, n, body):
    """Starts ``n`` threads, one after the other; thread i runs ``body(i)`` with the condition's
    lock held, and ``body`` must wait on the condition. Returns when all of them wait, in order
    (a waiter releases the lock only inside wait, after it has queued itself)."""
    threads = []
    for i in range(n):
        ready = threading.Event()

        def run(i=i, ready=ready):
            with held(cond):
                ready.set()
                body(i)

        threads.append(start_thread(run))
        assert ready.wait(30)
        with held(cond):  # granted only once thread i is inside wait
            pass
    return threads


# ---------------------------------------------------------------------------------------------
# Construction and the lock


def test_default_lock_is_reentrant(threading_mod):
    for c in (threading_mod.Condition(), threading_mod.Condition(None), threading_mod.Condition(lock=None)):
        assert c.acquire() is True
        assert c.acquire(False) is True
        c.release()
        c.release()
        assert outcome(c.release) == (RuntimeError, "cannot release un-acquired lock")


def test_acquire_and_release_are_the_locks(threading_mod):
    lock = threading_mod.Lock()
    c = threading_mod.Condition(lock)
    assert c.acquire() is True
    assert lock.locked()
    assert c.acquire(False) is False
    assert c.acquire(timeout=0.01) is False
    assert outcome(lambda: c.acquire(False, 1)) == outcome(lambda: threading.Lock().acquire(False, 1))
    c.release()
    assert not lock.locked()
    assert outcome(c.release) == outcome(threading.Lock().release)


def test_context_manager(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    if lock_kind == "PyLock":
        # Condition.__enter__ is the lock's __enter__: a lock without one cannot be used in with.
        std = threading.Condition(PyLock())
        assert outcome(c.__enter__) == outcome(std.__enter__)
        assert outcome(c.__enter__)[0] is AttributeError
        assert not held_elsewhere(c)
        return
    with c as got:
        assert got is True
        assert held_elsewhere(c)
    assert not held_elsewhere(c)
    with pytest.raises(ZeroDivisionError):
        with c:
            1 / 0
    assert not held_elsewhere(c)


def test_weakref(threading_mod):
    c = threading_mod.Condition()
    ref = weakref.ref(c)
    assert ref() is c
    del c
    assert ref() is None


def test_repr(threading_mod):
    # threadkit's shows its own name or creation site after the standard library's (issue 9).
    lock = threading_mod.RLock()
    c, site = threading_mod.Condition(lock), site_here(threading_mod)
    site = re.escape(site and " " + site)
    pattern = r"<(\w+\.)?Condition\(%s, 0\)%s>" % (re.escape(repr(lock)), site)
    assert re.fullmatch(pattern, repr(c)), repr(c)
    let_go = threading.Event()
    threads = start_waiters(c, 1, lambda i: c.wait_for(let_go.is_set, 30))
    assert re.fullmatch(r"<(\w+\.)?Condition\(<.*>, 1\)%s>" % site, repr(c)), repr(c)
    with c:
        let_go.set()
        c.notify()
    join_all(threads)


# ---------------------------------------------------------------------------------------------
# Errors


def test_errors_without_the_lock(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    assert outcome(c.wait) == NOT_ACQUIRED_WAIT
    assert outcome(lambda: c.wait(0)) == NOT_ACQUIRED_WAIT
    assert outcome(lambda: c.wait(timeout=-1)) == NOT_ACQUIRED_WAIT
    assert outcome(lambda: c.wait(1e100)) == NOT_ACQUIRED_WAIT
    assert outcome(c.notify) == NOT_ACQUIRED_NOTIFY
    assert outcome(lambda: c.notify(0)) == NOT_ACQUIRED_NOTIFY
    assert outcome(lambda: c.notify(5)) == NOT_ACQUIRED_NOTIFY
    assert outcome(c.notify_all) == NOT_ACQUIRED_NOTIFY
    assert outcome(lambda: c.wait_for(lambda: 0)) == NOT_ACQUIRED_WAIT
    assert outcome(lambda: c.wait_for(lambda: None, 0)) == NOT_ACQUIRED_WAIT
    # The predicate runs first: when it is already true, wait_for returns it, lock or not.
    assert outcome(lambda: c.wait_for(lambda: "yes")) == ("returned", "yes")
    # Nothing was left held.
    assert not held_elsewhere(c)


def test_errors_when_another_thread_holds_an_owner_aware_lock(threading_mod, lock_kind):
    _, _, knows_owner = LOCK_KINDS[lock_kind]
    c = make_cond(threading_mod, lock_kind)
    holding = threading.Event()
    let_go = threading.Event()

    def other():
        with held(c):
            holding.set()
            let_go.wait(30)

    t = start_thread(other)
    assert holding.wait(30)
    try:
        if knows_owner:
            assert outcome(c.notify) == NOT_ACQUIRED_NOTIFY
            assert outcome(c.notify_all) == NOT_ACQUIRED_NOTIFY
            assert outcome(lambda: c.wait(0)) == NOT_ACQUIRED_WAIT
        else:
            # A lock without owner tracking: Condition takes "can't acquire it now" for "we hold
            # it" (CPython's fallback _is_owned), so notify passes (and, with no waiter, does
            # nothing). wait is not tried: it would release the other thread's lock.
            assert outcome(c.notify) == ("returned", None)
            assert outcome(c.notify_all) == ("returned", None)
    finally:
        let_go.set()
    join_all([t])
    assert not held_elsewhere(c)


def test_timeout_argument_errors_match_stdlib(threading_mod):
    def call(mod, f):
        c = mod.Condition(mod.Lock())
        with c:
            result = outcome(lambda: f(c))
            # The lock is held again whatever wait did.
            return result, c.acquire(False)

    for f in (
        lambda c: c.wait(-1),
        lambda c: c.wait(-0.5),
        lambda c: c.wait(0),
        lambda c: c.wait(float("nan")),
        lambda c: c.wait(threading.TIMEOUT_MAX * 2),
        lambda c: c.wait(threading.TIMEOUT_MAX + 1),
        lambda c: c.wait(1e100),
        lambda c: c.wait_for(lambda: 0, -1),
        lambda c: c.wait_for(lambda: [], 0),
        lambda c: c.wait_for(lambda: 7, 1e100),
        lambda c: c.wait_for(lambda: 0, threading.TIMEOUT_MAX * 2),
        lambda c: c.notify(0),
        lambda c: c.notify(-1),
        lambda c: c.notify_all(),
    ):
        assert call(threading_mod, f) == call(threading, f)
    # A timeout that is not a number: the stdlib's message comes from a comparison in Python
    # code, so only the exception type is pinned.
    assert call(threading_mod, lambda c: c.wait("1"))[0][0] is TypeError


def test_wait_timeout_values(threading_mod):
    c = threading_mod.Condition(threading_mod.Lock())
    with c:
        for timeout in (-1, -0.5, 0, -1e300):
            got, elapsed = timed(lambda: c.wait(timeout))
            assert got is False and elapsed < 5
        assert outcome(lambda: c.wait(1e100)) == (
            OverflowError,
            "timestamp out of range for platform time_t",
        )
        assert outcome(lambda: c.wait(threading.TIMEOUT_MAX + 1))[0] is OverflowError
        assert held_elsewhere(c)
    # The failed waits left no stale waiter behind: a later notify reaches a new waiter.
    woke = []
    threads = start_waiters(c, 1, lambda i: woke.append(c.wait(30)))
    with c:
        c.notify()
    join_all(threads)
    assert woke == [True]


# ---------------------------------------------------------------------------------------------
# wait and notify


def test_wait_returns_true_when_notified_and_holds_the_lock_again(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    results = []

    def body(i):
        results.append(c.wait(30))
        results.append(held_elsewhere(c))

    threads = start_waiters(c, 1, body)
    with held(c):
        assert c.notify() is None
    join_all(threads)
    assert results == [True, True]
    assert not held_elsewhere(c)


def test_wait_without_timeout_blocks_until_notified(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    results = []
    threads = start_waiters(c, 1, lambda i: results.append(c.wait()))
    assert results == []
    with held(c):
        c.notify()
    join_all(threads)
    assert results == [True]


def test_wait_timeout_returns_false_and_holds_the_lock_again(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    with held(c):
        got, elapsed = timed(lambda: c.wait(0.1))
        assert got is False
        assert 0.08 <= elapsed < 5
        assert held_elsewhere(c)
        got, elapsed = timed(lambda: c.wait(timeout=0.05))
        assert got is False and 0.04 <= elapsed < 5
    assert not held_elsewhere(c)


def test_reentrant_lock_is_fully_released_while_waiting(threading_mod):
    for lock in (threading_mod.RLock(), _other_side(threading_mod).RLock(), None):
        c = threading_mod.Condition(lock)
        other_got_it = []

        def other():
            with c:  # only possible if wait released all three levels
                other_got_it.append(True)
                c.notify()

        with c, c, c:
            t = start_thread(other)
            assert c.wait(30) is True
            # Three levels again: releasing three times works, a fourth would not.
            if lock is not None:
                assert lock._is_owned()
                assert lock._recursion_count() == 3
        join_all([t])
        assert other_got_it == [True]
        assert not held_elsewhere(c)


def test_notify_wakes_waiters_in_fifo_order(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    woke = []
    wake_signal = threading.Semaphore(0)

    def body(i):
        assert c.wait(30)
        woke.append(i)
        wake_signal.release()

    n = 6
    threads = start_waiters(c, n, body)
    for k in range(n):
        with held(c):
            c.notify()
        assert wake_signal.acquire(timeout=30)
        assert woke == list(range(k + 1))
    join_all(threads)


def test_notify_n_wakes_exactly_n_oldest_first(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    woke = []
    wake_signal = threading.Semaphore(0)

    def body(i):
        assert c.wait(30)
        woke.append(i)
        wake_signal.release()

    threads = start_waiters(c, 7, body)
    with held(c):
        assert c.notify(0) is None
        assert c.notify(-1) is None
    assert wake_signal.acquire(timeout=0.1) is False
    with held(c):
        assert c.notify(2) is None
    for _ in range(2):
        assert wake_signal.acquire(timeout=30)
    assert wake_signal.acquire(timeout=0.1) is False
    assert sorted(woke) == [0, 1]
    with held(c):
        c.notify(3)
    for _ in range(3):
        assert wake_signal.acquire(timeout=30)
    assert wake_signal.acquire(timeout=0.1) is False
    assert sorted(woke) == [0, 1, 2, 3, 4]
    with held(c):
        c.notify(100)  # more than are waiting
    join_all(threads)
    assert sorted(woke) == list(range(7))


def test_notify_all_wakes_every_waiter(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    woke = []
    threads = start_waiters(c, 8, lambda i: woke.append((i, c.wait(30))))
    with held(c):
        assert c.notify_all() is None
    join_all(threads)
    assert sorted(woke) == [(i, True) for i in range(8)]


def test_notify_without_waiters_is_not_remembered(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    with held(c):
        c.notify()
        c.notify(3)
        c.notify_all()
        got, elapsed = timed(lambda: c.wait(0.05))
        assert got is False and elapsed < 5


def test_timed_out_waiter_does_not_consume_a_notify(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    with held(c):
        assert c.wait(0.01) is False
    woke = []
    threads = start_waiters(c, 1, lambda i: woke.append(c.wait(30)))
    with held(c):
        c.notify()
    join_all(threads)
    assert woke == [True]


def test_notify_all_deprecated_alias(threading_mod):
    def call(mod):
        c = mod.Condition()
        with c, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = c.notifyAll()
        return result, [(w.category, str(w.message)) for w in caught]

    assert call(threading_mod) == call(threading)
    assert call(threading_mod)[1] == [
        (DeprecationWarning, "notifyAll() is deprecated, use notify_all() instead")
    ]


# ---------------------------------------------------------------------------------------------
# wait_for


def test_wait_for_returns_the_predicates_value(threading_mod):
    c = threading_mod.Condition()
    with c:
        assert c.wait_for(lambda: "ready") == "ready"
        assert c.wait_for(lambda: 42, timeout=0) == 42
        assert c.wait_for(lambda: [1], timeout=-1) == [1]
        # Already true: no wait at all, even with a timeout that a wait would reject.
        assert c.wait_for(lambda: 7, 1e100) == 7
        got, elapsed = timed(lambda: c.wait_for(lambda: 0, timeout=0.1))
        assert got == 0 and type(got) is int
        assert 0.08 <= elapsed < 5
        assert c.wait_for(lambda: [], timeout=0) == []
        assert c.wait_for(lambda: None, timeout=-1) is None
        got, elapsed = timed(lambda: c.wait_for(lambda: "", timeout=-5))
        assert got == "" and elapsed < 5


def test_wait_for_runs_the_predicate_with_the_lock_held(threading_mod):
    r = threading_mod.RLock()
    c = threading_mod.Condition(r)
    calls = []
    state = {"ready": False}

    def predicate():
        calls.append(r._is_owned())
        return state["ready"]

    def setter():
        with c:
            state["ready"] = True
            c.notify()

    with c:
        t = start_thread(setter)
        assert c.wait_for(predicate, 30) is True
    join_all([t])
    assert len(calls) >= 2 and all(calls)


def test_wait_for_keeps_waiting_until_the_predicate_holds(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    state = {"n": 0}
    results = []
    threads = start_waiters(c, 1, lambda i: results.append(c.wait_for(lambda: state["n"] >= 5 and state["n"])))
    for _ in range(5):
        with held(c):
            state["n"] += 1
            c.notify()
    join_all(threads)
    assert results == [5]


def test_wait_for_times_out_when_never_true(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    with held(c):
        got, elapsed = timed(lambda: c.wait_for(lambda: False, timeout=0.1))
        assert got is False
        assert 0.08 <= elapsed < 5
        assert held_elsewhere(c)


def test_wait_for_timeout_is_a_total_not_per_wakeup(threading_mod):
    # Notifications that do not make the predicate true do not restart the timeout.
    c = threading_mod.Condition()
    stop = threading.Event()

    def nagger():
        while not stop.is_set():
            with c:
                c.notify_all()
            stop.wait(0.005)

    t = start_thread(nagger)
    with c:
        got, elapsed = timed(lambda: c.wait_for(lambda: False, timeout=0.2))
    stop.set()
    join_all([t])
    assert got is False
    assert 0.15 <= elapsed < 5


# ---------------------------------------------------------------------------------------------
# Fork, GIL, stress


def test_at_fork_reinit(threading_mod):
    for c in (threading_mod.Condition(), threading_mod.Condition(threading_mod.Lock())):
        c.acquire()
        assert c._at_fork_reinit() is None
        assert c.acquire(False) is True  # the lock is fresh
        c.release()
        assert not held_elsewhere(c)


@requires_fork
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_fork_child_reinits_a_condition_with_a_waiter(threading_mod):
    c = threading_mod.Condition()
    let_go = threading.Event()
    threads = start_waiters(c, 1, lambda i: c.wait_for(let_go.is_set, 30))
    pid = os.fork()
    if pid == 0:  # child: the waiter thread does not exist here
        code = 2
        try:
            c._at_fork_reinit()
            with c:
                c.notify()  # the dead waiter is gone: nothing to wake, nothing raised
                ok = c.wait(0.01) is False
            code = 0 if ok else 1
        finally:
            os._exit(code)
    try:
        exit_code = wait_child(pid)
    finally:
        with c:
            let_go.set()
            c.notify()
        join_all(threads)
    assert exit_code == 0


def test_blocked_wait_releases_the_gil(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    progress = []

    def other():
        with held(c):  # granted only once the main thread waits
            for _ in range(20):
                progress.append(python_work(5_000))
            c.notify()

    with held(c):
        t = start_thread(other)
        assert c.wait(30) is True
        assert len(progress) == 20
    join_all([t])


def test_producer_consumer_stress(threading_mod, lock_kind):
    c = make_cond(threading_mod, lock_kind)
    items = []
    consumed = []
    n_producers, n_consumers, per_producer = 4, 8, 600
    done_producing = []

    def producer(p):
        for i in range(per_producer):
            with held(c):
                items.append((p, i))
                c.notify()
        with held(c):
            done_producing.append(p)
            c.notify_all()

    def consumer():
        mine = []
        while True:
            with held(c):
                c.wait_for(lambda: items or len(done_producing) == n_producers)
                if not items:
                    break
                mine.append(items.pop(0))
        consumed.append(mine)

    consumers = [start_thread(consumer) for _ in range(n_consumers)]
    producers = [start_thread(producer, p) for p in range(n_producers)]
    join_all(producers + consumers)
    everything = sorted(x for mine in consumed for x in mine)
    assert everything == sorted((p, i) for p in range(n_producers) for i in range(per_producer))
    # Each consumer saw every producer's items in production order.
    for mine in consumed:
        for p in range(n_producers):
            seq = [i for q, i in mine if q == p]
            assert seq == sorted(seq)


def test_turn_taking_with_notify_all_stress(threading_mod):
    c = threading_mod.Condition()
    n_threads, rounds = 8, 150
    state = {"turn": 0, "log": []}

    def player(me):
        for _ in range(rounds):
            with c:
                c.wait_for(lambda: state["turn"] % n_threads == me)
                state["log"].append(me)
                state["turn"] += 1
                c.notify_all()

    join_all([start_thread(player, i) for i in range(n_threads)])
    assert state["log"] == list(range(n_threads)) * rounds


def test_stdlib_condition_sees_threadkit_rlock_ownership():
    # The stdlib's Condition relies on the lock's _is_owned / _release_save / _acquire_restore.
    r = tk.RLock()
    c = threading.Condition(r)
    assert outcome(c.notify) == NOT_ACQUIRED_NOTIFY
    with c:
        with c:
            assert c.wait(0.01) is False
            assert r._recursion_count() == 2
    assert outcome(c.notify) == NOT_ACQUIRED_NOTIFY
    wait_until(lambda: not held_elsewhere(c), message="lock free")

import inspect
import os
import re
import sys
import threading
import weakref

import pytest

import threadkit
import threadkit.threading as tk

from _helpers_threading import site_here
from conftest import outcome, requires_fork


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L().acquire(False, 1),
        lambda L: L().acquire(True, -2),
        lambda L: L().acquire(timeout=-0.5),
        lambda L: L().acquire(timeout=threading.TIMEOUT_MAX * 2),
        lambda L: L().acquire(timeout=float("nan")),
        lambda L: L().acquire(timeout="1"),
        lambda L: L().acquire(0),
        lambda L: L().acquire(blocking=2),
        lambda L: L().acquire(timeout=None),
        lambda L: L().acquire(blocking=None),
        lambda L: L().acquire(None, 1),
        lambda L: L().acquire(blocking=[]),
        lambda L: L().acquire(False, -1),
        lambda L: L().acquire(True, 0),
        lambda L: L().release(),
        lambda L: L().locked(),
        lambda L: L().acquire_lock(),
        lambda L: L().locked_lock(),
    ],
)
def test_same_results_and_errors_as_stdlib(call):
    assert outcome(lambda: call(tk.Lock)) == outcome(lambda: call(threading.Lock))


def test_acquire_on_held_lock_times_out_and_nonblocking_fails():
    lock = tk.Lock()
    assert lock.acquire()
    assert lock.acquire(False) is False
    assert lock.acquire(timeout=0.01) is False
    assert lock.acquire(True, 0) is False
    lock.release()
    assert not lock.locked()


def test_release_by_another_thread():
    lock = tk.Lock()
    lock.acquire()
    t = threading.Thread(target=lock.release)
    t.start()
    t.join()
    assert not lock.locked()


def test_owner_is_the_acquiring_thread():
    lock = tk.Lock()
    assert lock._owner() is None
    lock.acquire()
    assert lock._owner() == threading.get_ident()
    lock.release()
    assert lock._owner() is None


def test_context_manager_releases_on_exception():
    lock = tk.Lock()
    with pytest.raises(ZeroDivisionError):
        with lock as got:
            assert got is True
            1 / 0
    assert not lock.locked()


def test_repr_and_weakref():
    # The name or creation site, and the owner thread's name while locked (issue 9).
    lock, site = tk.Lock(), site_here(tk)
    assert re.fullmatch(r"<unlocked threadkit.Lock object %s at 0x[0-9a-f]+>" % re.escape(site),
                        repr(lock)), repr(lock)
    lock.acquire()
    assert re.fullmatch(r"<locked threadkit.Lock object %s owner='MainThread' at 0x[0-9a-f]+>"
                        % re.escape(site), repr(lock)), repr(lock)
    ref = weakref.ref(lock)
    assert ref() is lock
    del lock
    assert ref() is None


@pytest.mark.parametrize(
    "call",
    [lambda L: L(1), lambda L: L(None), lambda L: L(a=1), lambda L: L(1, a=2)],
    ids=["positional", "None", "keyword", "both"],
)
def test_lock_takes_no_arguments(call):
    # TypeError on every version, as the standard library's Lock (a factory function before
    # 3.13, the lock type from 3.13), with CPython 3.13's messages.
    std_kind, std_message = outcome(lambda: call(threading.Lock))
    kind, message = outcome(lambda: call(tk.Lock))
    assert std_kind is kind is TypeError
    if sys.version_info >= (3, 13):
        assert message == std_message.replace("lock", "Lock")
    assert isinstance(tk.Lock(), tk.Lock)
    assert str(inspect.signature(tk.Lock)) == "(*, name=None, order_checked=True)"


def test_lock_cannot_be_subclassed():
    # As the standard library's on every version: the lock type is not an acceptable base
    # type (3.13), nor is a builtin function (3.11, 3.12).
    with pytest.raises(TypeError):

        class StdLock(threading.Lock):
            pass

    with pytest.raises(TypeError, match="not an acceptable base type"):

        class Lock(tk.Lock):
            pass

    with pytest.raises(TypeError):
        type("Lock", (threadkit.Lock,), {})


def test_exported_flat_and_as_allocate_lock():
    assert threadkit.Lock is tk.Lock
    assert tk._allocate_lock is tk.Lock


def test_blocked_acquire_releases_the_gil():
    # The main thread blocks in acquire; only another Python thread can release the lock.
    lock = tk.Lock()
    lock.acquire()
    ran = []

    def other():
        ran.append(True)
        lock.release()

    t = threading.Thread(target=other)
    t.start()
    assert lock.acquire(timeout=30)
    t.join()
    assert ran == [True]


def test_mutual_exclusion_stress():
    lock = tk.Lock()
    state = {"inside": 0, "max_inside": 0, "count": 0}
    n_threads, n_iter = 12, 3000

    def work():
        for _ in range(n_iter):
            with lock:
                state["inside"] += 1
                state["max_inside"] = max(state["max_inside"], state["inside"])
                state["count"] += 1
                state["inside"] -= 1

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["count"] == n_threads * n_iter
    assert state["max_inside"] == 1
    assert not lock.locked()


def test_contended_timeouts_never_strand_waiters():
    # Many threads acquire with short timeouts while others hold the lock: every acquire either
    # succeeds or times out, and the lock is free at the end.
    lock = tk.Lock()
    got = []
    start = threading.Barrier(8)

    def work():
        start.wait()
        n = 0
        for _ in range(300):
            if lock.acquire(timeout=0.001):
                n += 1
                lock.release()
        got.append(n)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8
    assert not lock.locked()
    assert lock.acquire(False)


def test_stdlib_condition_over_our_lock():
    lock = tk.Lock()
    cond = threading.Condition(lock)
    items = []

    def producer():
        with cond:
            items.append(1)
            cond.notify()

    with cond:
        t = threading.Thread(target=producer)
        t.start()
        assert cond.wait_for(lambda: items, timeout=30)
    t.join()
    assert not lock.locked()


@requires_fork
def test_fork_child_reinits_held_lock():
    lock = tk.Lock()
    lock.acquire()
    pid = os.fork()
    if pid == 0:  # child
        try:
            lock._at_fork_reinit()
            ok = lock.acquire(False) and lock.locked()
            lock.release()
            os._exit(0 if ok else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert lock.locked()
    lock.release()

"""Ctrl-C in the blocking waits of RLock, Condition, Semaphore, BoundedSemaphore, Event and
Barrier: SIGINT while the main thread blocks raises KeyboardInterrupt promptly and leaves the
primitive consistent (as CPython does); a handler that returns lets the wait go on to its
deadline. Each case runs in a subprocess that sends itself SIGINT (the runner pattern of
test_signals.py)."""

import pytest

from conftest import assert_sigint_interrupts, run_python

# Helpers available to every case's setup and check.
HELPERS = """
def start(target, *args):
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t

def hold_in_other_thread(lock, times=1):
    # Another thread takes `lock` (times levels) until let_go is set; returns (thread, let_go).
    holding, let_go = threading.Event(), threading.Event()
    def run():
        for _ in range(times):
            lock.acquire()
        holding.set()
        let_go.wait(60)
        for _ in range(times):
            lock.release()
    t = start(run)
    assert holding.wait(60)
    return t, let_go

def notify_reaches_new_waiter(c):
    # A waiter that comes later is woken by notify (no stale waiter swallows it).
    woke, ready = [], threading.Event()
    def run():
        with c:
            ready.set()
            woke.append(c.wait(60))
    t = start(run)
    assert ready.wait(60)
    with c:  # granted only once the waiter is inside wait
        c.notify()
    t.join(60)
    return woke == [True]

def full_round(b, extra):
    # `extra` other threads plus this one complete a round of barrier b.
    got = []
    ts = [start(lambda: got.append(b.wait(60))) for _ in range(extra)]
    got.append(b.wait(60))
    for t in ts:
        t.join(60)
    return sorted(got)
"""

# Each case: (setup, blocking call, check after the interrupt). The blocking call must block
# until interrupted; the check must prove the primitive is consistent.
CASES = {
    "RLock.acquire": (
        "p = tk.RLock(); holder, let_go = hold_in_other_thread(p, 2)",
        "p.acquire()",
        "assert not p._is_owned(); assert p._recursion_count() == 0; assert p.acquire(False) is False; "
        "let_go.set(); holder.join(60); assert p.acquire(False); assert p._recursion_count() == 1; "
        "p.release(); assert not p._is_owned()",
    ),
    "RLock.acquire(timeout)": (
        "p = tk.RLock(); holder, let_go = hold_in_other_thread(p)",
        "p.acquire(timeout=60)",
        "assert not p._is_owned(); let_go.set(); holder.join(60); assert p.acquire(timeout=60); "
        "p.release()",
    ),
    "Condition.wait": (
        "r = tk.RLock(); c = tk.Condition(r); c.acquire()",
        "c.wait()",
        # CPython reacquires the lock before the exception leaves wait.
        "assert r._is_owned() and r._recursion_count() == 1; c.release(); "
        "assert notify_reaches_new_waiter(c)",
    ),
    "Condition.wait(timeout)": (
        "r = tk.RLock(); c = tk.Condition(r); c.acquire(); c.acquire()",
        "c.wait(60)",
        "assert r._recursion_count() == 2; c.release(); c.release(); "
        "assert notify_reaches_new_waiter(c)",
    ),
    "Condition(Lock).wait": (
        "lock = tk.Lock(); c = tk.Condition(lock); c.acquire()",
        "c.wait()",
        "assert lock.locked(); c.release(); assert not lock.locked(); "
        "assert notify_reaches_new_waiter(c)",
    ),
    "Condition.wait_for": (
        "r = tk.RLock(); c = tk.Condition(r); c.acquire()",
        "c.wait_for(lambda: False)",
        "assert r._is_owned() and r._recursion_count() == 1; c.release(); "
        "assert notify_reaches_new_waiter(c)",
    ),
    "Condition.wait_for(timeout)": (
        "r = tk.RLock(); c = tk.Condition(r); c.acquire()",
        "c.wait_for(lambda: False, timeout=60)",
        "assert r._is_owned(); c.release(); assert notify_reaches_new_waiter(c)",
    ),
    "Semaphore.acquire": (
        "p = tk.Semaphore(1); p.acquire()",
        "p.acquire()",
        # The permit count is unchanged: still 0, then exactly 1 after one release.
        "assert p.acquire(False) is False; p.release(); assert p.acquire(False) is True; "
        "assert p.acquire(False) is False",
    ),
    "Semaphore.acquire(timeout)": (
        "p = tk.Semaphore(0)",
        "p.acquire(timeout=60)",
        "assert p.acquire(False) is False; p.release(2); assert p.acquire(False) and p.acquire(False); "
        "assert p.acquire(False) is False",
    ),
    "BoundedSemaphore.acquire": (
        "p = tk.BoundedSemaphore(2); p.acquire(); p.acquire()",
        "p.acquire()",
        "assert p.acquire(False) is False; p.release(); p.release(); "
        "assert str(pytest_raises(ValueError, p.release)) == 'Semaphore released too many times'; "
        "assert p.acquire(False) and p.acquire(False) and not p.acquire(False)",
    ),
    "Event.wait": (
        "e = tk.Event()",
        "e.wait()",
        "assert not e.is_set(); assert e.wait(0) is False; e.set(); assert e.wait(0) is True",
    ),
    "Event.wait(timeout)": (
        "e = tk.Event(); waiter_result = []; "
        "other = start(lambda: waiter_result.append(e.wait(60)))",
        "e.wait(60)",
        # Another thread waiting on the same Event is unaffected and still woken by set().
        "assert not e.is_set(); e.set(); other.join(60); assert waiter_result == [True]",
    ),
    "Barrier.wait": (
        "b = tk.Barrier(2)",
        "b.wait()",
        # CPython breaks a barrier only on a timeout, an abort or an action that raises: an
        # exception in the wait itself leaves it intact, without the interrupted party.
        "assert not b.broken; assert b.n_waiting == 0; assert full_round(b, 1) == [0, 1]",
    ),
    "Barrier.wait(timeout) with another waiter": (
        "b = tk.Barrier(3); early = []; other = start(lambda: early.append(b.wait(60)))\n"
        "while b.n_waiting < 1: time.sleep(0.001)",
        "b.wait(60)",
        "assert not b.broken; assert b.n_waiting == 1; assert len(full_round(b, 1)) == 2; "
        "other.join(60); assert len(early) == 1; assert b.n_waiting == 0",
    ),
}



HELPERS = HELPERS + """
def pytest_raises(exc_type, call):
    try:
        call()
    except exc_type as e:
        return e
    raise AssertionError("no %s" % exc_type.__name__)
"""


@pytest.mark.parametrize("name", sorted(CASES))
def test_sigint_interrupts_blocking_call(name):
    assert_sigint_interrupts(*CASES[name], helpers=HELPERS)


# Each case: (setup, call with a 1 s timeout, expected printed result of the call)
TIMED_CASES = {
    "RLock.acquire": (
        "p = tk.RLock(); holder, let_go = hold_in_other_thread(p)",
        "p.acquire(timeout=1.0)",
        "False",
    ),
    "Condition.wait": ("c = tk.Condition(); c.acquire()", "c.wait(1.0)", "False"),
    "Condition.wait_for": ("c = tk.Condition(); c.acquire()", "c.wait_for(lambda: 0, 1.0)", "0"),
    "Semaphore.acquire": ("p = tk.Semaphore(0)", "p.acquire(timeout=1.0)", "False"),
    "BoundedSemaphore.acquire": (
        "p = tk.BoundedSemaphore(1); p.acquire()",
        "p.acquire(timeout=1.0)",
        "False",
    ),
    "Event.wait": ("e = tk.Event()", "e.wait(1.0)", "False"),
    "Barrier.wait": (
        "b = tk.Barrier(2)",
        "type(pytest_raises(threading.BrokenBarrierError, lambda: b.wait(1.0))).__name__",
        "BrokenBarrierError",
    ),
}

TIMED_PROGRAM = """
import os, signal, threading, time
import threadkit.threading as tk
{helpers}
def pytest_raises(exc_type, call):
    try:
        call()
    except exc_type as e:
        return e
    raise AssertionError("no %s" % exc_type.__name__)
{setup}
calls = []
signal.signal(signal.SIGINT, lambda *a: calls.append(1))
def interrupter():
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupter, daemon=True).start()
t0 = time.monotonic()
got = {call}
print(got, calls, time.monotonic() - t0 >= 0.9)
"""


@pytest.mark.parametrize("name", sorted(TIMED_CASES))
def test_handler_that_returns_lets_the_wait_reach_its_deadline(name):
    setup, call, expected = TIMED_CASES[name]
    r = run_python(TIMED_PROGRAM.format(helpers=HELPERS, setup=setup, call=call), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [expected, "[1]", "True"], r.stdout + r.stderr

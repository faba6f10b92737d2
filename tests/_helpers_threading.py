"""Small helpers shared by the tests of RLock, Condition, Semaphore, Event and Barrier.

Helper threads are the standard library's own, so the tests of a threadkit primitive do not
depend on threadkit's Thread."""

import linecache
import sys
import threading
import time

JOIN_TIMEOUT = 30.0


def start_thread(target, *args, **kwargs):
    """Starts a daemon thread running ``target(*args, **kwargs)``; a failed test never hangs
    the interpreter at exit."""
    t = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
    t.start()
    return t


def start_threads(n, target, *args):
    return [start_thread(target, *args) for _ in range(n)]


def join_all(threads, timeout=JOIN_TIMEOUT):
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
        assert not t.is_alive(), f"{t.name} is still running after {timeout} s"


def wait_until(predicate, timeout=JOIN_TIMEOUT, message="condition"):
    """Waits until ``predicate()`` is true, checking every millisecond: for observing a state
    that has a public query (e.g. ``Barrier.n_waiting``), never to let time pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {message}"
        time.sleep(0.001)


def timed(call):
    """Returns (call's result, seconds it took)."""
    t0 = time.monotonic()
    result = call()
    return result, time.monotonic() - t0


def python_work(n=20_000):
    """Pure Python work: a thread can only do it while it holds the GIL."""
    total = 0
    for i in range(n):
        total += i % 7
    return total


def wait_until_blocked_in(thread, func, marker, grace=0.05):
    """Waits until ``thread`` runs the line of ``func`` whose source contains ``marker`` (the
    line of its blocking call: the thread is inside that call or about to enter it), then gives
    it ``grace`` seconds to get inside.

    Only for the few tests that need a thread to be blocked *before* something happens and where
    no public query can tell (e.g. Event.set then clear while a thread waits)."""
    code = func.__code__
    deadline = time.monotonic() + JOIN_TIMEOUT
    while True:
        f = sys._current_frames().get(thread.ident)
        while f is not None and f.f_code is not code:
            f = f.f_back
        if f is not None and marker in linecache.getline(code.co_filename, f.f_lineno):
            break
        assert thread.is_alive() and time.monotonic() < deadline, "thread never blocked"
        time.sleep(0.001)
    del f
    time.sleep(grace)


def wait_child(pid, timeout=JOIN_TIMEOUT):
    """Exit code of the forked child ``pid``; a child still running after ``timeout`` seconds
    (deadlocked after the fork) is killed and the test fails."""
    import os
    import signal

    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"forked child still running after {timeout} s: deadlocked")
        time.sleep(0.005)


def site_here(mod, name=None):
    """What a repr shows of the label of a primitive created on the caller's line: nothing on
    the standard library; on threadkit ``name='NAME'`` if ``name``, else the creation site,
    ``site='this_file.py:LINE'``."""
    if not mod.__name__.startswith("threadkit"):
        return ""
    if name is not None:
        return "name=%r" % name
    caller = sys._getframe(1)
    return "site=%r" % f"{caller.f_code.co_filename}:{caller.f_lineno}"

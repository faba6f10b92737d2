"""Idioms real code uses on the standard library's internals, run on threadkit.

Each test states what the standard library does (it runs on both) and checks that threadkit
does the same, or, where it cannot, fails with a message that names the alternative.
"""

import sys
import threading as std_threading

import pytest

import threadkit.threading as threadkit_threading

from _helpers_queue import JOIN_TIMEOUT
from conftest import run_python


# --- replacing threading.get_ident to observe thread start and exit --------------------------


def spy_get_ident(threading_mod, mod_to_patch, monkeypatch):
    """Replaces ``mod_to_patch.get_ident`` by a spy; returns the list of thread names whose
    calls it saw, as ``threading.current_thread`` would name them at that moment."""
    real = mod_to_patch.get_ident
    seen = []

    def spy():
        ident = real()
        seen.append(ident)
        return ident

    monkeypatch.setattr(mod_to_patch, "get_ident", spy)
    return seen


def test_a_replaced_get_ident_sees_thread_start_and_exit(threading_mod, monkeypatch):
    # The standard library's Thread calls get_ident() through its module's globals when it
    # starts (`_set_ident`) and when it ends (`_delete`): tools replace it to watch threads.
    seen = spy_get_ident(threading_mod, threading_mod, monkeypatch)
    idents = []
    t = threading_mod.Thread(target=lambda: idents.append(threading_mod.get_ident()))
    t.start()
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive()
    # Called in the new thread: once by the target itself, and at least at start and exit.
    assert seen.count(t.ident) >= 3, (seen, t.ident)
    assert idents == [t.ident]


def test_a_replaced_get_ident_is_seen_by_current_thread(threading_mod, monkeypatch):
    seen = spy_get_ident(threading_mod, threading_mod, monkeypatch)
    assert threading_mod.current_thread() is threading_mod.main_thread()
    assert seen, "current_thread() did not call the module's get_ident"


def test_a_get_ident_replaced_on_the_standard_library_module_is_seen_when_installed():
    # Under `python -m threadkit`, `threading` is a stand-in whose assignments reach the
    # standard library's module; threadkit's Thread must see the replacement there too.
    code = """
        import threadkit
        threadkit.install()
        import threading
        real = threading.get_ident
        seen = []
        def spy():
            seen.append(real())
            return seen[-1]
        threading.get_ident = spy
        t = threading.Thread(target=lambda: None)
        assert type(t).__module__ == "threadkit.threading", type(t)
        t.start()
        t.join(30)
        print(seen.count(t.ident) >= 2)
    """
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


# --- an item handed to a blocked getter counts in qsize() until that getter runs Python ------


def _waiting_kind(ident):
    """What threadkit says the thread ``ident`` waits for ("Queue.get"...), or None."""
    from threadkit import _core

    for t in _core._snapshot()["threads"]:
        if t["ident"] == ident:
            return (t["waiting"] or {}).get("kind")
    return None


def _wait_until(predicate, timeout=JOIN_TIMEOUT):
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"


def _hold_the_gil(seconds):
    """Runs Python code for ``seconds`` without letting go of the GIL: a thread woken in Rust
    meanwhile (a getter handed an item) does its Rust part but runs no Python code. The test's
    outcome does not depend on the time; it only gives Rust's side time to act."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.fixture
def long_switch_interval():
    # The main thread keeps the GIL between the put and the checks: the consumer cannot run
    # Python code meanwhile, on either side.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("kind", ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"])
def test_an_item_put_to_a_blocked_getter_counts_until_it_runs(
    queue_mod, kind, long_switch_interval
):
    # With the standard library, a consumer blocked in get() takes the item itself, in Python,
    # once it runs again: until then qsize() counts it and empty() is False. A pool that reads
    # qsize() next to its workers' idle flags to decide whether to grow relies on it.
    threadkit = queue_mod.__name__.startswith("threadkit")
    q = getattr(queue_mod, kind)()
    got = []
    threading_mod = threadkit_threading if threadkit else std_threading
    consumer = threading_mod.Thread(target=lambda: got.append(q.get()), daemon=True)
    consumer.start()
    if threadkit:
        # Blocked in Rust before the put (threadkit's snapshot detaches: not used after it).
        waits_for = "SimpleQueue.get" if kind == "SimpleQueue" else "Queue.get"
        _wait_until(lambda: _waiting_kind(consumer.ident) == waits_for)
    q.put("job")
    _hold_the_gil(0.05)
    if not threadkit and kind == "SimpleQueue" and sys.version_info >= (3, 13):
        # 3.13's C SimpleQueue hands the item to a waiting getter inside put() (its parking
        # lot); threadkit's keeps the order of 3.11 and 3.12's on every version.
        assert (q.qsize(), q.empty()) == (0, True)
    else:
        assert (q.qsize(), q.empty()) == (1, False)
    consumer.join(JOIN_TIMEOUT)
    assert got == ["job"]
    assert (q.qsize(), q.empty()) == (0, True)

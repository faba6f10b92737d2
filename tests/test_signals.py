"""Ctrl-C: SIGINT while the main thread blocks in a threadkit wait raises KeyboardInterrupt
promptly and leaves the primitive consistent; a handler that does not raise lets the wait go
on to its deadline. Each case runs in a subprocess that sends itself SIGINT."""

import pytest

from conftest import assert_sigint_interrupts, run_python

# Each case: (setup, blocking call, check after the interrupt). The blocking call must block
# until interrupted; the check must prove the primitive is consistent.
CASES = {
    "Lock.acquire": (
        "p = tk.Lock(); p.acquire()",
        "p.acquire()",
        "assert p.locked(); p.release(); assert p.acquire(False)",
    ),
    "Lock.acquire(timeout)": (
        "p = tk.Lock(); p.acquire()",
        "p.acquire(timeout=60)",
        "assert p.locked(); p.release(); assert p.acquire(False)",
    ),
}



@pytest.mark.parametrize("name", sorted(CASES))
def test_sigint_interrupts_blocking_call(name):
    assert_sigint_interrupts(*CASES[name])


def test_handler_that_returns_lets_the_wait_reach_its_deadline():
    r = run_python(
        """
        import os, signal, threading, time
        import threadkit.threading as tk
        calls = []
        signal.signal(signal.SIGINT, lambda *a: calls.append(1))
        lock = tk.Lock(); lock.acquire()
        threading.Thread(target=lambda: os.kill(os.getpid(), signal.SIGINT), daemon=True).start()
        t0 = time.monotonic()
        got = lock.acquire(timeout=1.0)
        print(got, calls, time.monotonic() - t0 >= 0.9)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "[1]", "True"]

import os
import subprocess
import sys
import textwrap

import pytest


def run_python(code: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter (the one running the tests); returns the result."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


@pytest.fixture
def python():
    return run_python


requires_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


# Behaviour tests run against the standard library too: a test that passes on stdlib states
# the standard library's behaviour, and the same test on threadkit checks we match it.
@pytest.fixture(params=["stdlib", "threadkit"])
def threading_mod(request):
    if request.param == "stdlib":
        import threading

        return threading
    import threadkit.threading

    return threadkit.threading


@pytest.fixture(params=["stdlib", "threadkit"])
def queue_mod(request):
    if request.param == "stdlib":
        import queue

        return queue
    import threadkit.queue

    return threadkit.queue


def outcome(call):
    """What a call did: ("returned", value), or (exception type, message)."""
    try:
        return ("returned", call())
    except BaseException as e:  # noqa: BLE001 - comparing exactly what was raised
        return (type(e), str(e))


# Ctrl-C cases: a subprocess blocks its main thread in `call` and sends itself SIGINT from a
# helper thread; `check` runs after the KeyboardInterrupt and must prove the primitive is
# consistent. `helpers` is extra code the case needs (defined before `setup`).
SIGINT_PROGRAM = """
import os, signal, sys, threading, time
import threadkit.threading as tk
import threadkit.queue as tkq
{helpers}
{setup}
sent = []
def interrupter():
    time.sleep(0.3)  # the main thread is blocked by then; if not, the result is the same
    sent.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupter, daemon=True).start()
try:
    {call}
except KeyboardInterrupt:
    delay = time.monotonic() - sent[0]
    {check}
    print("interrupted after %.3f" % delay)
else:
    print("not interrupted")
"""


def assert_sigint_interrupts(setup: str, call: str, check: str, helpers: str = "") -> None:
    code = SIGINT_PROGRAM.format(helpers=helpers, setup=setup, call=call, check=check)
    r = run_python(code, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("interrupted after"), r.stdout + r.stderr
    delay = float(r.stdout.split()[-1])
    # The promise is 100 ms; a loaded CI machine gets slack.
    assert delay < 1.0

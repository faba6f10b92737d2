import os
import subprocess
import sys
import textwrap

import pytest


# -- Strict deadlock mode and debug mode for the whole suite (ARCHITECTURE.md rule 10) --------
# A false deadlock report is worse than none, so every pytest run (`make test`: the tests, the
# CPython lock_tests classes, the examples, the stress tests) runs with the action `raise` and
# fails on any deadlock found: the test during which it was found fails, and so does the
# session. Child processes inherit the action through THREADKIT_DEADLOCK (a deadlock found in
# one raises DeadlockError there, which the tests that check a child's stderr or exit status
# see). The tests of the report mode itself run in subprocesses with their own environment.
#
# Set up at session start, not when this file is imported: threadkit.threading copies the
# standard library's namespace when first imported, and must see it as the tests do (after
# pytest's plugins replaced `threading.excepthook`).

STRICT_ACTION = "raise"
DEADLOCKS_FOUND: list[str] = []


def _record_deadlock(report) -> None:
    DEADLOCKS_FOUND.append(str(report))


def _recording(found):
    import threadkit

    def _deadlock_found(data):
        result = found(data)
        if isinstance(result, (threadkit.DeadlockError, threadkit.PotentialDeadlockError)):
            _record_deadlock(result)
        return result

    _deadlock_found.__wrapped__ = found
    return _deadlock_found


def pytest_sessionstart(session):
    import threadkit
    import threadkit.debug

    threadkit.debug._deadlock_found = _recording(threadkit.debug._deadlock_found)
    threadkit.debug._potential_deadlock_found = _recording(
        threadkit.debug._potential_deadlock_found)
    # Debug mode too (lock-order checking, the all-asleep watchdog), for the locks the tests
    # create from here on; a potential deadlock raises and fails its test like a deadlock.
    # Not exported to child processes: tests of the report mode set up their own.
    threadkit.debug.enable()
    threadkit.deadlock_hook = _record_deadlock
    threadkit.set_deadlock_action(STRICT_ACTION)
    os.environ["THREADKIT_DEADLOCK"] = STRICT_ACTION


@pytest.fixture(autouse=True)
def _no_deadlock_found():
    """Fails the test during which a deadlock was found in this process, and puts the strict
    action and hook back if the test changed them."""
    import threadkit

    before = len(DEADLOCKS_FOUND)
    yield
    threadkit.set_deadlock_action(STRICT_ACTION)
    threadkit.deadlock_hook = _record_deadlock
    found = DEADLOCKS_FOUND[before:]
    if found:
        pytest.fail("deadlock found (strict mode: every report is a test failure):\n\n"
                    + "\n\n".join(found), pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    if DEADLOCKS_FOUND and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if DEADLOCKS_FOUND:
        terminalreporter.section("deadlocks found (strict mode)")
        for text in DEADLOCKS_FOUND:
            terminalreporter.write_line(text)
            terminalreporter.write_line("")


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

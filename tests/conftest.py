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

"""Shared by the tests of threadkit.debug: programs run in a subprocess with a deadlock action
of their own, and what they can rely on."""

import os
import subprocess
import sys
import textwrap

import threadkit


def _accepts_names():
    try:
        threadkit.Lock(name="probe")
    except TypeError:
        return False
    return True


NAMES = _accepts_names()
"""Whether primitives take ``name=`` (branch dl-names). Tests that assert on names are marked
``xfail(not NAMES, strict=True)``: they run for real once it is merged."""

NEEDS_NAMES = "needs name= on primitives (branch dl-names)"

# Put before every program: what the programs use to order their threads without sleeping,
# and to end a report-mode run once the report is out while the deadlocked threads stay blocked.
PRELUDE = r'''
import io, json, os, sys, time
import threading as std_threading
import threadkit
import threadkit.debug
import threadkit.threading as threading
import threadkit.queue as queue
from threadkit.futures import ThreadPoolExecutor

def _hung():
    print("hung: the program did not end within 20 s", flush=True)
    os._exit(6)

_watchdog = std_threading.Timer(20, _hung)
_watchdog.daemon = True
_watchdog.name = "watchdog"
_watchdog.start()

def wait_until(predicate, what, timeout=15):
    """Polls `predicate` until true; exits with status 3 (and says what) after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            print("timed out waiting until " + what, flush=True)
            os._exit(3)
        time.sleep(0.001)

def state_of(name):
    for t in threadkit.snapshot()["threads"]:
        if t["name"] == name:
            return t
    return None

def waiting(name, reacquire=None, kind=None):
    """Whether thread `name` is blocked in a threadkit wait (of that kind, a re-acquire...)."""
    t = state_of(name)
    if t is None or t["waiting"] is None:
        return False
    w = t["waiting"]
    return ((reacquire is None or w["reacquire"] == reacquire)
            and (kind is None or w["kind"] == kind))

reported = std_threading.Event()
REPORTS = []

def hook(report):
    REPORTS.append(report)
    threadkit.debug.__deadlock_hook__(report)  # the default: prints it on stderr
    reported.set()

threadkit.deadlock_hook = hook

def stays_blocked(*threads):
    """Report mode: once the report is out, the deadlocked threads are still blocked; end the
    program here (the test's release path: they would wait forever)."""
    if not reported.wait(15):
        print("no report", flush=True)
        os._exit(4)
    for t in threads:
        t.join(0.3)
        if not t.is_alive():
            print("%s is not blocked" % t.name, flush=True)
            os._exit(5)
    print("still blocked after %d report(s)" % len(REPORTS), flush=True)
    sys.stderr.flush()
    os._exit(0)
'''


def clean_env(**extra):
    """The environment without threadkit's variables (the suite sets THREADKIT_DEADLOCK=raise
    for its children), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADKIT_")}
    env.update(extra)
    return env


def run_program(code, action=None, timeout=60, prelude=True, **env):
    """Runs ``code`` (after the prelude) in a fresh interpreter with ``THREADKIT_DEADLOCK`` set
    to ``action`` (unset if None), killed after ``timeout`` seconds."""
    extra = dict(env)
    if action is not None:
        extra["THREADKIT_DEADLOCK"] = action
    source = (PRELUDE if prelude else "") + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(**extra),
    )


# Two threads that take two RLocks in opposite orders (AB/BA), each waiting until the other holds
# its first: a program for run_program, to which a test appends what it starts and checks.
TWO_RLOCKS = """
a, b = threading.RLock(), threading.RLock()
a_held = threading.Event()
def first():
    with a:
        a_held.set()
        wait_until(lambda: waiting("second"), "second waits")
        b.acquire()
def second():
    with b:
        a_held.wait()
        a.acquire()
t1 = threading.Thread(target=first, name="first", daemon=True)
t2 = threading.Thread(target=second, name="second", daemon=True)
"""

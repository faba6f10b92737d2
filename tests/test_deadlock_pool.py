"""Deadlocks through a thread pool, each case in a subprocess with a hard timeout: a
``ThreadPoolExecutor(max_workers=1)`` whose only worker calls ``result()`` on a future it
submitted to the same pool (CPython's documentation warns about it; it hangs forever there) is
found when the worker blocks. With ``THREADKIT_DEADLOCK=raise`` that ``result()`` raises and
the program completes; with the default ``report`` the report appears and the program stays
blocked, as it would without threadkit, until the test kills it. Pools used correctly, timed
waits and futures completed by other threads are never reported."""

import os
import subprocess
import sys
import textwrap
import threading

# The worker's result() and what it raised, printed by the program as "<type>: <first line>".
SELF_WAIT = """
from threadkit.futures import ThreadPoolExecutor

ex = ThreadPoolExecutor(max_workers=1)

def outer():
    inner = ex.submit(lambda: 7)
    try:
        inner.result()
    except BaseException as e:  # until DeadlockError: PanicException is a BaseException
        return "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""), str(e), inner
    return "returned", "", inner

line, text, inner = ex.submit(outer).result()
print(line)
print(text)
print("inner", inner.result())
ex.shutdown()
"""


def run(code, action, timeout=60):
    env = dict(os.environ)
    env.pop("THREADKIT_DEADLOCK", None)
    if action is not None:
        env["THREADKIT_DEADLOCK"] = action
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_a_one_worker_pool_waiting_on_itself_raises_and_the_program_completes():
    r = run(SELF_WAIT, "raise")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # The worker's result() gave up instead of hanging; the worker then ran the queued task.
    assert lines[0] != "returned", r.stdout + r.stderr
    assert lines[-1] == "inner 7"


def test_the_worker_gets_a_deadlock_error_naming_itself_and_the_future():
    r = run(SELF_WAIT, "raise")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("DeadlockError: Deadlock found: 1 thread waits for itself."), (
        r.stdout + r.stderr)
    for needle in ("ThreadPoolExecutor-0_0", "Future", "result"):
        assert needle in r.stdout, (needle, r.stdout)
    assert r.stdout.splitlines()[-1] == "inner 7"


def test_a_one_worker_pool_waiting_on_itself_is_reported_and_stays_blocked():
    program = textwrap.dedent(
        """
        from threadkit.futures import ThreadPoolExecutor

        ex = ThreadPoolExecutor(max_workers=1)

        def outer():
            return ex.submit(lambda: 7).result()

        print("submitted", flush=True)
        ex.submit(outer).result()
        print("never", flush=True)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "THREADKIT_DEADLOCK"}
    p = subprocess.Popen(
        [sys.executable, "-c", program],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    err = []
    reported = threading.Event()

    def read():
        for line in p.stderr:
            err.append(line)
            if "Cycle" in line:
                reported.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert reported.wait(60), "no report: " + "".join(err)
        # Still blocked: the report changes nothing else.
        assert p.poll() is None
    finally:
        p.kill()
        p.wait(60)
        reader.join(60)
    text = "".join(err)
    for needle in ("Deadlock", "ThreadPoolExecutor-0_0", "Future", "result"):
        assert needle in text, (needle, text)
    assert text.count("Cycle") == 1, text


def test_pools_used_correctly_are_never_reported():
    # With raise, a false report would raise in a wait and fail the program.
    r = run(
        """
        import threading
        from threadkit.futures import ThreadPoolExecutor, wait, as_completed, Future

        front = ThreadPoolExecutor(max_workers=2)
        back = ThreadPoolExecutor(max_workers=1)
        # Workers of one pool submit to another and wait for the results.
        fs = [front.submit(lambda i=i: back.submit(pow, 2, i).result()) for i in range(200)]
        assert sum(f.result() for f in fs) == 2 ** 200 - 1

        # A task waiting for a task of its own pool, which has a worker free (or room for one).
        ex = ThreadPoolExecutor(max_workers=2)
        for _ in range(50):
            assert ex.submit(lambda: ex.submit(int, "5").result()).result() == 5

        # A worker waits for a future another thread completes, while a thread waits for the
        # worker's task.
        free = Future()
        task = back.submit(free.result)
        threading.Thread(target=free.set_result, args=(3,)).start()
        assert task.result() == 3

        # A timed result() in the one-worker shape ends by itself: not a deadlock.
        solo = ThreadPoolExecutor(max_workers=1)
        def timed():
            inner = solo.submit(int)
            try:
                inner.result(timeout=0.2)
            except TimeoutError:
                return "timed out"
            return "ran"
        assert solo.submit(timed).result() == "timed out"

        # wait() and as_completed() over pool futures.
        done, _ = wait([front.submit(int) for _ in range(20)])
        assert len(done) == 20
        assert len(list(as_completed([front.submit(int) for _ in range(20)]))) == 20
        for pool in (front, back, ex, solo):
            pool.shutdown()
        print("ok")
        """,
        "raise",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
    assert "Deadlock" not in r.stderr, r.stderr

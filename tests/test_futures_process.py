"""threadkit.futures and the life of the process, each case in a subprocess: pending work
completes at interpreter exit as with CPython's pool; Ctrl-C interrupts every wait of the main
thread promptly, and after ``shutdown(cancel_futures=True)`` the process exits once the running
tasks finish, without running the queued ones; a forked child can use a pool."""

import pytest

from conftest import requires_fork, run_python

MODULES = {"stdlib": "concurrent.futures", "threadkit": "threadkit.futures"}


@pytest.mark.parametrize("impl", sorted(MODULES))
def test_pending_work_completes_at_exit(impl):
    # The first task blocks until the interpreter starts exiting (an exit hook registered after
    # the pool's runs before it), so the others are still queued when the main thread ends.
    r = run_python(
        f"""
        import sys, threading
        from {MODULES[impl]} import ThreadPoolExecutor
        ex = ThreadPoolExecutor(2)
        exiting = threading.Event()
        threading._register_atexit(exiting.set)
        ex.submit(exiting.wait)
        ex.submit(exiting.wait)
        for i in range(100):
            ex.submit(sys.stdout.write, f"{{i}}\\n")  # one write: lines stay whole
        print("main done", flush=True)
        """
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert lines[0] == "main"
    assert sorted(int(x) for x in lines[2:]) == list(range(100))


@pytest.mark.parametrize("impl", sorted(MODULES))
def test_exit_with_a_collected_pool(impl):
    r = run_python(
        f"""
        from {MODULES[impl]} import ThreadPoolExecutor
        def make():
            ex = ThreadPoolExecutor(2)
            return [ex.submit(pow, 2, i) for i in range(50)]
        fs = make()
        print(sum(f.result() for f in fs))
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(2 ** 50 - 1)


def test_submit_at_interpreter_exit_is_refused():
    r = run_python(
        """
        import threading
        from threadkit.futures import ThreadPoolExecutor
        ex = ThreadPoolExecutor(1)
        ex.submit(int).result()
        def late():
            try:
                ex.submit(int)
            except RuntimeError as e:
                print(e, flush=True)
        # Registered before the pool's hook was (import), so it runs after it.
        import threadkit.futures
        threading._threading_atexits.insert(0, late)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "cannot schedule new futures after interpreter shutdown"


# Ctrl-C: the main thread blocks in `call` while one task runs (blocked on `release`) and
# three are queued; SIGINT must interrupt it within a second.
SIGINT_PROGRAM = """
import os, signal, sys, threading, time
import concurrent.futures as cf
import threadkit.futures as tf
ex = tf.ThreadPoolExecutor(1)
release = threading.Event()
started = threading.Event()
def blocker():
    started.set()
    release.wait()
    print("running task finished", flush=True)
running = ex.submit(blocker)
queued = [ex.submit(print, "queued task ran", flush=True) for _ in range(3)]
assert started.wait(30)
sent = []
def interrupter():
    time.sleep(0.3)  # the main thread is blocked by then; if not, the result is the same
    sent.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupter, daemon=True).start()
try:
    {call}
except KeyboardInterrupt:
    print("interrupted after %.3f" % (time.monotonic() - sent[0]), flush=True)
else:
    print("not interrupted", flush=True)
ex.shutdown(wait=False, cancel_futures=True)
print("cancelled", [f.cancelled() for f in queued], running.cancelled(), flush=True)
threading.Timer(0.1, release.set).start()
"""

CALLS = {
    "result": "running.result()",
    "result(timeout)": "running.result(timeout=60)",
    "exception": "running.exception()",
    "wait": "tf.wait([running] + queued)",
    "wait(FIRST_COMPLETED)": "tf.wait(queued, return_when=tf.FIRST_COMPLETED)",
    "as_completed": "list(tf.as_completed(queued + [running]))",
    "stdlib wait": "cf.wait([running])",
    "shutdown(wait=True)": "ex.shutdown(wait=True)",
    "map": "list(ex.map(abs, [1, 2, 3]))",
    "context manager exit": "with ex: pass",
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_sigint_interrupts_waits_and_exit_skips_queued_work(name):
    r = run_python(SIGINT_PROGRAM.format(call=CALLS[name]), timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("interrupted after"), r.stdout + r.stderr
    assert float(lines[0].split()[-1]) < 1.0
    assert lines[1] == "cancelled [True, True, True] False", r.stdout
    assert lines[2:] == ["running task finished"], r.stdout
    assert "queued task ran" not in r.stdout


def test_sigint_handler_that_returns_lets_result_go_on():
    r = run_python(
        """
        import os, signal, threading
        from threadkit.futures import ThreadPoolExecutor
        calls = []
        signal.signal(signal.SIGINT, lambda *a: calls.append(1))
        release = threading.Event()
        with ThreadPoolExecutor(1) as ex:
            f = ex.submit(lambda: release.wait() and "done")
            def later():
                os.kill(os.getpid(), signal.SIGINT)
                threading.Timer(0.2, release.set).start()
            threading.Thread(target=later).start()
            print(f.result(), calls)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["done", "[1]"]


@requires_fork
def test_pool_usable_in_forked_child():
    r = run_python(
        """
        import os
        from threadkit.futures import ThreadPoolExecutor
        ex = ThreadPoolExecutor(2)
        assert ex.submit(pow, 2, 5).result() == 32
        pid = os.fork()
        if pid == 0:
            code = 0 if ex.submit(pow, 3, 3).result(timeout=30) == 27 else 1
            ex.shutdown()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), ex.submit(pow, 2, 2).result())
        ex.shutdown()
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "4"]

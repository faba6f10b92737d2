"""threadkit.threading, threadkit.queue and threadkit.futures mirror the whole namespace of the
module they replace, private names included (tools read `threading._active` and the like)."""

import concurrent.futures
import queue
import sys
import threading

import pytest

import threadkit
import threadkit.futures as tk_futures
import threadkit.queue as tk_queue
import threadkit.threading as tk_threading
from conftest import requires_fork, run_python


@pytest.mark.parametrize(
    "ours, std",
    [(tk_threading, threading), (tk_queue, queue), (tk_futures, concurrent.futures)],
    ids=["threading", "queue", "futures"],
)
def test_every_public_name_is_there(ours, std):
    missing = [name for name in std.__all__ if not hasattr(ours, name)]
    assert missing == []
    # Ours may only add what newer Pythons have (queue.ShutDown before 3.13).
    assert set(ours.__all__) - set(std.__all__) <= {"ShutDown"}


def test_private_names_of_threading_are_mirrored():
    names = [n for n in dir(threading) if not (n.startswith("__") and n.endswith("__"))]
    assert [n for n in names if not hasattr(tk_threading, n)] == []
    # The registry and the hooks are the standard library's own objects (shared).
    assert tk_threading._active is threading._active
    assert tk_threading.__excepthook__ is threading.__excepthook__
    assert tk_threading.local is threading.local


def test_private_names_follow_the_standard_library():
    # Read from the standard library's module on each access, not copied at import: a hook set
    # after threadkit was imported shows.
    def tracer(frame, event, arg):
        return None

    def profiler(frame, event, arg):
        return None

    sys_trace, std_trace = sys.gettrace(), threading.gettrace()
    sys_profile, std_profile = sys.getprofile(), threading.getprofile()
    try:
        threading.settrace(tracer)
        threading.setprofile(profiler)
        assert tk_threading._trace_hook is tracer
        assert tk_threading._profile_hook is profiler
    finally:
        threading.settrace(std_trace)
        threading.setprofile(std_profile)
        sys.settrace(sys_trace)
        sys.setprofile(sys_profile)
    assert tk_threading._trace_hook is std_trace
    assert tk_threading._profile_hook is std_profile


@requires_fork
def test_private_names_follow_the_standard_library_after_fork():
    # In a child forked from another thread, the standard library rebinds `_main_thread` (the
    # forking thread) and `_active_limbo_lock`: threadkit.threading shows the new ones.
    r = run_python(
        """
        import os, threading, warnings
        import threadkit.threading as tk

        warnings.simplefilter("ignore", DeprecationWarning)  # fork() in a threaded process
        parent_main = threading.main_thread()
        parent_lock = tk._active_limbo_lock
        codes = []

        def forker():
            pid = os.fork()
            if pid == 0:
                me = threading.current_thread()
                checks = [
                    tk._main_thread is threading._main_thread,
                    tk._main_thread is me,
                    tk._main_thread is not parent_main,
                    tk.main_thread() is me,
                    tk._active_limbo_lock is threading._active_limbo_lock,
                    tk._active_limbo_lock is not parent_lock,
                ]
                os.write(1, repr(checks).encode() + b"\\n")
                os._exit(0)
            codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

        t = tk.Thread(target=forker)
        t.start()
        t.join()
        print("child exit", codes)
        """,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines == ["[True, True, True, True, True, True]", "child exit [0]"], r.stdout + r.stderr


def test_private_names_are_the_standard_librarys_unless_replaced():
    # A private helper of threadkit.threading must not hide the standard library's object of
    # the same name; `_allocate_lock` is replaced on purpose (threadkit's Lock).
    ours = vars(tk_threading)
    same_name = [n for n in ours if n.startswith("_") and not n.endswith("__")
                 and hasattr(threading, n)]
    assert [n for n in same_name if ours[n] is not getattr(threading, n)] == ["_allocate_lock"]
    # dir() lists the standard library's names too.
    assert set(dir(threading)) - set(dir(tk_threading)) <= {
        n for n in dir(threading) if n.startswith("__") and n.endswith("__")}
    with pytest.raises(AttributeError, match="threadkit.threading"):
        tk_threading._no_such_name
    with pytest.raises(AttributeError):
        tk_threading.__path__  # a module, not a package


def test_the_primitives_are_threadkits():
    for name in ("Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event",
                 "Barrier", "Thread", "Timer"):
        assert getattr(tk_threading, name) is getattr(threadkit, name)
        assert getattr(tk_threading, name) is not getattr(threading, name)
    assert tk_threading._allocate_lock is tk_threading.Lock


def test_started_flag_view():
    go = tk_threading.Event()
    t = tk_threading.Thread(target=go.wait, args=(30,))
    assert t._started.is_set() is False
    t.start()
    assert t._started.wait() is True
    assert t._started.is_set() is True
    go.set()
    t.join(30)
    assert not t.is_alive()

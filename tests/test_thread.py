"""Thread and the module functions, against the standard library (``threading_mod`` runs each
behaviour test on both), plus the interop that only threadkit needs: its threads as seen by the
standard library's ``threading``."""

import re
import sys
import threading
import warnings

import pytest

import threadkit.threading as tk
from conftest import outcome, run_python

ATTRS = (
    "Thread Timer current_thread main_thread enumerate active_count get_ident get_native_id "
    "gettrace getprofile stack_size TIMEOUT_MAX currentThread activeCount"
).split()


def test_names_are_threadkits_own():
    shared = {"local", "excepthook", "ExceptHookArgs", "settrace", "setprofile",
              "settrace_all_threads", "setprofile_all_threads", "__excepthook__",
              # exception classes are the standard library's (ARCHITECTURE.md rule 5)
              "ThreadError", "BrokenBarrierError"}
    for name in threading.__all__:
        assert hasattr(tk, name), name
        if name in shared or name == "TIMEOUT_MAX":
            continue
        assert getattr(tk, name) is not getattr(threading, name), name
    for name in ATTRS:
        assert getattr(tk, name) is not None
    assert tk.local is threading.local
    assert tk.excepthook is threading.excepthook
    assert tk.ExceptHookArgs is threading.ExceptHookArgs
    assert tk.TIMEOUT_MAX == threading.TIMEOUT_MAX


def test_get_ident_and_native_id_match_stdlib():
    assert tk.get_ident() == threading.get_ident()
    assert tk.get_native_id() == threading.get_native_id()
    seen = []
    t = threading.Thread(target=lambda: seen.append(
        (tk.get_ident(), threading.get_ident(), tk.get_native_id(), threading.get_native_id())))
    t.start()
    t.join()
    a, b, c, d = seen[0]
    assert a == b and c == d


def test_target_args_kwargs(threading_mod):
    out = []
    t = threading_mod.Thread(target=lambda *a, **k: out.append((a, k)), args=(1, 2),
                             kwargs={"x": 3})
    t.start()
    t.join()
    assert out == [((1, 2), {"x": 3})]
    assert not t.is_alive()


def test_run_override_in_subclass(threading_mod):
    class Worker(threading_mod.Thread):
        def __init__(self, n):
            super().__init__(name="worker-%d" % n)
            self.n = n
            self.result = None

        def run(self):
            self.result = (self.n * 2, threading_mod.current_thread() is self)

    ws = [Worker(i) for i in range(8)]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    assert [w.result for w in ws] == [(i * 2, True) for i in range(8)]
    assert [w.name for w in ws] == ["worker-%d" % i for i in range(8)]


def test_start_twice_is_runtime_error(threading_mod):
    t = threading_mod.Thread(target=lambda: None)
    t.start()
    assert outcome(t.start) == (RuntimeError, "threads can only be started once")
    t.join()
    assert outcome(t.start) == (RuntimeError, "threads can only be started once")


def test_join_errors(threading_mod):
    t = threading_mod.Thread(target=lambda: None)
    assert outcome(t.join) == (RuntimeError, "cannot join thread before it is started")
    out = []
    me = threading_mod.Thread(target=lambda: out.append(outcome(threading_mod.current_thread().join)))
    me.start()
    me.join()
    assert out == [(RuntimeError, "cannot join current thread")]
    assert outcome(threading_mod.current_thread().join) == (RuntimeError,
                                                             "cannot join current thread")


def test_init_not_called(threading_mod):
    class Bad(threading_mod.Thread):
        def __init__(self):
            pass

    assert outcome(Bad().start) == (RuntimeError, "thread.__init__() not called")
    assert outcome(Bad().join) == (RuntimeError, "Thread.__init__() not called")


def test_group_must_be_none(threading_mod):
    with pytest.raises(AssertionError):
        threading_mod.Thread(group=object())


def test_join_timeout_returns_with_thread_alive(threading_mod):
    go = threading_mod.Event()
    t = threading_mod.Thread(target=go.wait)
    t.start()
    assert t.join(0.01) is None
    assert t.is_alive()
    assert t.join(0) is None
    assert t.join(-1) is None  # negative: as zero
    assert t.is_alive()
    go.set()
    t.join(60)
    assert not t.is_alive()


def test_is_alive_life_cycle(threading_mod):
    go = threading_mod.Event()
    t = threading_mod.Thread(target=go.wait)
    assert not t.is_alive()
    t.start()
    assert t.is_alive()
    go.set()
    t.join()
    assert not t.is_alive()


def test_default_names(threading_mod):
    def target():
        pass

    class Callable:
        def __call__(self):
            pass

    names = [threading_mod.Thread().name, threading_mod.Thread(target=target).name,
             threading_mod.Thread(target=Callable()).name,
             threading_mod.Thread(name="given").name, threading_mod.Thread(name=0).name,
             threading_mod.Thread(name=12).name]
    m = [re.fullmatch(r"Thread-(\d+)", names[0]), re.fullmatch(r"Thread-(\d+) \(target\)", names[1]),
         re.fullmatch(r"Thread-(\d+)", names[2])]
    assert all(m), names
    n0, n1, n2 = (int(x.group(1)) for x in m)
    assert n0 < n1 < n2
    assert names[3:] == ["given", names[4], "12"]
    assert re.fullmatch(r"Thread-\d+", names[4])  # a false name gets the default


def test_names_share_the_stdlib_counter():
    a = threading.Thread().name
    b = tk.Thread().name
    c = threading.Thread().name
    na, nb, nc = (int(re.match(r"Thread-(\d+)", x).group(1)) for x in (a, b, c))
    assert na < nb < nc


def test_name_setter(threading_mod):
    t = threading_mod.Thread()
    t.name = 5
    assert t.name == "5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        t.setName("x")
        assert t.getName() == "x"


def test_ident_and_native_id(threading_mod):
    seen = []
    t = threading_mod.Thread(target=lambda: seen.append(
        (threading_mod.get_ident(), threading_mod.get_native_id())))
    assert t.ident is None and t.native_id is None
    t.start()
    t.join()
    assert seen == [(t.ident, t.native_id)]
    assert t.ident != threading_mod.get_ident()


def test_daemon_inherited_and_fixed_after_start(threading_mod):
    assert threading_mod.Thread().daemon is False  # from the main thread
    out = []

    def make():
        out.append(threading_mod.Thread().daemon)
        out.append(threading_mod.Thread(daemon=False).daemon)

    d = threading_mod.Thread(target=make, daemon=True)
    d.start()
    d.join()
    assert out == [True, False]

    go = threading_mod.Event()
    t = threading_mod.Thread(target=go.wait)
    t.daemon = True
    assert t.daemon
    t.start()
    assert outcome(lambda: setattr(t, "daemon", False)) == (
        RuntimeError, "cannot set daemon status of active thread")
    go.set()
    t.join()
    assert outcome(lambda: setattr(t, "daemon", False)) == (
        RuntimeError, "cannot set daemon status of active thread")
    assert t.daemon


def test_camel_case_aliases_warn(threading_mod):
    t = threading_mod.Thread()
    with pytest.warns(DeprecationWarning, match=r"isDaemon\(\) is deprecated"):
        assert t.isDaemon() is False
    with pytest.warns(DeprecationWarning, match=r"setDaemon\(\) is deprecated"):
        t.setDaemon(True)
    assert t.daemon
    with pytest.warns(DeprecationWarning, match=r"getName\(\) is deprecated"):
        t.getName()
    with pytest.warns(DeprecationWarning, match=r"setName\(\) is deprecated"):
        t.setName("n")
    with pytest.warns(DeprecationWarning, match=r"currentThread\(\) is deprecated"):
        assert threading_mod.currentThread() is threading_mod.current_thread()
    with pytest.warns(DeprecationWarning, match=r"activeCount\(\) is deprecated"):
        assert threading_mod.activeCount() == threading_mod.active_count()


def test_repr(threading_mod):
    go = threading_mod.Event()
    t = threading_mod.Thread(target=go.wait, name="r", daemon=True)
    assert repr(t) == "<Thread(r, initial daemon)>"
    t.start()
    assert repr(t) == "<Thread(r, started daemon %d)>" % t.ident
    go.set()
    t.join()
    assert repr(t) == "<Thread(r, stopped daemon %d)>" % t.ident

    class Sub(threading_mod.Thread):
        pass

    assert repr(Sub(name="s")) == "<Sub(s, initial)>"


def test_current_thread_and_enumerate(threading_mod):
    go = threading_mod.Event()
    inside = []

    def worker():
        me = threading_mod.current_thread()
        inside.append((me, me in threading_mod.enumerate(), threading_mod.active_count()))
        go.wait()

    before = threading_mod.active_count()
    ts = [threading_mod.Thread(target=worker) for _ in range(8)]
    for t in ts:
        t.start()
    assert threading_mod.active_count() == before + 8
    assert all(t in threading_mod.enumerate() for t in ts)
    go.set()
    for t in ts:
        t.join()
    assert sorted(id(x[0]) for x in inside) == sorted(id(t) for t in ts)
    assert all(x[1] for x in inside)
    assert threading_mod.active_count() == before
    assert not any(t in threading_mod.enumerate() for t in ts)
    assert threading_mod.main_thread() in threading_mod.enumerate()
    assert threading_mod.current_thread() is threading_mod.main_thread()


def test_current_thread_in_foreign_thread_is_a_dummy(threading_mod):
    import _thread

    seen = []
    done = threading.Event()

    def run():
        t = threading_mod.current_thread()
        seen.append((t.name, t.daemon, t in threading_mod.enumerate()))
        done.set()

    _thread.start_new_thread(run, ())
    done.wait(60)
    name, daemon, listed = seen[0]
    assert name.startswith("Dummy-") and daemon and listed


def test_stdlib_sees_threadkit_thread():
    seen = []

    def worker():
        me = threading.current_thread()
        seen.append((me, isinstance(me, threading.Thread), me in threading.enumerate(),
                     me.name))

    t = tk.Thread(target=worker, name="tk-worker")
    t.start()
    t.join()
    assert seen == [(t, True, True, "tk-worker")]
    assert t not in threading.enumerate()
    assert isinstance(t, threading.Thread)


def test_threadkit_sees_stdlib_thread():
    go = threading.Event()
    t = threading.Thread(target=go.wait)
    t.start()
    try:
        assert t in tk.enumerate()
        assert tk.active_count() == threading.active_count()
    finally:
        go.set()
        t.join()
    assert tk.main_thread() is threading.main_thread()


def test_stress_many_threads_start_and_join():
    counter = []
    lock = tk.Lock()

    def work(i):
        for _ in range(100):
            with lock:
                counter.append(i)

    for _ in range(5):
        ts = [tk.Thread(target=work, args=(i,)) for i in range(16)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not any(t.is_alive() for t in ts)
    assert len(counter) == 5 * 16 * 100
    assert tk.active_count() == threading.active_count()


def test_threads_starting_threads():
    out = []
    lock = tk.Lock()

    def node(depth):
        with lock:
            out.append(depth)
        if depth < 3:
            kids = [tk.Thread(target=node, args=(depth + 1,)) for _ in range(2)]
            for k in kids:
                k.start()
            for k in kids:
                k.join()

    root = tk.Thread(target=node, args=(0,))
    root.start()
    root.join()
    assert sorted(out) == [0] + [1] * 2 + [2] * 4 + [3] * 8


def test_concurrent_joiners():
    go = tk.Event()
    t = tk.Thread(target=go.wait)
    t.start()
    joined = []
    joiners = [tk.Thread(target=lambda: (t.join(), joined.append(t.is_alive())))
               for _ in range(8)]
    for j in joiners:
        j.start()
    go.set()
    for j in joiners:
        j.join()
    assert joined == [False] * 8


def test_run_deletes_target_references(threading_mod):
    t = threading_mod.Thread(target=lambda x: None, args=(1,), kwargs={})
    t.start()
    t.join()
    assert not hasattr(t, "_target") and not hasattr(t, "_args")


def test_stack_size(threading_mod):
    old = threading_mod.stack_size()
    try:
        assert threading_mod.stack_size(1 << 20) == old
        out = []
        t = threading_mod.Thread(target=lambda: out.append(1))
        t.start()
        t.join()
        assert out == [1]
        assert threading_mod.stack_size() == 1 << 20
    finally:
        threading_mod.stack_size(old)
    with pytest.raises(ValueError):
        threading_mod.stack_size(4096 // 2)


def test_timeout_max(threading_mod):
    assert threading_mod.TIMEOUT_MAX == threading.TIMEOUT_MAX


# --- exceptions escaping run() ---


def test_exception_goes_to_excepthook(threading_mod, monkeypatch):
    seen = []
    monkeypatch.setattr(threading, "excepthook", seen.append)

    def boom():
        raise ValueError("bad")

    t = threading_mod.Thread(target=boom, name="boomer")
    t.start()
    t.join()
    (args,) = seen
    assert type(args) is threading.ExceptHookArgs
    assert args.exc_type is ValueError and str(args.exc_value) == "bad"
    assert args.exc_traceback is not None and args.thread is t


def test_replacement_hook_on_threadkit_module_is_honoured(monkeypatch):
    seen = []
    monkeypatch.setattr(tk, "excepthook", lambda a: seen.append(("tk", a.exc_type)))
    monkeypatch.setattr(threading, "excepthook", lambda a: seen.append(("std", a.exc_type)))
    t = tk.Thread(target=lambda: 1 / 0)
    t.start()
    t.join()
    assert seen == [("tk", ZeroDivisionError)]


@pytest.mark.parametrize("impl", ["threading", "threadkit.threading"])
def test_default_excepthook_output_and_system_exit(impl):
    # In a subprocess: pytest replaces threading.excepthook in its own process.
    r = run_python(
        f"""
        import {impl} as T
        def boom():
            raise KeyError("k")
        t = T.Thread(target=boom, name="loud")
        t.start(); t.join()
        import sys
        t = T.Thread(target=sys.exit, args=(3,))
        t.start(); t.join()
        print("exit code stays", flush=True)
        """
    )
    assert r.returncode == 0
    assert r.stdout == "exit code stays\n"
    err = r.stderr
    assert err.startswith("Exception in thread loud:\nTraceback (most recent call last):"), err
    assert err.rstrip().endswith("KeyError: 'k'")
    assert err.count("Traceback") == 1  # SystemExit is silent


def test_failing_excepthook_is_reported(threading_mod, monkeypatch, capsys):
    def bad_hook(args):
        raise RuntimeError("hook failed")

    monkeypatch.setattr(threading, "excepthook", bad_hook)
    t = threading_mod.Thread(target=lambda: 1 / 0)
    t.start()
    t.join()
    err = capsys.readouterr().err
    assert "Exception in threading.excepthook:" in err
    assert "RuntimeError: hook failed" in err


# --- trace and profile hooks ---


def test_settrace_before_start_applies_in_thread(threading_mod):
    calls = []

    def tracer(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code.co_name)
        return None

    def traced_function():
        return 1

    old = threading.gettrace()
    threading_mod.settrace(tracer)
    try:
        assert threading_mod.gettrace() is tracer
        t = threading_mod.Thread(target=traced_function)
        t.start()
        t.join()
    finally:
        threading.settrace(old)
    assert "traced_function" in calls


def test_setprofile_before_start_applies_in_thread(threading_mod):
    calls = []

    def profiler(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code.co_name)

    def profiled_function():
        return 1

    old = threading.getprofile()
    threading_mod.setprofile(profiler)
    try:
        assert threading_mod.getprofile() is profiler
        t = threading_mod.Thread(target=profiled_function)
        t.start()
        t.join()
    finally:
        threading.setprofile(old)
    assert "profiled_function" in calls


@pytest.mark.skipif(not hasattr(threading, "settrace_all_threads"), reason="3.12+")
def test_settrace_all_threads_applies_to_threads_started_later():
    calls = []

    def tracer(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code.co_name)

    def traced_later():
        return 1

    old = threading.gettrace()
    tk.settrace_all_threads(tracer)
    try:
        t = tk.Thread(target=traced_later)
        t.start()
        t.join()
    finally:
        threading.settrace_all_threads(old)
    assert "traced_later" in calls


# --- Ctrl-C during start/join is in test_process_life; fork too ---


def test_local_is_per_thread(threading_mod):
    loc = threading_mod.local()
    loc.x = "main"
    seen = []

    def worker(i):
        seen.append(hasattr(loc, "x"))
        loc.x = i

    ts = [threading_mod.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert seen == [False] * 8
    assert loc.x == "main"


def test_every_thread_of_the_process_is_a_thread():
    # As with the standard library: isinstance(current_thread(), Thread) always holds, also
    # for the main thread and dummy threads, which are the standard library's objects.
    import threading as std

    import threadkit.threading as tk

    assert isinstance(tk.main_thread(), tk.Thread)
    assert isinstance(tk.current_thread(), tk.Thread)
    assert issubclass(std.Thread, tk.Thread)
    seen = []
    t = std.Thread(target=lambda: seen.append(isinstance(tk.current_thread(), tk.Thread)))
    t.start()
    t.join()
    assert seen == [True]

    class Mine(tk.Thread):
        pass

    # Subclasses keep plain isinstance.
    assert not isinstance(tk.main_thread(), Mine)
    assert not issubclass(std.Thread, Mine)
    assert not isinstance(3, tk.Thread) and not issubclass(int, tk.Thread)

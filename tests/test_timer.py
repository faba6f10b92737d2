"""Timer: runs its function once after the interval, unless cancelled first; on both the
standard library and threadkit (``threading_mod``)."""

import threading

import pytest

import threadkit.threading as tk


def test_timer_runs_function_with_args(threading_mod):
    done = threading_mod.Event()
    out = []

    def f(*a, **k):
        out.append((a, k, threading_mod.current_thread().name))
        done.set()

    t = threading_mod.Timer(0.01, f, args=(1, 2), kwargs={"k": 3})
    t.start()
    assert done.wait(60)
    t.join()
    assert out == [((1, 2), {"k": 3}, t.name)]
    assert t.finished.is_set()
    assert not t.is_alive()


def test_timer_defaults(threading_mod):
    t = threading_mod.Timer(5, print)
    assert t.interval == 5 and t.function is print
    assert t.args == [] and t.kwargs == {}
    assert t.name.startswith("Thread-")
    assert not t.daemon


def test_cancel_before_interval(threading_mod):
    out = []
    t = threading_mod.Timer(60, out.append, args=(1,))
    t.start()
    t.cancel()
    t.join(60)
    assert not t.is_alive()
    assert out == []


def test_cancel_before_start(threading_mod):
    out = []
    t = threading_mod.Timer(0, out.append, args=(1,))
    t.cancel()
    t.start()
    t.join(60)
    assert out == []


def test_cancel_after_run_is_harmless(threading_mod):
    out = []
    t = threading_mod.Timer(0, out.append, args=(1,))
    t.start()
    t.join(60)
    t.cancel()
    assert out == [1]


def test_many_timers_cancel_half(threading_mod):
    out = []
    lock = threading_mod.Lock()

    def hit(i):
        with lock:
            out.append(i)

    timers = [threading_mod.Timer(0 if i % 2 else 60, hit, args=(i,)) for i in range(16)]
    for i, t in enumerate(timers):
        if i % 2 == 0:
            t.cancel()
        t.start()
    for t in timers:
        t.join(60)
        assert not t.is_alive()
    assert sorted(out) == list(range(1, 16, 2))


def test_timer_subclass_and_types():
    t = tk.Timer(1, print)
    assert isinstance(t, tk.Thread) and isinstance(t, threading.Thread)
    assert type(t.finished) is tk.Event
    with pytest.raises(RuntimeError):
        t.join()

"""threadkit.futures: ThreadPoolExecutor and Future, behaviour pinned against the standard
library (every test with ``futures_mod`` runs on ``concurrent.futures`` and on
``threadkit.futures``), plus interop: the standard library's ``wait``/``as_completed`` on our
futures, ours on its futures, mixed, and asyncio."""

import asyncio
import concurrent.futures as cf
import gc
import logging
import os
import re
import threading
import weakref

import pytest

import threadkit.futures as tf
from _helpers_threading import JOIN_TIMEOUT, join_all, start_thread
from conftest import outcome

T = JOIN_TIMEOUT


@pytest.fixture(params=["stdlib", "threadkit"])
def futures_mod(request):
    return cf if request.param == "stdlib" else tf


@pytest.fixture
def executor(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(max_workers=4)
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


def blocked(ex, n=1):
    """Submits ``n`` tasks that block until the returned Event is set; returns (event, futures,
    started) where ``started`` is a Semaphore released once per task that began."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def task(i):
        started.release()
        assert release.wait(T)
        return i

    fs = [ex.submit(task, i) for i in range(n)]
    return release, fs, started


def acquire_n(sem, n):
    for _ in range(n):
        assert sem.acquire(timeout=T)


# ---------------------------------------------------------------------------------------------
# namespace


def test_namespace_mirrors_concurrent_futures():
    for name in cf.__all__:
        assert hasattr(tf, name), name
    assert set(tf.__all__) == set(cf.__all__)
    for name in ("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "CancelledError",
                 "TimeoutError", "InvalidStateError", "BrokenExecutor", "Executor"):
        assert getattr(tf, name) is getattr(cf, name), name
    assert tf.ProcessPoolExecutor is cf.ProcessPoolExecutor
    assert tf.BrokenThreadPool is cf.thread.BrokenThreadPool
    assert tf.TimeoutError is TimeoutError
    with pytest.raises(AttributeError):
        tf.no_such_name


def test_types_are_the_standard_librarys():
    assert issubclass(tf.ThreadPoolExecutor, cf.ThreadPoolExecutor)
    assert issubclass(tf.Future, cf.Future)
    f = tf.Future()
    assert isinstance(f, cf.Future) and isinstance(f, tf.Future)
    # Code that imported Future from threadkit.futures accepts any concurrent future.
    assert isinstance(cf.Future(), tf.Future)
    assert issubclass(cf.Future, tf.Future)
    assert not isinstance(object(), tf.Future)
    with tf.ThreadPoolExecutor(1) as ex:
        assert type(ex.submit(int)) is tf.Future
        assert isinstance(ex, cf.Executor)


def test_user_subclass_of_future():
    class MyFuture(tf.Future):
        pass

    f = MyFuture()
    f.set_result(3)
    assert f.result() == 3
    assert isinstance(f, tf.Future) and isinstance(f, cf.Future)
    assert not isinstance(tf.Future(), MyFuture)
    assert "MyFuture at" in repr(f)


# ---------------------------------------------------------------------------------------------
# constructor


@pytest.mark.parametrize("n", [0, -1])
def test_max_workers_must_be_positive(futures_mod, n):
    assert outcome(lambda: futures_mod.ThreadPoolExecutor(n)) == (
        ValueError, "max_workers must be greater than 0")


def test_default_max_workers(futures_mod):
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    ex = futures_mod.ThreadPoolExecutor()
    assert ex._max_workers == min(32, (count or 1) + 4)
    ex.shutdown()


def test_initializer_must_be_callable(futures_mod):
    assert outcome(lambda: futures_mod.ThreadPoolExecutor(1, initializer=3)) == (
        TypeError, "initializer must be a callable")


def test_thread_names(futures_mod):
    with futures_mod.ThreadPoolExecutor(3, thread_name_prefix="pool") as ex:
        release, fs, started = blocked(ex, 3)
        acquire_n(started, 3)
        names = sorted(t.name for t in ex._threads)
        release.set()
    assert names == ["pool_0", "pool_1", "pool_2"]


def test_default_thread_names(futures_mod):
    with futures_mod.ThreadPoolExecutor(1) as ex:
        name = ex.submit(lambda: threading.current_thread().name).result(T)
    assert re.fullmatch(r"ThreadPoolExecutor-\d+_0", name), name


def test_workers_are_threads_seen_by_threading(futures_mod):
    with futures_mod.ThreadPoolExecutor(1, thread_name_prefix="seen") as ex:
        t = ex.submit(threading.current_thread).result(T)
        assert isinstance(t, threading.Thread)
        assert t.name == "seen_0"
        assert t in threading.enumerate()
        assert not t.daemon


# ---------------------------------------------------------------------------------------------
# workers: lazy, bounded, reused


def test_workers_start_lazily_up_to_max(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(max_workers=3)
    assert len(ex._threads) == 0
    release, fs, started = blocked(ex, 2)
    acquire_n(started, 2)
    assert len(ex._threads) == 2
    more_release, more, more_started = blocked(ex, 5)
    assert len(ex._threads) == 3
    release.set()
    more_release.set()
    assert [f.result(T) for f in fs + more] == [0, 1, 0, 1, 2, 3, 4]
    ex.shutdown()
    assert len(ex._threads) == 3


def test_idle_workers_are_reused(futures_mod):
    with futures_mod.ThreadPoolExecutor(max_workers=32) as ex:
        names = {ex.submit(lambda: threading.current_thread().name).result(T) for _ in range(50)}
        # A worker that just finished may not count as idle yet when the next call comes, so
        # a second (rarely a third) thread can start; never one per call.
        assert len(ex._threads) <= 4
        assert len(names) <= 4


# ---------------------------------------------------------------------------------------------
# submit, result, exceptions


def test_submit_args_kwargs(executor):
    f = executor.submit(lambda *a, **k: (a, k), 1, 2, x=3)
    assert f.result(T) == ((1, 2), {"x": 3})


def test_submit_fn_keyword_is_positional_only(executor):
    f = executor.submit(lambda **k: k, fn=1, self=2)
    assert f.result(T) == {"fn": 1, "self": 2}


def test_exception_in_task(executor):
    f = executor.submit(lambda: 1 / 0)
    assert isinstance(f.exception(T), ZeroDivisionError)
    with pytest.raises(ZeroDivisionError):
        f.result(T)
    assert f.done() and not f.cancelled() and not f.running()


def test_base_exception_in_task_is_set_on_the_future(executor):
    def task():
        raise SystemExit(3)

    f = executor.submit(task)
    assert isinstance(f.exception(T), SystemExit)
    # The worker survives.
    assert executor.submit(int, "7").result(T) == 7


def test_result_timeout(executor):
    release, (f,), started = blocked(executor)
    for timeout in (0, 0.01, -1):
        with pytest.raises(TimeoutError):
            f.result(timeout)
        with pytest.raises(TimeoutError):
            f.exception(timeout)
    release.set()
    assert f.result(T) == 0


def test_running_state(executor):
    release, (f,), started = blocked(executor)
    acquire_n(started, 1)
    assert f.running() and not f.done()
    assert f._state == "RUNNING"
    assert f.cancel() is False
    release.set()
    f.result(T)
    assert not f.running() and f.done() and f._state == "FINISHED"


def test_submit_after_shutdown(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(1)
    ex.shutdown()
    assert outcome(lambda: ex.submit(int)) == (
        RuntimeError, "cannot schedule new futures after shutdown")
    ex.shutdown()  # again: no error
    assert ex._shutdown is True


def test_context_manager_shuts_down(futures_mod):
    with futures_mod.ThreadPoolExecutor(2) as ex:
        fs = [ex.submit(pow, i, 2) for i in range(10)]
    assert all(f.done() for f in fs)
    with pytest.raises(RuntimeError):
        ex.submit(int)


# ---------------------------------------------------------------------------------------------
# map


def test_map_in_order(executor):
    assert list(executor.map(pow, range(20), range(20))) == [i ** i for i in range(20)]
    assert list(executor.map(abs, [-1, -2], chunksize=5)) == [1, 2]
    assert list(executor.map(abs, [])) == []


def test_map_raises_at_the_failing_item(executor):
    it = executor.map(lambda x: 1 / x, [1, 0, 2])
    assert next(it) == 1
    with pytest.raises(ZeroDivisionError):
        next(it)


def test_map_timeout(executor):
    release = threading.Event()
    it = executor.map(lambda x: release.wait(T) and x, [1, 2], timeout=0.05)
    with pytest.raises(TimeoutError):
        next(it)
    release.set()


def test_map_submits_before_iterating(executor):
    ran = []
    it = executor.map(ran.append, range(5))
    executor.shutdown(wait=True)
    assert sorted(ran) == list(range(5))
    assert list(it) == [None] * 5


# ---------------------------------------------------------------------------------------------
# shutdown


def test_shutdown_wait_runs_queued_work(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(2)
    done = []
    fs = [ex.submit(done.append, i) for i in range(100)]
    ex.shutdown(wait=True)
    assert sorted(done) == list(range(100))
    assert all(f.done() and not f.cancelled() for f in fs)
    for t in ex._threads:
        assert not t.is_alive()


def test_shutdown_no_wait_returns_while_tasks_run(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(1)
    release, (f,), started = blocked(ex)
    queued = ex.submit(int, "5")
    ex.shutdown(wait=False)
    assert not f.done()
    release.set()
    assert f.result(T) == 0 and queued.result(T) == 5
    join_all(list(ex._threads))


def test_shutdown_cancel_futures(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(1)
    release, (f,), started = blocked(ex)
    acquire_n(started, 1)
    queued = [ex.submit(int, "1") for _ in range(5)]
    ex.shutdown(wait=False, cancel_futures=True)
    assert all(q.cancelled() for q in queued)
    assert f.running()
    release.set()
    assert f.result(T) == 0
    join_all(list(ex._threads))
    for q in queued:
        with pytest.raises(cf.CancelledError):
            q.result()


def test_shutdown_wait_from_a_worker_raises(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(1)
    f = ex.submit(lambda: ex.shutdown(wait=True))
    assert outcome(lambda: f.result(T)) == (RuntimeError, "cannot join current thread")
    ex.shutdown()


def test_collected_executor_lets_workers_exit(futures_mod):
    ex = futures_mod.ThreadPoolExecutor(2)
    fs = [ex.submit(pow, 2, i) for i in range(10)]
    threads = list(ex._threads)
    ref = weakref.ref(ex)
    del ex
    gc.collect()
    assert ref() is None
    join_all(threads)
    assert [f.result(T) for f in fs] == [2 ** i for i in range(10)]


def test_worker_keeps_no_reference_to_the_call(futures_mod):
    class Obj:
        def method(self):
            return 1

    with futures_mod.ThreadPoolExecutor(1) as ex:
        obj = Obj()
        ref = weakref.ref(obj)
        assert ex.submit(obj.method).result(T) == 1
        del obj
        gc.collect()
        # Let the worker go back to waiting (another round trip), then check.
        ex.submit(int).result(T)
        gc.collect()
        assert ref() is None


# ---------------------------------------------------------------------------------------------
# initializer


def test_initializer_runs_in_each_worker(futures_mod):
    seen = []
    lock = threading.Lock()

    def init(tag):
        with lock:
            seen.append((tag, threading.current_thread().name))

    with futures_mod.ThreadPoolExecutor(2, thread_name_prefix="i", initializer=init,
                                        initargs=("x",)) as ex:
        release, fs, started = blocked(ex, 2)
        acquire_n(started, 2)
        release.set()
    assert sorted(seen) == [("x", "i_0"), ("x", "i_1")]


def test_failing_initializer_breaks_the_pool(futures_mod, caplog):
    submitted = threading.Event()

    def init():
        assert submitted.wait(T)
        raise ValueError("init failed")

    ex = futures_mod.ThreadPoolExecutor(1, initializer=init)
    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        fs = [ex.submit(int) for _ in range(3)]
        submitted.set()
        for f in fs:
            with pytest.raises(cf.thread.BrokenThreadPool):
                f.result(T)
        join_all(list(ex._threads))
    assert any("Exception in initializer:" in r.getMessage() for r in caplog.records)
    assert isinstance(ex._broken, str) and "initializer failed" in ex._broken
    with pytest.raises(cf.thread.BrokenThreadPool, match="initializer failed"):
        ex.submit(int)
    ex.shutdown()


# ---------------------------------------------------------------------------------------------
# Future, standalone


def future_script(fut_mod, steps):
    f = fut_mod.Future()
    return [outcome(lambda s=s: s(f)) for s in steps]


SCRIPTS = {
    "set_result": [lambda f: f.set_result(5), lambda f: f.result(), lambda f: f.exception(),
                   lambda f: f.done(), lambda f: f._state, lambda f: f._result],
    "set_result twice": [lambda f: f.set_result(5), lambda f: type(f.set_result(6))],
    "set_exception": [lambda f: f.set_exception(KeyError("k")), lambda f: f.result(),
                      lambda f: type(f.exception()), lambda f: f._state],
    "set_exception after result": [lambda f: f.set_result(1),
                                   lambda f: f.set_exception(KeyError())],
    "cancel pending": [lambda f: f.cancel(), lambda f: f.cancel(), lambda f: f.cancelled(),
                       lambda f: f.done(), lambda f: f._state, lambda f: f.result(),
                       lambda f: f.exception(), lambda f: f.set_result(1),
                       lambda f: f.set_running_or_notify_cancel(), lambda f: f._state],
    "cancel then notify twice": [lambda f: f.cancel(),
                                 lambda f: f.set_running_or_notify_cancel(),
                                 lambda f: f.set_running_or_notify_cancel()],
    "running": [lambda f: f.set_running_or_notify_cancel(), lambda f: f.running(),
                lambda f: f.cancel(), lambda f: f._state,
                lambda f: f.set_running_or_notify_cancel(), lambda f: f.set_result(2),
                lambda f: f.result(), lambda f: f.running()],
    "finished then notify": [lambda f: f.set_result(1),
                             lambda f: f.set_running_or_notify_cancel()],
    "pending timeouts": [lambda f: f.result(0), lambda f: f.exception(0.001),
                         lambda f: f.result(timeout=-5), lambda f: f._state],
    "set_result None": [lambda f: f.set_result(None), lambda f: f.result(),
                        lambda f: f.exception()],
    "falsy exception": [lambda f: f.set_exception(None), lambda f: f.result(),
                        lambda f: f.exception()],
}


def normalise(results):
    """Replaces addresses in messages (InvalidStateError's repr of the future)."""
    out = []
    for kind, value in results:
        if isinstance(value, str):
            value = re.sub(r"0x[0-9a-f]+", "0x", value)
        out.append((kind, value))
    return out


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_future_state_machine_matches_stdlib(name):
    steps = SCRIPTS[name]
    assert normalise(future_script(tf, steps)) == normalise(future_script(cf, steps))


def test_future_repr(futures_mod):
    f = futures_mod.Future()
    assert re.fullmatch(r"<Future at 0x[0-9a-f]+ state=pending>", repr(f))
    f.set_running_or_notify_cancel()
    assert "state=running>" in repr(f)
    f.set_result([1])
    assert repr(f).endswith("state=finished returned list>")
    g = futures_mod.Future()
    g.set_exception(KeyError())
    assert repr(g).endswith("state=finished raised KeyError>")
    h = futures_mod.Future()
    h.cancel()
    assert repr(h).endswith("state=cancelled>")


def test_result_reraises_the_same_exception_object(futures_mod):
    f = futures_mod.Future()
    e = KeyError("same")
    f.set_exception(e)
    for _ in range(2):
        with pytest.raises(KeyError) as info:
            f.result()
        assert info.value is e
    assert f.exception() is e


def test_done_callbacks(futures_mod):
    f = futures_mod.Future()
    calls = []
    f.add_done_callback(lambda g: calls.append(("a", g is f, g.done())))
    f.add_done_callback(lambda g: calls.append(("b", g.result())))
    assert calls == []
    f.set_result(4)
    assert calls == [("a", True, True), ("b", 4)]
    f.add_done_callback(lambda g: calls.append("late"))
    assert calls[-1] == "late"


def test_done_callback_on_cancel(futures_mod):
    f = futures_mod.Future()
    calls = []
    f.add_done_callback(lambda g: calls.append(g.cancelled()))
    assert f.cancel()
    assert calls == [True]
    f.cancel()
    assert calls == [True]


def test_callback_exception_is_logged(futures_mod, caplog):
    f = futures_mod.Future()
    calls = []

    def bad(g):
        raise ValueError("callback failed")

    f.add_done_callback(bad)
    f.add_done_callback(calls.append)
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        f.set_result(1)
        f.add_done_callback(bad)
    assert calls == [f]
    msgs = [r for r in caplog.records if r.getMessage().startswith("exception calling callback for")]
    assert len(msgs) == 2
    assert msgs[0].exc_info[0] is ValueError
    assert repr(f) in msgs[0].getMessage()


def test_callback_base_exception_propagates(futures_mod):
    f = futures_mod.Future()
    f.add_done_callback(lambda g: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        f.set_result(1)
    assert f.done()


def test_callbacks_run_in_the_worker(executor):
    release, (f,), started = blocked(executor)
    seen = []
    done = threading.Event()
    f.add_done_callback(lambda g: (seen.append(threading.current_thread()), done.set()))
    release.set()
    assert done.wait(T)
    assert seen[0] in executor._threads


def test_done_callbacks_attribute(futures_mod):
    f = futures_mod.Future()

    def cb(g):
        pass

    f.add_done_callback(cb)
    assert f._done_callbacks == [cb]


def test_waiting_thread_wakes_on_set_result(futures_mod):
    f = futures_mod.Future()
    got = []
    t = start_thread(lambda: got.append(f.result(T)))
    f.set_result("hello")
    join_all([t])
    assert got == ["hello"]


def test_waiting_thread_wakes_on_cancel(futures_mod):
    f = futures_mod.Future()
    got = []
    t = start_thread(lambda: got.append(outcome(lambda: f.result(T))))
    f.cancel()
    join_all([t])
    assert got == [(cf.CancelledError, "")]


def test_generic_alias(futures_mod):
    assert futures_mod.Future[int].__origin__ is futures_mod.Future


# ---------------------------------------------------------------------------------------------
# wait / as_completed, across implementations


def finished(mod, value):
    f = mod.Future()
    f.set_result(value)
    return f


def failed(mod):
    f = mod.Future()
    f.set_exception(ValueError())
    return f


def cancelled(mod):
    f = mod.Future()
    f.cancel()
    f.set_running_or_notify_cancel()
    return f


WAITS = [cf.wait, tf.wait]
AS_COMPLETEDS = [cf.as_completed, tf.as_completed]
MODS = [cf, tf]


@pytest.mark.parametrize("wait", WAITS, ids=["cf.wait", "tf.wait"])
def test_wait_already_done_mixed(wait):
    fs = [finished(cf, 1), finished(tf, 2), cancelled(tf), cancelled(cf), failed(tf)]
    done, not_done = wait(fs)
    assert done == set(fs) and not_done == set()


@pytest.mark.parametrize("wait", WAITS, ids=["cf.wait", "tf.wait"])
def test_wait_timeout_mixed(wait):
    pending = [tf.Future(), cf.Future()]
    fs = pending + [finished(tf, 1)]
    done, not_done = wait(fs, timeout=0.01)
    assert not_done == set(pending) and len(done) == 1
    # The waiters were removed.
    assert all(f._waiters == [] for f in fs)


@pytest.mark.parametrize("wait", WAITS, ids=["cf.wait", "tf.wait"])
@pytest.mark.parametrize("mod", MODS, ids=["cf", "tf"])
def test_wait_first_completed_wakes_on_other_thread(wait, mod):
    fs = [mod.Future(), tf.Future(), cf.Future()]
    t = start_thread(fs[0].set_result, 1)
    done, not_done = wait(fs, timeout=T, return_when=cf.FIRST_COMPLETED)
    join_all([t])
    assert done == {fs[0]} and not_done == set(fs[1:])


@pytest.mark.parametrize("wait", WAITS, ids=["cf.wait", "tf.wait"])
@pytest.mark.parametrize("mod", MODS, ids=["cf", "tf"])
def test_wait_first_exception(wait, mod):
    a, b, c = mod.Future(), tf.Future(), cf.Future()
    a.set_result(1)
    t = start_thread(b.set_exception, ValueError())
    done, not_done = wait([a, b, c], timeout=T, return_when=cf.FIRST_EXCEPTION)
    join_all([t])
    assert done == {a, b} and not_done == {c}
    # An exception already there returns at once.
    done, not_done = wait([a, b, c], timeout=T, return_when=cf.FIRST_EXCEPTION)
    assert done == {a, b}


@pytest.mark.parametrize("wait", WAITS, ids=["cf.wait", "tf.wait"])
def test_wait_all_completed_with_cancel_notification(wait):
    fs = [tf.Future(), cf.Future(), tf.Future()]
    fs[2].cancel()

    def complete():
        fs[0].set_result(1)
        fs[1].set_result(2)
        fs[2].set_running_or_notify_cancel()

    t = start_thread(complete)
    done, not_done = wait(fs, timeout=T)
    join_all([t])
    assert done == set(fs) and not not_done


@pytest.mark.parametrize("wait", WAITS, ids=["cf.wait", "tf.wait"])
def test_wait_invalid_return_when(wait):
    assert outcome(lambda: wait([tf.Future()], return_when="nope")) == (
        ValueError, "Invalid return condition: 'nope'")


@pytest.mark.parametrize("as_completed", AS_COMPLETEDS, ids=["cf", "tf"])
def test_as_completed_mixed(as_completed):
    done_before = [finished(tf, 0), finished(cf, 1)]
    pending = [tf.Future(), cf.Future(), tf.Future()]
    order = []

    def complete():
        for i, f in enumerate(pending):
            f.set_result(i + 10)

    t = start_thread(complete)
    for f in as_completed(done_before + pending + [pending[0]], timeout=T):
        order.append(f.result())
    join_all([t])
    assert sorted(order) == [0, 1, 10, 11, 12]
    assert all(f._waiters == [] for f in done_before + pending)


@pytest.mark.parametrize("as_completed", AS_COMPLETEDS, ids=["cf", "tf"])
def test_as_completed_timeout(as_completed):
    fs = [finished(tf, 1), tf.Future(), cf.Future()]
    it = as_completed(fs, timeout=0.01)
    assert next(it) is fs[0]
    assert outcome(lambda: next(it)) == (TimeoutError, "2 (of 3) futures unfinished")
    assert all(f._waiters == [] for f in fs)


@pytest.mark.parametrize("mod", MODS, ids=["cf", "tf"])
def test_wait_on_pool_futures(mod):
    with tf.ThreadPoolExecutor(4) as ex:
        fs = [ex.submit(pow, i, 2) for i in range(200)]
        done, not_done = mod.wait(fs, timeout=T)
        assert not not_done
        assert sorted(f.result() for f in mod.as_completed(fs, timeout=T)) == sorted(
            i * i for i in range(200))


def test_as_completed_on_running_pool_futures_sees_each_once():
    with tf.ThreadPoolExecutor(4) as ex:
        release, fs, started = blocked(ex, 8)
        extra = [ex.submit(pow, 3, i) for i in range(8)]
        std = [cf.Future() for _ in range(3)]
        t = start_thread(lambda: (release.set(), [s.set_result(None) for s in std]))
        seen = list(cf.as_completed(fs + extra + std, timeout=T))
        join_all([t])
    assert len(seen) == len(set(seen)) == 19


def test_condition_protocol():
    f = tf.Future()
    c = f._condition
    assert c is f._condition
    with f._condition:
        assert f._state == "PENDING"
        assert f._waiters == []
    # A completion notifies the condition (code that waits on it directly still works).
    got = []

    def waiter():
        with f._condition:
            while f._state != "FINISHED":
                f._condition.wait(T)
            got.append(f._result)

    t = start_thread(waiter)
    f.set_result(9)
    join_all([t])
    assert got == [9]


def test_condition_is_reentrant_as_stdlib():
    for mod in MODS:
        f = mod.Future()
        with f._condition:
            f.set_result(1)  # the stdlib's RLock lets the holder complete the future
            assert f.exception() is None
        assert f.result() == 1


# ---------------------------------------------------------------------------------------------
# asyncio


def test_run_in_executor():
    async def main(ex):
        loop = asyncio.get_running_loop()
        a = await loop.run_in_executor(ex, pow, 2, 10)
        b = await asyncio.gather(*(loop.run_in_executor(ex, abs, -i) for i in range(50)))
        with pytest.raises(ZeroDivisionError):
            await loop.run_in_executor(ex, divmod, 1, 0)
        return a, b

    with tf.ThreadPoolExecutor(4) as ex:
        a, b = asyncio.run(main(ex))
    assert a == 1024 and b == list(range(50))


def test_default_executor_is_accepted():
    async def main():
        loop = asyncio.get_running_loop()
        ex = tf.ThreadPoolExecutor(2, thread_name_prefix="aio")
        loop.set_default_executor(ex)
        return await loop.run_in_executor(None, lambda: threading.current_thread().name)

    assert asyncio.run(main()).startswith("aio_")


def test_wrap_future_result_and_exception():
    async def main():
        ok, bad = tf.Future(), tf.Future()
        w_ok, w_bad = asyncio.wrap_future(ok), asyncio.wrap_future(bad)
        loop = asyncio.get_running_loop()
        loop.call_soon(ok.set_result, "v")
        threading.Thread(target=bad.set_exception, args=(KeyError("k"),)).start()
        assert await w_ok == "v"
        with pytest.raises(KeyError):
            await w_bad

    asyncio.run(main())


def test_cancelling_the_asyncio_future_cancels_ours():
    async def main(ex):
        release, (running,), started = blocked(ex)
        queued = ex.submit(int)
        w = asyncio.wrap_future(queued)
        w.cancel()
        with pytest.raises(asyncio.CancelledError):
            await w
        # The cancellation reaches our future through a callback the loop runs next.
        for _ in range(100):
            if queued.cancelled():
                break
            await asyncio.sleep(0)
        release.set()
        return queued

    with tf.ThreadPoolExecutor(1) as ex:
        queued = asyncio.run(main(ex))
    assert queued.cancelled()


def test_wait_for_timeout_on_run_in_executor():
    async def main(ex, release):
        loop = asyncio.get_running_loop()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(loop.run_in_executor(ex, release.wait, T), 0.01)
        release.set()

    release = threading.Event()
    with tf.ThreadPoolExecutor(1) as ex:
        asyncio.run(main(ex, release))


# ---------------------------------------------------------------------------------------------
# misc


def test_submit_from_many_threads_spawns_at_most_max_workers():
    with tf.ThreadPoolExecutor(3) as ex:
        release = threading.Event()
        fs = []
        lock = threading.Lock()

        def submitter():
            for _ in range(20):
                f = ex.submit(release.wait, T)
                with lock:
                    fs.append(f)

        join_all([start_thread(submitter) for _ in range(8)])
        assert len(ex._threads) == 3
        assert sorted(t.name.rsplit("_", 1)[1] for t in ex._threads) == ["0", "1", "2"]
        release.set()
        assert all(f.result(T) for f in fs)


def test_work_queue_introspection():
    with tf.ThreadPoolExecutor(1) as ex:
        release, (f,), started = blocked(ex)
        acquire_n(started, 1)
        queued = [ex.submit(int) for _ in range(3)]
        assert ex._work_queue.qsize() == 3 and not ex._work_queue.empty()
        release.set()
    assert all(q.done() for q in queued)


def test_max_workers_float(futures_mod):
    with futures_mod.ThreadPoolExecutor(1.5) as ex:
        release, fs, started = blocked(ex, 3)
        acquire_n(started, 2)
        assert len(ex._threads) == 2
        release.set()

# Parts of this file follow CPython 3.13's Lib/concurrent/futures/_base.py closely (identical in
# 3.11 and 3.12): wait(), as_completed() and their helpers and waiters, and Future's docstrings;
# ThreadPoolExecutor's argument handling follows Lib/concurrent/futures/thread.py.
# Copyright (c) 2001-2024 Python Software Foundation; All Rights Reserved. Those parts are
# used under the PSF License Version 2: see LICENSES/PSF-2.0.txt and LICENSES/README.md.

"""Drop-in replacement for :mod:`concurrent.futures`' thread pool.

``from threadkit.futures import ThreadPoolExecutor`` and change nothing else. The whole
namespace of :mod:`concurrent.futures` is here: ``Future``, ``wait``, ``as_completed``, the
``FIRST_COMPLETED``/``FIRST_EXCEPTION``/``ALL_COMPLETED`` constants, the standard library's own
exception classes (``CancelledError``, ``TimeoutError``, ``BrokenExecutor``,
``InvalidStateError``, ``BrokenThreadPool``) and ``ProcessPoolExecutor``, re-exported from the
standard library.

The futures are instances of ``concurrent.futures.Future``, so the standard library's ``wait``
and ``as_completed``, asyncio's ``loop.run_in_executor`` and ``asyncio.wrap_future`` accept them,
and this module's ``wait`` and ``as_completed`` accept the standard library's futures. Their
state and the pool's work queue live in Rust; tasks, done-callbacks and the waiters of
``wait``/``as_completed`` run here, in Python frames. Every wait (``result()``, ``exception()``,
``wait()``, ``as_completed()``, ``shutdown(wait=True)``) blocks in Rust, interruptible by Ctrl-C
on the main thread.
"""

import math as _math
import os as _os
import sys as _sys
import threading as _std_threading
import time as _time
import weakref as _weakref

import concurrent.futures as _cf
from concurrent.futures import (  # noqa: F401  (the namespace)
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    BrokenExecutor,
    CancelledError,
    Executor,
    InvalidStateError,
    TimeoutError,
)
from concurrent.futures.thread import BrokenThreadPool

from threadkit import _compat, _core
from threadkit import threading as _threading

# The standard library's list, as this version has it.
__all__ = tuple(_cf.__all__)

# What the Rust half's `_cancel`, `_start`, `_finish` and `_fail` return, as `_core` names it:
# bits saying the `_condition` lock is held (call the waiters, notify, release it), there are
# done-callbacks to invoke, the future is cancelled; `_start`'s "now running"; "already done".
_LOCKED = _core.FUTURE_LOCKED
_CALLBACKS = _core.FUTURE_CALLBACKS
_CANCELLED = _core.FUTURE_CANCELLED
_RUNNING = _core.FUTURE_RUNNING
_INVALID = _core.FUTURE_INVALID

_CANCELLED_OR_FINISHED = (_compat.CANCELLED_AND_NOTIFIED, _compat.FINISHED)
_STATE_TO_DESCRIPTION_MAP = _compat.STATE_TO_DESCRIPTION_MAP
LOGGER = _compat.LOGGER


class _FutureType(type):
    """Makes ``isinstance(f, threadkit.futures.Future)`` true for every
    ``concurrent.futures.Future`` (the standard library's, a ProcessPoolExecutor's...), as
    it is for code that imported ``Future`` from ``concurrent.futures``."""

    def __instancecheck__(cls, obj):
        if cls is Future:
            return isinstance(obj, _cf.Future)
        return type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub):
        if cls is Future:
            return issubclass(sub, _cf.Future)
        return type.__subclasscheck__(cls, sub)


class Future(_core.Future, _cf.Future, metaclass=_FutureType):
    """The result of an asynchronous computation: a ``concurrent.futures.Future`` whose state
    lives in Rust.

    The whole API of ``concurrent.futures.Future``, and its internal attributes that the
    standard library's ``wait``/``as_completed`` use (``_condition``, ``_state``, ``_waiters``,
    read-only ``_result``, ``_exception``, ``_done_callbacks``). Differs in that ``_condition``
    is a threadkit ``Condition`` over an ``RLock``, created the first time it is asked for (a
    subclass may assign its own, over a threadkit ``RLock``), and
    ``result()``/``exception()`` wait in Rust rather than on it.
    """

    # `object.__init__` directly: the state is made by the Rust constructor.
    __init__ = object.__init__

    def __repr__(self):
        state = self._state
        if state == _compat.FINISHED:
            exception = self._exception
            if exception:
                return "<%s at %#x state=%s raised %s>" % (
                    self.__class__.__name__,
                    id(self),
                    _STATE_TO_DESCRIPTION_MAP[state],
                    exception.__class__.__name__,
                )
            return "<%s at %#x state=%s returned %s>" % (
                self.__class__.__name__,
                id(self),
                _STATE_TO_DESCRIPTION_MAP[state],
                self._result.__class__.__name__,
            )
        return "<%s at %#x state=%s>" % (
            self.__class__.__name__,
            id(self),
            _STATE_TO_DESCRIPTION_MAP[state],
        )

    @property
    def _condition(self):
        """The condition the standard library's ``wait``/``as_completed`` lock."""
        condition = self._get_condition()
        if condition is None:
            # Not order-checked in debug mode: _AcquireFutures takes many futures' locks in
            # the order of their ids, an order lock classes (by creation line) cannot see.
            lock = _threading.RLock(order_checked=False)
            condition = self._set_condition(_threading.Condition(lock), lock)
        return condition

    @_condition.setter
    def _condition(self, condition):
        # A subclass that assigns its own condition in `__init__`, as the standard library's
        # `Future.__init__` does (`self._condition = threading.Condition()`): the state changes
        # take its lock from now on, so `with self._condition:` in the subclass excludes them.
        lock = getattr(condition, "_lock", None)
        if not isinstance(lock, _core.RLock):
            raise TypeError(
                "threadkit's Future._condition must be a Condition over a threadkit RLock, "
                "such as threadkit.threading.Condition() (threading.Condition() under "
                "python -m threadkit), not %r" % (condition,)
            )
        self._set_condition(condition, lock, True)

    def _after(self, flags, method):
        """What a state change left to Python: with ``_LOCKED`` (the condition's lock held),
        call each waiter's ``method``, notify and release; with ``_CALLBACKS``, invoke them."""
        if flags & _LOCKED:
            condition = self._condition
            try:
                if method is not None:
                    for waiter in self._waiters:
                        getattr(waiter, method)(self)
                condition.notify_all()
            finally:
                condition.release()
        if flags & _CALLBACKS:
            self._invoke_callbacks()

    def cancel(self):
        """Cancel the future if possible.

        Returns True if the future was cancelled, False otherwise. A future
        cannot be cancelled if it is running or has already completed.
        """
        r = self._cancel()
        if r & (_LOCKED | _CALLBACKS):
            self._after(r, None)
        return bool(r & _CANCELLED)

    def add_done_callback(self, fn):
        """Attaches a callable that will be called when the future finishes.

        Args:
            fn: A callable that will be called with this future as its only
                argument when the future completes or is cancelled. The callable
                will always be called by a thread in the same process in which
                it was added. If the future has already completed or been
                cancelled then the callable will be called immediately. These
                callables are called in the order that they were added.
        """
        if self._add_callback(fn):
            return
        try:
            fn(self)
        except Exception:
            LOGGER.exception("exception calling callback for %r", self)

    def set_running_or_notify_cancel(self):
        """Mark the future as running or process any cancel notifications.

        Should only be used by Executor implementations and unit tests.

        Returns False if the Future was cancelled, True otherwise; raises RuntimeError if this
        method was already called or if set_result() or set_exception() was called.
        """
        r = self._start()
        if r == _RUNNING:
            return True
        if r == _INVALID:
            LOGGER.critical("Future %s in unexpected state: %s", id(self), self._state)
            raise RuntimeError("Future in unexpected state")
        # Cancelled: with _LOCKED, its waiters are told.
        self._after(r, "add_cancelled")
        return False

    def set_result(self, result):
        """Sets the return value of work associated with the future.

        Should only be used by Executor implementations and unit tests.
        """
        r = self._finish(result)
        if r:
            if r == _INVALID:
                raise InvalidStateError("{}: {!r}".format(self._state, self))
            self._after(r, "add_result")

    def set_exception(self, exception):
        """Sets the result of the future as being the given exception.

        Should only be used by Executor implementations and unit tests.
        """
        r = self._fail(exception)
        if r:
            if r == _INVALID:
                raise InvalidStateError("{}: {!r}".format(self._state, self))
            self._after(r, "add_exception")


# ---------------------------------------------------------------------------------------------
# wait / as_completed: the standard library's algorithm, over any futures (ours and its own),
# with waiters whose event blocks in Rust.


class _Waiter(_compat.Waiter):
    def __init__(self):
        self.event = _threading.Event()
        self.finished_futures = []


class _AsCompletedWaiter(_compat.AsCompletedWaiter):
    def __init__(self):
        self.event = _threading.Event()
        self.finished_futures = []
        self.lock = _threading.Lock()


class _FirstCompletedWaiter(_compat.FirstCompletedWaiter):
    def __init__(self):
        self.event = _threading.Event()
        self.finished_futures = []


class _AllCompletedWaiter(_compat.AllCompletedWaiter):
    def __init__(self, num_pending_calls, stop_on_exception):
        self.num_pending_calls = num_pending_calls
        self.stop_on_exception = stop_on_exception
        self.lock = _threading.Lock()
        self.event = _threading.Event()
        self.finished_futures = []


class _AcquireFutures:
    """A context manager that does an ordered acquire of Future conditions."""

    def __init__(self, futures):
        self.futures = sorted(futures, key=id)

    def __enter__(self):
        taken = []
        try:
            for future in self.futures:
                condition = future._condition
                condition.acquire()
                taken.append(condition)
        except BaseException:
            # Nothing left locked (an acquire interrupted by Ctrl-C, say): the standard
            # library's leaves the ones taken so far held.
            for condition in reversed(taken):
                condition.release()
            raise

    def __exit__(self, *args):
        for future in self.futures:
            future._condition.release()


def _create_and_install_waiters(fs, return_when):
    if return_when == _compat.AS_COMPLETED:
        waiter = _AsCompletedWaiter()
    elif return_when == FIRST_COMPLETED:
        waiter = _FirstCompletedWaiter()
    else:
        pending_count = sum(f._state not in _CANCELLED_OR_FINISHED for f in fs)
        if return_when == FIRST_EXCEPTION:
            waiter = _AllCompletedWaiter(pending_count, stop_on_exception=True)
        elif return_when == ALL_COMPLETED:
            waiter = _AllCompletedWaiter(pending_count, stop_on_exception=False)
        else:
            raise ValueError("Invalid return condition: %r" % return_when)
    for f in fs:
        f._waiters.append(waiter)
    return waiter


def _yield_finished_futures(fs, waiter, ref_collect):
    """Yield the futures of the list ``fs`` one by one, last first, each removed from its
    waiters and from every set in ``ref_collect`` first (no stale references kept)."""
    while fs:
        f = fs[-1]
        for futures_set in ref_collect:
            futures_set.remove(f)
        with f._condition:
            f._waiters.remove(waiter)
        del f
        yield fs.pop()


def as_completed(fs, timeout=None):
    """An iterator over the given futures that yields each as it completes.

    Args:
        fs: The sequence of Futures (possibly created by different Executors) to
            iterate over.
        timeout: The maximum number of seconds to wait. If None, then there
            is no limit on the wait time.

    Returns:
        An iterator that yields the given Futures as they complete (finished or
        cancelled). If any given Futures are duplicated, they will be returned
        once.

    Raises:
        TimeoutError: If the entire result iterator could not be generated
            before the given timeout.
    """
    if timeout is not None:
        end_time = timeout + _time.monotonic()

    fs = set(fs)
    total_futures = len(fs)
    with _AcquireFutures(fs):
        finished = set(f for f in fs if f._state in _CANCELLED_OR_FINISHED)
        pending = fs - finished
        waiter = _create_and_install_waiters(fs, _compat.AS_COMPLETED)
    finished = list(finished)
    try:
        yield from _yield_finished_futures(finished, waiter, ref_collect=(fs,))

        while pending:
            if timeout is None:
                wait_timeout = None
            else:
                wait_timeout = end_time - _time.monotonic()
                if wait_timeout < 0:
                    raise TimeoutError(
                        "%d (of %d) futures unfinished" % (len(pending), total_futures)
                    )

            waiter.event.wait(wait_timeout)

            with waiter.lock:
                finished = waiter.finished_futures
                waiter.finished_futures = []
                waiter.event.clear()

            # reverse to keep finishing order
            finished.reverse()
            yield from _yield_finished_futures(finished, waiter, ref_collect=(fs, pending))

    finally:
        # Remove waiter from unfinished futures
        for f in fs:
            with f._condition:
                f._waiters.remove(waiter)


DoneAndNotDoneFutures = _compat.DoneAndNotDoneFutures


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Wait for the futures in the given sequence to complete.

    Args:
        fs: The sequence of Futures (possibly created by different Executors) to
            wait upon.
        timeout: The maximum number of seconds to wait. If None, then there
            is no limit on the wait time.
        return_when: Indicates when this function should return. The options
            are:

            FIRST_COMPLETED - Return when any future finishes or is
                              cancelled.
            FIRST_EXCEPTION - Return when any future finishes by raising an
                              exception. If no future raises an exception
                              then it is equivalent to ALL_COMPLETED.
            ALL_COMPLETED -   Return when all futures finish or are cancelled.

    Returns:
        A named 2-tuple of sets. The first set, named 'done', contains the
        futures that completed (is finished or cancelled) before the wait
        completed. The second set, named 'not_done', contains uncompleted
        futures. Duplicate futures given to *fs* are removed and will be
        returned only once.
    """
    fs = set(fs)
    with _AcquireFutures(fs):
        done = {f for f in fs if f._state in _CANCELLED_OR_FINISHED}
        not_done = fs - done
        if (return_when == FIRST_COMPLETED) and done:
            return DoneAndNotDoneFutures(done, not_done)
        elif (return_when == FIRST_EXCEPTION) and done:
            if any(f for f in done if not f.cancelled() and f.exception() is not None):
                return DoneAndNotDoneFutures(done, not_done)

        if len(done) == len(fs):
            return DoneAndNotDoneFutures(done, not_done)

        waiter = _create_and_install_waiters(fs, return_when)

    waiter.event.wait(timeout)
    for f in fs:
        with f._condition:
            f._waiters.remove(waiter)

    done.update(waiter.finished_futures)
    return DoneAndNotDoneFutures(done, fs - done)


# ---------------------------------------------------------------------------------------------
# ThreadPoolExecutor

_threads_queues = _weakref.WeakKeyDictionary()


def _python_exit():
    """At interpreter exit (before non-daemon threads are joined): no new work; workers finish
    what is queued, then exit; wait for them."""
    _core._begin_interpreter_shutdown()
    items = list(_threads_queues.items())
    for t, q in items:
        q.close()
    for t, q in items:
        t.join()


# As CPython's pool: run before the interpreter joins non-daemon threads.
_compat.register_atexit(_python_exit)


def _after_fork_in_child():
    _core._futures_after_fork(True)
    for q in set(_threads_queues.values()):
        q._at_fork_reinit()
    _threads_queues.clear()


if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(
        before=_core._futures_before_fork,
        after_in_parent=lambda: _core._futures_after_fork(False),
        after_in_child=_after_fork_in_child,
    )


# A worker's queue, to recognise `shutdown(wait=True)` called from a task.
_worker_local = _std_threading.local()


def _worker(executor_reference, work_queue, initializer, initargs):
    """A worker thread's loop: run queued calls until the queue is closed and empty."""
    _worker_local.queue = work_queue
    try:
        # First: from now on a future queued in the pool may count on this thread (deadlock
        # detection: a future queued behind workers that all wait for it never runs).
        work_queue.worker_started()
        if initializer is not None:
            try:
                initializer(*initargs)
            except BaseException:
                LOGGER.critical("Exception in initializer:", exc_info=True)
                executor = executor_reference()
                if executor is not None:
                    executor._initializer_failed()
                return
        pop = work_queue.pop
        try:
            while True:
                item = pop()
                if item is None:
                    return
                f, fn, args, kwargs = item
                item = None
                state = f._start()
                if state == _RUNNING:
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as exc:
                        state = f._fail(exc)
                        if state:
                            _completed(f, state, "add_exception")
                    else:
                        state = f._finish(result)
                        if state:
                            _completed(f, state, "add_result")
                        result = None
                elif state:
                    _not_started(f, state)
                # Keep no reference to the call or its result while waiting for the next one.
                f = fn = args = kwargs = None
        except BaseException:
            LOGGER.critical("Exception in worker", exc_info=True)
    finally:
        work_queue.worker_exited()


def _completed(f, flags, method):
    if flags == _INVALID:
        # Someone else completed the future while it ran: CPython's worker dies of the
        # InvalidStateError; this one logs it as CPython does and goes on.
        try:
            raise InvalidStateError("{}: {!r}".format(f._state, f))
        except InvalidStateError:
            LOGGER.critical("Exception in worker", exc_info=True)
        return
    f._after(flags, method)


def _not_started(f, state):
    if state == _INVALID:
        LOGGER.critical("Future %s in unexpected state: %s", id(f), f._state)
    else:
        # Cancelled, and its waiters must be told (_LOCKED).
        f._after(state, "add_cancelled")


_cpu_count = getattr(_os, "process_cpu_count", _os.cpu_count)


class ThreadPoolExecutor(_cf.ThreadPoolExecutor):
    """A thread pool, as ``concurrent.futures.ThreadPoolExecutor`` (and an instance of it, so
    ``asyncio``'s ``loop.set_default_executor`` accepts it).

    Same arguments, defaults, validation, thread names (``<prefix>_N``), laziness (a worker
    starts only when no idle one can take the call) and shutdown semantics. The work queue and
    the futures' state are threadkit's, in Rust; the workers are threadkit threads running a
    Python loop. Differs in two details: a worker whose future was completed by someone else
    while it ran logs the error and goes on (CPython's worker dies), and ``_work_queue`` is the
    pool's Rust state, a ``threadkit._core.ThreadPool`` (``qsize()``, ``empty()``), not a
    ``queue.SimpleQueue``.
    """

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        """Initializes a new ThreadPoolExecutor instance.

        Args:
            max_workers: The maximum number of threads that can be used to
                execute the given calls.
            thread_name_prefix: An optional name prefix to give our threads.
            initializer: A callable used to initialize worker threads.
            initargs: A tuple of arguments to pass to the initializer.
        """
        if max_workers is None:
            max_workers = min(32, (_cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")

        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")

        self._max_workers = max_workers
        limit = max_workers if isinstance(max_workers, int) else _math.ceil(max_workers)
        self._work_queue = _core.ThreadPool(Future, min(limit, _sys.maxsize))
        self._threads = set()
        self._shutdown_lock = _threading.Lock()
        self._thread_name_prefix = thread_name_prefix or (
            "ThreadPoolExecutor-%d" % self._counter()
        )
        self._initializer = initializer
        self._initargs = initargs

    @property
    def _shutdown(self):
        return self._work_queue.is_shutdown

    @property
    def _broken(self):
        broken = self._work_queue.broken
        return False if broken is None else broken

    def submit(self, fn, /, *args, **kwargs):
        f, n = self._work_queue.submit(fn, args, kwargs)
        if n is not None:
            self._start_worker(n)
        return f

    submit.__doc__ = Executor.submit.__doc__

    def _adjust_thread_count(self):
        # The decision is made in `submit` (Rust), which asks for `_start_worker`.
        pass

    def _start_worker(self, n):
        # When the executor gets lost, the weakref callback closes the queue: the workers
        # finish what it holds, then exit.
        def weakref_cb(_, q=self._work_queue):
            q.close()

        t = _threading.Thread(
            name="%s_%d" % (self._thread_name_prefix or self, n),
            target=_worker,
            args=(
                _weakref.ref(self, weakref_cb),
                self._work_queue,
                self._initializer,
                self._initargs,
            ),
        )
        try:
            t.start()
        except BaseException:
            self._work_queue.worker_exited()
            raise
        self._threads.add(t)
        _threads_queues[t] = self._work_queue

    def _initializer_failed(self):
        with self._shutdown_lock:
            message = _core.BROKEN_INITIALIZER
            for f in self._work_queue.set_broken(message):
                try:
                    f.set_exception(BrokenThreadPool(message))
                except InvalidStateError:
                    pass  # cancelled meanwhile

    def shutdown(self, wait=True, *, cancel_futures=False):
        for f in self._work_queue.shutdown(cancel_futures):
            f.cancel()
        if wait:
            in_worker = getattr(_worker_local, "queue", None) is self._work_queue
            # Joining the current thread raises RuntimeError, as in CPython. The joins come
            # first: a join names the thread waited for, so a deadlock through a worker (it
            # waits for a lock this thread holds) is found.
            for t in list(self._threads):
                t.join()
            if in_worker:
                raise RuntimeError("cannot join current thread")
            # A worker still starting when the joins began is not in _threads yet.
            self._work_queue.wait_workers()
            for t in list(self._threads):
                t.join()

    shutdown.__doc__ = Executor.shutdown.__doc__


for _name in ("Future", "ThreadPoolExecutor", "wait", "as_completed"):
    globals()[_name].__module__ = __name__
del _name


def __getattr__(name):
    # ProcessPoolExecutor (and any newer name of the standard library's module), imported on
    # first use as the standard library does.
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(_cf, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(__all__) | set(globals()))

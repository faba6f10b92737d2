# Parts of this file follow CPython 3.13's Lib/threading.py closely: Condition.wait_for and the
# Condition over another lock (3.12's and 3.13's, which are the same), Thread's constructor,
# bootstrap and excepthook call (with 3.11's and 3.12's exit and fork paths), Timer, and the
# deprecated aliases.
# Copyright (c) 2001-2024 Python Software Foundation; All Rights Reserved. Those parts are
# used under the PSF License Version 2: see LICENSES/PSF-2.0.txt and LICENSES/README.md.

"""Drop-in replacement for the standard library's :mod:`threading`.

``import threadkit.threading as threading`` and change nothing else. Every public name of the
standard library's module is here. The synchronization primitives and the threads are
threadkit's, implemented in Rust; names not reimplemented are the standard library's own
objects, so the namespace is complete and behaves the same.

Names: every primitive (``Lock``, ``RLock``, ``Condition``, ``Semaphore``,
``BoundedSemaphore``, ``Event``, ``Barrier``) also takes a keyword-only ``name`` (a str) and
remembers the line of Python code that created it; deadlock reports, dumps and reprs show the
name, else the line: ``<locked threadkit.Lock object name='inventory' owner='restock' at
0x...>``, ``<threadkit.Event at 0x... site='app.py:12': unset>``.

Threads: the thread's state (started, finished, identifiers, name, daemon flag), its entry in
the Rust registry and the join live in the Rust core (``threadkit._core.Thread``). The OS
thread is started with ``_thread``'s own functions and runs a Python-level bootstrap, so Rust
never calls user code and no Rust frame lies under ``run()`` (ARCHITECTURE.md rule 1).

Interop with the standard library (ARCHITECTURE.md rule 6): ``Thread`` subclasses
``threading.Thread``, and a running threadkit thread is registered in the standard library's
``threading._active``, so ``threading.current_thread()``, ``threading.enumerate()``,
``threading.active_count()`` and logging's ``%(threadName)s`` see it. Process exit uses the
standard library's own mechanism of each version: on 3.11 and 3.12 a non-daemon thread puts its
thread-state lock (``_thread._set_sentinel()``) into ``threading._shutdown_locks``; from 3.13 the
thread is started with ``_thread.start_joinable_thread(daemon=...)``, whose non-daemon handles
``_thread._shutdown()`` waits for. So the interpreter waits for non-daemon threadkit threads at
exit exactly as for the standard library's, and never for daemon ones. Every private name of
the standard library involved is read through ``threadkit._compat``.
"""

import os as _os
import sys as _sys
import threading as _std
import _thread
from threading import *  # noqa: F401,F403  (the whole namespace; ours replace names below)
from time import monotonic as _time

from threadkit import _compat, _core
from threadkit._core import (
    BoundedSemaphore,
    Event,
    Lock,
    RLock,
    Semaphore,
    get_ident,
    get_native_id,
)

_core_get_ident = get_ident


def _get_ident():
    # `get_ident()` as the standard library's own code calls it: through its module's globals,
    # so that a replacement a program assigns (to observe thread start and exit) is called here
    # too, whether it was assigned to this module or to the standard library's `threading`
    # (which `import threading` reaches, through the stand-in, under `python -m threadkit`).
    f = get_ident
    if f is _core_get_ident:
        f = _std.get_ident
    return f()

__all__ = list(_std.__all__)

# CPython's alias of the lock factory.
_allocate_lock = Lock


class Condition(_core.Condition):
    """A condition variable, as ``threading.Condition``.

    Over threadkit's ``Lock`` or ``RLock`` (the default) waiting and notifying run in Rust.
    Over any other lock (the standard library's, or a user's class with ``acquire`` and
    ``release``) it runs CPython's algorithm with that lock's methods, as the standard library
    does. Differs from the standard library in one detail: ``_waiters`` is not a deque of locks;
    ``_waiter_count()`` gives how many threads wait.
    """

    __slots__ = ()

    def __new__(cls, lock=None, *, name=None, _label=None):
        if lock is not None and not isinstance(lock, (Lock, RLock)):
            cls = _other_lock_variant(cls)
        if name is None and _label is None:
            return super().__new__(cls, lock)  # no keywords to parse: the common case
        return super().__new__(cls, lock, name=name, _label=_label)

    def __init__(self, lock=None, *, name=None, _label=None):
        pass

    def __repr__(self):
        return "<Condition(%s, %d) %s>" % (self._lock, self._waiter_count(), self._repr_label())

    def wait_for(self, predicate, timeout=None):
        """Wait until ``predicate()`` is true, or until the timeout; return its last value."""
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = _time() + waittime
                else:
                    waittime = endtime - _time()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notifyAll(self):
        """Wake up all threads waiting on this condition.

        This method is deprecated, use notify_all() instead.
        """
        import warnings

        warnings.warn(
            "notifyAll() is deprecated, use notify_all() instead", DeprecationWarning, stacklevel=2
        )
        self.notify_all()


class _OtherLockCondition(Condition):
    """CPython's Condition algorithm, for a lock that is not threadkit's: the lock's methods
    run here, in Python; the waiter queue is threadkit's."""

    def __init__(self, lock=None, *, name=None, _label=None):
        self.acquire = lock.acquire
        self.release = lock.release
        if hasattr(lock, "_release_save"):
            self._release_save = lock._release_save
        if hasattr(lock, "_acquire_restore"):
            self._acquire_restore = lock._acquire_restore
        if hasattr(lock, "_is_owned"):
            self._is_owned = lock._is_owned

    def __enter__(self):
        return self._lock.__enter__()

    def __exit__(self, *args):
        return self._lock.__exit__(*args)

    def _release_save(self):
        self._lock.release()

    def _acquire_restore(self, x):
        self._lock.acquire()

    def _is_owned(self):
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        super()._at_fork_reinit()

    def wait(self, timeout=None):
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        ticket = self._enqueue()
        try:
            saved_state = self._release_save()
        except BaseException:
            self._cancel_ticket(ticket)
            raise
        try:
            return self._wait_ticket(ticket, timeout)
        finally:
            self._acquire_restore(saved_state)

    def notify(self, n=1):
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        if n > 0:
            self._notify_waiters(n)

    def notify_all(self):
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._notify_waiters(_sys.maxsize)


_other_lock_variants = {Condition: _OtherLockCondition}



def _other_lock_variant(cls):
    """``cls`` with the Python-level algorithm for other locks under its own methods."""
    try:
        return _other_lock_variants[cls]
    except KeyError:
        variant = type(cls.__name__, (cls, _OtherLockCondition), {"__module__": cls.__module__})
        _other_lock_variants[cls] = variant
        return variant


class Barrier(_core.Barrier):
    """A barrier for a fixed number of threads, as ``threading.Barrier``: each ``wait()``
    blocks until ``parties`` threads are waiting, then all are released together and each gets
    its arrival index. The optional ``action`` runs in the last thread to arrive, before the
    others are released; if it raises, the barrier breaks.

    Raises ``threading.BrokenBarrierError`` (the standard library's class). Differs from the
    standard library only in that ``Barrier(0)`` is ``ValueError`` on every version (3.11 and
    3.12 accept it and then wait forever).
    """

    def __init__(self, parties, action=None, timeout=None, *, name=None):
        if name is not None:
            _core._check_name(type(self).__name__, name)
        self._action = action
        self._timeout = timeout

    def __repr__(self):
        # The standard library's shape, with the name or creation site before the state.
        cls = self.__class__
        where = f"<{cls.__module__}.{cls.__qualname__} at {id(self):#x} {self._repr_label()}"
        if self.broken:
            return f"{where}: broken>"
        return f"{where}: waiters={self.n_waiting}/{self.parties}>"

    def wait(self, timeout=None):
        """Wait for the barrier; return this thread's arrival index (0 to parties-1)."""
        if timeout is None:
            timeout = self._timeout
        index, run_action = self._arrive(timeout)
        if run_action:
            action = self._action
            if action is not None:
                try:
                    action()
                except BaseException:
                    try:
                        self._complete_action(False)  # breaks the barrier
                    except BrokenBarrierError:
                        pass
                    raise
            return self._complete_action(True)
        return index


for _cls in (Condition, Barrier):
    _cls.__module__ = "threadkit"
del _cls


# ---------------------------------------------------------------------------------------------
# Threads and the module functions: threadkit's own. `local` stays the standard library's (C,
# and right); `excepthook`, `ExceptHookArgs`, `settrace`, `setprofile` (and their
# `_all_threads` variants) stay the standard library's so that one hook applies to threads of
# both; the exception classes are the standard library's (ARCHITECTURE.md rule 5).

# The standard library's registry of running threads (see _compat): the dicts are never
# replaced, the lock guarding them is (after fork): `_compat.active_limbo_lock()` on each use.
_std_active = _compat.active
_std_limbo = _compat.limbo

TIMEOUT_MAX = _thread.TIMEOUT_MAX
"""The largest timeout a blocking function accepts (``threading.TIMEOUT_MAX``)."""

# The hook shared with the standard library, as threadkit.threading exports it: a replacement
# assigned to either module's ``excepthook`` is honoured.
_shared_excepthook = _std.excepthook
_sys_excepthook_at_import = _sys.excepthook


def _current_excepthook():
    """The hook to call: a replacement set on ``threadkit.threading`` first, then
    ``threading.excepthook``, then the standard library's original."""
    tk = _sys.modules.get("threadkit.threading")
    hook = getattr(tk, "excepthook", _shared_excepthook) if tk is not None else None
    if hook is None or hook is _shared_excepthook:
        hook = getattr(_std, "excepthook", None)
    if hook is None:
        hook = _shared_excepthook
    return hook


def _invoke_excepthook(thread):
    """Report the exception being handled (escaped from ``thread.run()``), as CPython's
    ``threading._make_invoke_excepthook()`` does: ``excepthook(ExceptHookArgs(...))``; if the
    hook itself raises, print that with ``sys.excepthook``."""
    try:
        hook = _current_excepthook()
        args = _std.ExceptHookArgs([*_sys.exc_info(), thread])
        hook(args)
    except Exception as exc:
        exc.__suppress_context__ = True
        del exc
        stderr = _sys.stderr if _sys is not None and _sys.stderr is not None else thread._stderr
        print("Exception in threading.excepthook:", file=stderr, flush=True)
        sys_excepthook = _sys.excepthook
        if sys_excepthook is None:
            sys_excepthook = _sys_excepthook_at_import
        sys_excepthook(*_sys.exc_info())
    finally:
        args = None


class _StartedFlag:
    """What ``Thread._started`` is in the standard library (an Event set once the thread runs),
    answered from the Rust thread state."""

    __slots__ = ("_tk",)

    def __init__(self, tk):
        self._tk = tk

    def is_set(self):
        return self._tk.is_started()

    def wait(self, timeout=None):
        if timeout is None:
            self._tk.wait_started()
        return self._tk.is_started()


class _ThreadType(type):
    """``Thread``'s metaclass: every thread of the process is a ``Thread``, as with the
    standard library, where ``isinstance(threading.current_thread(), threading.Thread)`` always
    holds. The main thread, dummy threads and threads started before ``install()`` are the
    standard library's objects, so ``isinstance``/``issubclass`` against threadkit's ``Thread``
    itself (not its subclasses) also accept the standard library's ``Thread``."""

    def __instancecheck__(cls, obj):
        return type.__instancecheck__(cls, obj) or (
            cls is Thread and isinstance(obj, _std.Thread))

    def __subclasscheck__(cls, sub):
        return type.__subclasscheck__(cls, sub) or (
            cls is Thread and isinstance(sub, type) and issubclass(sub, _std.Thread))


class Thread(_std.Thread, metaclass=_ThreadType):
    """A thread of control, as ``threading.Thread``: pass ``target`` (called with ``args``
    and ``kwargs``) or override ``run()``; ``start()`` it once; ``join()`` it.

    A subclass of the standard library's ``threading.Thread``, so ``isinstance`` checks and
    ``threading.current_thread()`` inside it work as with the standard library's threads; and
    ``isinstance(threading.main_thread(), Thread)`` holds too (see ``_ThreadType``).
    Its state and join are threadkit's (Rust); ``join()`` on the main thread is interruptible
    by Ctrl-C. Differs from the standard library in that ``join()`` returns as soon as
    ``run()`` and the bootstrap's bookkeeping are done, a moment before the OS thread itself
    has exited (the standard library waits for the thread state's deletion); and it has no
    ``_started`` Event (the Rust state replaces it).
    """

    _initialized = False

    def __init__(self, group=None, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        """Arguments as ``threading.Thread``: ``group`` must be None; ``target`` is what
        ``run()`` calls, with ``args`` and ``kwargs``; ``name`` defaults to ``Thread-N``
        (``Thread-N (target)`` with a target), numbered by the standard library's counter;
        ``daemon`` defaults to the creating thread's flag. A subclass that overrides
        ``__init__`` must call this first."""
        assert group is None, "group argument must be None for now"
        if kwargs is None:
            kwargs = {}
        if name:
            name = str(name)
        else:
            name = _compat.newname("Thread-%d")
            if target is not None:
                try:
                    name += f" ({target.__name__})"
                except AttributeError:
                    pass
        if daemon is not None:
            if daemon and not _compat.daemon_threads_allowed():
                raise RuntimeError("daemon threads are disabled in this (sub)interpreter")
            daemon = bool(daemon)
        else:
            daemon = current_thread().daemon
        self._target = target
        self._args = args
        self._kwargs = kwargs
        self._tk = _core.Thread(name, daemon)
        self._name = name
        self._daemonic = daemon
        self._ident = None
        self._native_id = None
        # What the standard library's internals read on a thread in `_active` (fork, shutdown).
        self._tstate_lock = None
        self._is_stopped = False
        self._handle = None
        self._stderr = _sys.stderr
        self._initialized = True

    def __repr__(self):
        assert self._initialized, "Thread.__init__() was not called"
        status = self._tk.status()
        if self._daemonic:
            status += " daemon"
        if self._ident is not None:
            status += " %s" % self._ident
        return "<%s(%s, %s)>" % (self.__class__.__name__, self._name, status)

    def start(self):
        """Start the thread: ``run()`` is called in a new OS thread. Returns once the thread
        runs (it is then in ``enumerate()`` and has its ``ident``). Calling it twice is
        ``RuntimeError``."""
        if not self._initialized:
            raise RuntimeError("thread.__init__() not called")
        tk = self._tk
        tk.claim_start()  # RuntimeError: threads can only be started once
        with _compat.active_limbo_lock():
            _std_limbo[self] = self
        try:
            if _compat.JOINABLE:
                handle = _compat.ThreadHandle()
                self._handle = handle
                _compat.start_joinable_thread(
                    self._bootstrap, handle=handle, daemon=self._daemonic
                )
            else:
                _thread.start_new_thread(self._bootstrap, ())
        except BaseException:
            with _compat.active_limbo_lock():
                _std_limbo.pop(self, None)
            self._handle = None
            tk.release_claim()
            raise
        tk.wait_started()

    def run(self):
        """The thread's activity: calls ``target(*args, **kwargs)``. Override in a subclass."""
        try:
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        finally:
            # Avoid a reference cycle if the thread runs a function that holds the thread.
            del self._target, self._args, self._kwargs

    def _bootstrap(self):
        try:
            self._bootstrap_inner()
        except:  # noqa: E722 - as CPython: a daemon may outlive the interpreter's modules
            if self._daemonic and _sys is None:
                return
            raise

    def _bootstrap_inner(self):
        tk = self._tk
        try:
            ident = self._ident = _get_ident()
            self._native_id = get_native_id()
            if not _compat.JOINABLE:
                self._set_tstate_lock()
            with _compat.active_limbo_lock():
                _std_active[ident] = self
                del _std_limbo[self]
            tk.mark_started()  # start() returns from here on

            if _std.gettrace():
                _sys.settrace(_std.gettrace())
            if _std.getprofile():
                _sys.setprofile(_std.getprofile())

            try:
                self.run()
            except:  # noqa: E722 - everything goes to the excepthook, as CPython
                _invoke_excepthook(self)
        finally:
            with _compat.active_limbo_lock():
                # `_active` is keyed by the running thread's ident (a child after fork re-keys it).
                ident = _get_ident()
                if _std_active.get(ident) is self:
                    del _std_active[ident]
            tk.mark_finished()

    def _set_tstate_lock(self):
        # 3.11/3.12: the lock the interpreter releases when this thread's state is deleted;
        # `threading._shutdown()` waits on the non-daemon ones at exit.
        self._tstate_lock = lock = _compat.set_sentinel()
        lock.acquire()
        if not self._daemonic:
            _compat.add_shutdown_lock(lock)

    # Called by the standard library's own code on threads in `_active`: after fork (3.11/3.12:
    # `_reset_internal_locks` and `_stop`; 3.13+: `_after_fork`) and at shutdown when this
    # thread became the main thread of a forked child (`_stop`). The Rust registry is reset by
    # threadkit's own fork handler.

    def _reset_internal_locks(self, is_alive):
        if is_alive:
            if self._tstate_lock is not None:
                self._tstate_lock._at_fork_reinit()
                self._tstate_lock.acquire()
        else:
            self._is_stopped = True
            self._tstate_lock = None

    def _after_fork(self, new_ident=None):
        if new_ident is not None:
            self._ident = new_ident

    def _stop(self):
        self._is_stopped = True
        self._tstate_lock = None
        if not self._daemonic:
            _compat.maintain_shutdown_locks()
        if self._ident == _get_ident() and self._tk.is_alive():
            # Shutdown of a forked child whose main thread is this one.
            self._tk.mark_finished()

    def _delete(self):
        with _compat.active_limbo_lock():
            _std_active.pop(_get_ident(), None)

    def join(self, timeout=None):
        """Wait until the thread ends, or at most ``timeout`` seconds (``None``: no limit);
        returns None either way (check ``is_alive()``). Joining the current thread, or one
        not started, is ``RuntimeError``. On the main thread, Ctrl-C interrupts it."""
        if not self._initialized:
            raise RuntimeError("Thread.__init__() not called")
        self._tk.join(timeout)

    @property
    def name(self):
        """The thread's name, for identification only; any string, settable any time."""
        assert self._initialized, "Thread.__init__() not called"
        return self._name

    @name.setter
    def name(self, name):
        assert self._initialized, "Thread.__init__() not called"
        self._name = name = str(name)
        self._tk.name = name

    @property
    def ident(self):
        """The thread's identifier (``get_ident()`` in it), or None before it starts; kept
        after it ends."""
        assert self._initialized, "Thread.__init__() not called"
        return self._ident

    @property
    def native_id(self):
        """The thread's native (kernel) id, or None before it starts."""
        assert self._initialized, "Thread.__init__() not called"
        return self._native_id

    @property
    def _started(self):
        """The standard library's start flag (``t._started.is_set()``, ``.wait()``), as a
        read-only view of the Rust state; some tools and tests read it."""
        return _StartedFlag(self._tk)

    def is_alive(self):
        """Whether the thread runs: True from just before ``run()`` starts until just after
        it ends."""
        assert self._initialized, "Thread.__init__() not called"
        return self._tk.is_alive()

    @property
    def daemon(self):
        """Whether this is a daemon thread: the program exits when only daemon threads are
        left. Inherited from the creating thread; settable only before ``start()``."""
        assert self._initialized, "Thread.__init__() not called"
        return self._daemonic

    @daemon.setter
    def daemon(self, daemonic):
        if not self._initialized:
            raise RuntimeError("Thread.__init__() not called")
        if daemonic and not _compat.daemon_threads_allowed():
            raise RuntimeError("daemon threads are disabled in this interpreter")
        daemonic = bool(daemonic)
        self._tk.daemon = daemonic  # RuntimeError once started
        self._daemonic = daemonic

    def isDaemon(self):
        """Return whether this thread is a daemon.

        This method is deprecated, use the daemon attribute instead.
        """
        import warnings

        warnings.warn(
            "isDaemon() is deprecated, get the daemon attribute instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.daemon

    def setDaemon(self, daemonic):
        """Set whether this thread is a daemon.

        This method is deprecated, use the .daemon property instead.
        """
        import warnings

        warnings.warn(
            "setDaemon() is deprecated, set the daemon attribute instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self.daemon = daemonic

    def getName(self):
        """Return a string used for identification purposes only.

        This method is deprecated, use the name attribute instead.
        """
        import warnings

        warnings.warn(
            "getName() is deprecated, get the name attribute instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.name

    def setName(self, name):
        """Set the name string for this thread.

        This method is deprecated, use the name attribute instead.
        """
        import warnings

        warnings.warn(
            "setName() is deprecated, set the name attribute instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self.name = name


class Timer(Thread):
    """Call a function after a number of seconds, as ``threading.Timer``::

        t = Timer(30.0, f, args=None, kwargs=None)
        t.start()
        t.cancel()     # stop the timer's action if it's still waiting

    The wait is a threadkit ``Event`` (``finished``); the function runs in the timer's own
    Python frame.
    """

    def __init__(self, interval, function, args=None, kwargs=None):
        Thread.__init__(self)
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = Event()

    def cancel(self):
        """Stop the timer if it hasn't finished yet."""
        self.finished.set()

    def run(self):
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


def current_thread():
    """The ``Thread`` object of the calling thread: a threadkit ``Thread``, one of the
    standard library's, its main thread, or (for a thread neither started) a dummy thread
    object of the standard library, as ``threading.current_thread()``."""
    try:
        return _std_active[_get_ident()]
    except KeyError:
        return _std.current_thread()


def currentThread():
    """Return the current Thread object.

    This function is deprecated, use current_thread() instead.
    """
    import warnings

    warnings.warn(
        "currentThread() is deprecated, use current_thread() instead",
        DeprecationWarning,
        stacklevel=2,
    )
    return current_thread()


def main_thread():
    """The main thread's ``Thread`` object (the standard library's; in a child process after
    ``fork()``, the thread that forked)."""
    return _std.main_thread()


def enumerate():
    """The ``Thread`` objects alive now: threadkit's and the standard library's, the main
    thread and dummy threads; not those not yet started or already ended."""
    with _compat.active_limbo_lock():
        return list(_std_active.values()) + list(_std_limbo.values())


def active_count():
    """The number of threads alive now: ``len(enumerate())``."""
    with _compat.active_limbo_lock():
        return len(_std_active) + len(_std_limbo)


def activeCount():
    """Return the number of Thread objects currently alive.

    This function is deprecated, use active_count() instead.
    """
    import warnings

    warnings.warn(
        "activeCount() is deprecated, use active_count() instead",
        DeprecationWarning,
        stacklevel=2,
    )
    return active_count()


def gettrace():
    """The trace function set by ``settrace()`` (shared with the standard library)."""
    return _std.gettrace()


def getprofile():
    """The profile function set by ``setprofile()`` (shared with the standard library)."""
    return _std.getprofile()


def stack_size(*size):
    """``stack_size([size])``: the stack size of threads started from now on (threadkit's and
    the standard library's alike, both use ``_thread``); with ``size``, set it (0: the
    platform's default) and return the previous one."""
    return _thread.stack_size(*size)


def _after_fork_in_child():
    # Runs after the standard library's own `_after_fork` (registered first, at its import):
    # `_active` holds only the forking thread, which is the new main thread.
    _core._after_fork_in_child()
    me = _std_active.get(_get_ident())
    if isinstance(me, Thread):
        me._native_id = get_native_id()


if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork_in_child)

for _cls in (Thread, Timer):
    _cls.__module__ = "threadkit.threading"
del _cls


# The rest of the standard library's namespace, private names included (tools read
# `threading._active`, `threading._shutdown_locks`...): looked up in the standard library's
# module on each access, so that a name it rebinds (`_trace_hook` after `settrace()`,
# `_main_thread` and `_active_limbo_lock` in a child after `fork()`) is never stale here.
__excepthook__ = _std.__excepthook__


def __getattr__(name):
    if not (name.startswith("__") and name.endswith("__")):
        try:
            return getattr(_std, name)
        except AttributeError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    std = (name for name in dir(_std) if not (name.startswith("__") and name.endswith("__")))
    return sorted(set(globals()).union(std))

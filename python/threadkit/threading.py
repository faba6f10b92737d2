"""Drop-in replacement for the standard library's :mod:`threading`.

``import threadkit.threading as threading`` and change nothing else. Every public name of the
standard library's module is here. The synchronization primitives are threadkit's, implemented
in Rust; names not yet reimplemented are the standard library's own objects, so the namespace
is complete and behaves the same.
"""

import sys as _sys
import threading as _std
from threading import *  # noqa: F401,F403  (the whole namespace; ours replace names below)
from time import monotonic as _time

from threadkit import _core
from threadkit._core import BoundedSemaphore, Event, Lock, RLock, Semaphore

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

    def __new__(cls, lock=None):
        if lock is not None and not isinstance(lock, (Lock, RLock)):
            cls = _other_lock_variant(cls)
        return super().__new__(cls, lock)

    def __init__(self, lock=None):
        pass

    def __repr__(self):
        return "<Condition(%s, %d)>" % (self._lock, self._waiter_count())

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

    def __init__(self, lock=None):
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

    def __init__(self, parties, action=None, timeout=None):
        self._action = action
        self._timeout = timeout

    def __repr__(self):
        cls = self.__class__
        if self.broken:
            return f"<{cls.__module__}.{cls.__qualname__} at {id(self):#x}: broken>"
        return (
            f"<{cls.__module__}.{cls.__qualname__} at {id(self):#x}:"
            f" waiters={self.n_waiting}/{self.parties}>"
        )

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


# Threads and the module functions: threadkit's own (see _thread_impl). `local` stays the
# standard library's (C, and right); `excepthook`, `ExceptHookArgs`, `settrace`, `setprofile`
# (and their `_all_threads` variants) stay the standard library's so that one hook applies to
# threads of both; the exception classes are the standard library's (DESIGN.md rule 5).
from threadkit._thread_impl import (  # noqa: E402
    TIMEOUT_MAX,
    Thread,
    Timer,
    active_count,
    activeCount,
    current_thread,
    currentThread,
    enumerate,
    get_ident,
    get_native_id,
    getprofile,
    gettrace,
    main_thread,
    stack_size,
)


# The rest of the standard library's namespace, private names included (tools read
# `threading._active`, `threading.__excepthook__`, `threading._shutdown_locks`...): the
# standard library's own objects, for everything threadkit does not define itself.
def _mirror_private_names():
    ours = globals()
    for name in dir(_std):
        if name not in ours and not (name.startswith("__") and name.endswith("__")):
            ours[name] = getattr(_std, name)
    for name in ("__excepthook__",):
        if hasattr(_std, name):
            ours[name] = getattr(_std, name)


_mirror_private_names()
del _mirror_private_names

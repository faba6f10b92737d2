"""The standard library's internals that threadkit relies on, in one place.

threadkit shares state with the standard library rather than copying it: its threads live in
``threading``'s registry of running threads, the interpreter waits for them at exit through
``threading``'s and ``_thread``'s own machinery, and threadkit's futures take part in the
``concurrent.futures`` waiter protocol. That takes names the standard library does not
document. Every such name is read here and nowhere else in the package, behind a version gate
where it exists on some versions only, and is listed in ``RELIED_ON`` with what threadkit does
with it. ``tests/test_compat.py`` checks every entry on the running CPython, so a release that
renames or drops one fails that test, naming it, rather than some distant test.

Versions: CPython 3.11, 3.12 and 3.13 are tested. Each gate reads "from version X on"
(``PY312``, ``PY313``), never "exactly X", so a newer CPython takes the newest path. Whether
that path suffices on 3.14 and later is not tested here: running ``tests/test_compat.py`` on
one is how to find out.

The standard library rebinds some of these names (after ``fork()``: its registry lock and, on
3.11 and 3.12, its shutdown locks), so they are read on each use, through a function, never
copied into a module global.
"""

import sys as _sys
import threading as _threading
import _thread
from collections import namedtuple as _namedtuple

PY312 = _sys.version_info >= (3, 12)
PY313 = _sys.version_info >= (3, 13)


class Name(_namedtuple("Name", "module name use since before", defaults=((3, 11), None))):
    """One private name of the standard library that threadkit relies on: the ``module`` that
    defines it, as imported (``"concurrent.futures._base"``); the ``name`` in it
    (``"Class.attribute"`` for a class attribute); the ``use`` threadkit makes of it; the first
    CPython version that has it (``since``) and, if it is gone from some version on, that
    version (``before``). threadkit uses it on the versions in between."""

    __slots__ = ()

    def applies(self, version=_sys.version_info):
        """Whether threadkit uses this name on CPython ``version``."""
        version = tuple(version[:2])
        return self.since <= version and (self.before is None or version < self.before)

    def __str__(self):
        return f"{self.module}.{self.name}"


RELIED_ON = (
    # threading: the registry of running threads, shared so that the standard library's
    # current_thread(), enumerate() and fork handling see threadkit's threads.
    Name("threading", "_active", "registry of running threads (ident -> Thread), shared"),
    Name("threading", "_limbo", "threads being started, shared"),
    Name("threading", "_active_limbo_lock", "the lock guarding both (rebound after fork)"),
    Name("threading", "_newname", "default thread names Thread-N, one counter with the stdlib"),
    Name("threading", "_register_atexit", "the pool's exit hook, run before threads are joined"),
    # threading + _thread, 3.11 and 3.12: exit waits for each non-daemon thread's sentinel lock.
    Name("_thread", "_set_sentinel", "a thread's lock released when its state is deleted",
         before=(3, 13)),
    Name("threading", "_shutdown_locks", "sentinels that exit waits for (rebound after fork)",
         before=(3, 13)),
    Name("threading", "_shutdown_locks_lock", "the lock guarding them (rebound after fork)",
         before=(3, 13)),
    Name("threading", "_maintain_shutdown_locks", "drops sentinels of ended threads",
         before=(3, 13)),
    # _thread, 3.13+: exit waits for the non-daemon handles of joinable threads.
    Name("_thread", "start_joinable_thread", "starts a thread the interpreter joins at exit",
         since=(3, 13)),
    Name("_thread", "_ThreadHandle", "the handle a joinable thread is started with",
         since=(3, 13)),
    Name("_thread", "daemon_threads_allowed", "whether a (sub)interpreter allows daemons",
         since=(3, 12)),
    # threading.Thread: methods the standard library calls on every thread in its registry,
    # threadkit's included, which threadkit's Thread overrides.
    Name("threading", "Thread._reset_internal_locks", "called on each thread after fork",
         before=(3, 13)),
    Name("threading", "Thread._stop", "called after fork and at exit", before=(3, 13)),
    Name("threading", "Thread._after_fork", "called on each thread after fork", since=(3, 13)),
    # concurrent.futures: the states and the waiter protocol of wait()/as_completed(), which
    # threadkit's futures and the standard library's futures share.
    Name("concurrent.futures._base", "FINISHED", "a future's finished state"),
    Name("concurrent.futures._base", "CANCELLED_AND_NOTIFIED", "a future's cancelled state"),
    Name("concurrent.futures._base", "_STATE_TO_DESCRIPTION_MAP", "the states in reprs"),
    Name("concurrent.futures._base", "LOGGER", "the 'concurrent.futures' logger"),
    Name("concurrent.futures._base", "DoneAndNotDoneFutures", "what wait() returns"),
    Name("concurrent.futures._base", "_AS_COMPLETED", "as_completed()'s return_when"),
    Name("concurrent.futures._base", "_Waiter", "base of the waiters wait() installs"),
    Name("concurrent.futures._base", "_AsCompletedWaiter", "as_completed()'s waiter"),
    Name("concurrent.futures._base", "_FirstCompletedWaiter", "wait(FIRST_COMPLETED)'s"),
    Name("concurrent.futures._base", "_AllCompletedWaiter", "wait(ALL_COMPLETED)'s"),
    Name("concurrent.futures._base", "_Waiter.add_result", "waiter protocol: a result"),
    Name("concurrent.futures._base", "_Waiter.add_exception", "waiter protocol: an exception"),
    Name("concurrent.futures._base", "_Waiter.add_cancelled", "waiter protocol: a cancel"),
    Name("concurrent.futures._base", "Future._invoke_callbacks",
         "inherited: runs done-callbacks, logging their exceptions"),
    Name("concurrent.futures.thread", "ThreadPoolExecutor._counter",
         "inherited: ThreadPoolExecutor-N names, one counter with the stdlib"),
    # sys: the Python stacks of the threads in deadlock reports and dumps (threadkit.debug).
    Name("sys", "_current_frames", "every thread's current frame, for dumps and reports"),
    Name("sys", "_getframe", "the calling thread's frame, for its own report"),
)
"""Every private name of the standard library that threadkit relies on."""


def missing(names=RELIED_ON, version=_sys.version_info):
    """The entries of ``names`` that apply to ``version`` and that this interpreter lacks."""
    import importlib

    absent = []
    for entry in names:
        if not entry.applies(version):
            continue
        obj = importlib.import_module(entry.module)
        for part in entry.name.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                absent.append(entry)
                break
    return absent


# ---------------------------------------------------------------------------------------------
# threading: the registry of running threads. The dicts are never replaced (a child after fork
# clears and refills them); the lock guarding them is, so it is looked up on each use.

active = _threading._active
limbo = _threading._limbo
newname = _threading._newname
register_atexit = _threading._register_atexit


def active_limbo_lock():
    """The lock that guards ``active`` and ``limbo`` (the standard library's, as of now)."""
    return _threading._active_limbo_lock


# Process exit. 3.11 and 3.12: the interpreter releases a thread's sentinel lock when the
# thread's state is deleted, and `threading._shutdown()` waits for the sentinels of non-daemon
# threads in `_shutdown_locks`. 3.13+: threads are started joinable, with a handle, and
# `_thread._shutdown()` waits for the non-daemon handles.

JOINABLE = PY313
"""Whether threads are started with ``start_joinable_thread`` (3.13+) rather than with a
sentinel lock added to the shutdown locks (3.11, 3.12)."""

if JOINABLE:
    start_joinable_thread = _thread.start_joinable_thread
    ThreadHandle = _thread._ThreadHandle

    def maintain_shutdown_locks():
        """Nothing to do: 3.13+ has no sentinel locks."""

else:
    set_sentinel = _thread._set_sentinel

    def add_shutdown_lock(lock):
        """Make exit wait until ``lock`` (a non-daemon thread's sentinel) is released."""
        with _threading._shutdown_locks_lock:
            _threading._maintain_shutdown_locks()
            _threading._shutdown_locks.add(lock)

    def maintain_shutdown_locks():
        """Drop the sentinels of threads that have ended."""
        with _threading._shutdown_locks_lock:
            _threading._maintain_shutdown_locks()


if PY312:
    daemon_threads_allowed = _thread.daemon_threads_allowed
else:

    def daemon_threads_allowed():
        """Whether this interpreter allows daemon threads (always, before 3.12)."""
        return True


# ---------------------------------------------------------------------------------------------
# sys: the threads' stacks, for threadkit.debug's reports and dumps.

current_frames = _sys._current_frames
"""``sys._current_frames()``: every thread's current frame, by ident."""


def caller_frame(depth):
    """The frame ``depth`` calls above the caller of this function (``sys._getframe``)."""
    return _sys._getframe(depth + 1)


# ---------------------------------------------------------------------------------------------
# concurrent.futures: the states, the logger and the waiter classes of `_base`, loaded when
# threadkit.futures first asks for one: importing threadkit.threading or threadkit.queue alone
# does not import concurrent.futures (nor logging), as with the standard library.

_FUTURES_NAMES = frozenset({
    "FINISHED", "CANCELLED_AND_NOTIFIED", "STATE_TO_DESCRIPTION_MAP", "LOGGER",
    "DoneAndNotDoneFutures", "AS_COMPLETED", "Waiter", "AsCompletedWaiter",
    "FirstCompletedWaiter", "AllCompletedWaiter",
})


def _load_futures_names():
    import concurrent.futures._base as _futures_base

    globals().update(
        FINISHED=_futures_base.FINISHED,
        CANCELLED_AND_NOTIFIED=_futures_base.CANCELLED_AND_NOTIFIED,
        STATE_TO_DESCRIPTION_MAP=_futures_base._STATE_TO_DESCRIPTION_MAP,
        LOGGER=_futures_base.LOGGER,
        DoneAndNotDoneFutures=_futures_base.DoneAndNotDoneFutures,
        AS_COMPLETED=_futures_base._AS_COMPLETED,
        Waiter=_futures_base._Waiter,
        AsCompletedWaiter=_futures_base._AsCompletedWaiter,
        FirstCompletedWaiter=_futures_base._FirstCompletedWaiter,
        AllCompletedWaiter=_futures_base._AllCompletedWaiter,
    )


def __getattr__(name):
    if name in _FUTURES_NAMES:
        _load_futures_names()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

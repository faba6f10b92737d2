"""``threadkit.install()``: the whole process imports threadkit's threading, queue and pool.

After ``install()``, ``import threading`` and ``import queue`` anywhere in the process, and
``concurrent.futures.ThreadPoolExecutor`` (also through ``concurrent.futures.thread``), give
threadkit's classes, for modules imported later too (libraries included)::

    import threadkit
    threadkit.install()          # as early as possible: first line of the program
    ...
    threadkit.installed()        # True
    threadkit.uninstall()        # back to the standard library's, for code imported from now on

    with threadkit.install():    # the same, undone at the end of the block (tests)
        ...

``python -m threadkit program.py`` calls it before the program's first line, and
``THREADKIT_INSTALL=1`` in the environment calls it at start-up of every Python process that
has threadkit installed (through the ``threadkit_install.pth`` file in site-packages).

What is switched
----------------
``threading``: ``Lock``, ``RLock``, ``Condition``, ``Semaphore``, ``BoundedSemaphore``,
``Event``, ``Barrier``, ``Thread``, ``Timer``. The module's functions (``current_thread``,
``enumerate``, ``main_thread``, ``excepthook``, ``settrace``, ``local``...) stay the standard
library's: they see threadkit's threads as well (one registry), so there is nothing to switch.
``queue``: ``Queue``, ``LifoQueue``, ``PriorityQueue``, ``SimpleQueue`` (and ``ShutDown`` before
3.13, where the standard library has none). ``concurrent.futures``: ``ThreadPoolExecutor``,
``wait``, ``as_completed``; ``concurrent.futures.thread``: ``ThreadPoolExecutor``. ``Future``
stays the standard library's class (threadkit's pool returns its own futures, which are
instances of it).

How
---
Each switched module is replaced in ``sys.modules`` by a stand-in module of the same name that
holds threadkit's classes and forwards every other attribute, read or assigned, to the standard
library's module (so ``threading.excepthook = hook``, ``threading._shutdown``, ``__file__``... are
the real module's, live). ``concurrent.futures`` is also replaced as an attribute of the
``concurrent`` package, since ``import concurrent.futures`` code reaches it that way.

The standard library's modules themselves are not changed: their own code keeps calling their
own classes (``threading._DummyThread`` runs ``Thread.__init__`` through its module's globals,
``BoundedSemaphore`` runs ``Semaphore.__init__``; patching those names in place, as gevent's
``monkey.patch_all()`` does, would run threadkit's ``__init__`` on the standard library's
objects). threadkit's own modules imported the real modules before any switch and keep them
(a threadkit module imported for the first time after ``install()`` would get the stand-ins:
threadkit's modules are imported by ``import threadkit``, and ``install()`` imports
``threadkit.futures`` with the real modules in place).

Before and after
----------------
- Modules imported after ``install()`` get threadkit's classes. ``install()`` itself imports
  ``concurrent.futures`` (and with it ``logging``) after the switch when they were not imported
  yet, so under ``python -m threadkit`` they are built on threadkit too.
- Modules that did ``import threading`` (or ``queue``) before ``install()`` keep the standard
  library's module, and so create the standard library's objects; names bound earlier with
  ``from threading import Lock`` stay the standard library's. Code that reaches
  ``concurrent.futures`` through the ``concurrent`` package (``concurrent.futures.X``) sees the
  switch whenever it was imported.
- Objects created before ``install()`` (``logging``'s module lock if ``logging`` was imported
  first, a library's module-level lock...) stay what they are. They keep working: threadkit's
  and the standard library's primitives work together (``Condition`` over either lock, futures
  of both in ``wait``); threadkit's diagnostics do not see them.
- ``uninstall()`` puts the standard library's modules back and empties the stand-ins, so even
  modules that imported during the install see the standard library's classes from then on.
  Objects created while installed stay threadkit's.

What cannot be switched
-----------------------
``_thread`` (C: ``_thread.allocate_lock()``, ``_thread.start_new_thread()`` stay the
interpreter's); locks and threads that C extensions create themselves; objects created before
``install()`` and names bound before it (above); the standard library's private names
(``threading._allocate_lock``...). ``python -I``/``-S`` skip the ``.pth`` file, so such child
processes do not see ``THREADKIT_INSTALL``, nor do editable installs (``maturin develop``,
``pip install -e``), which have no ``threadkit_install.pth``.
"""

import functools as _functools
import os as _os
import sys as _sys
import types as _types

# Real standard-library modules, captured before anything is switched (threadkit's own modules
# captured theirs the same way, at import).
import concurrent as _concurrent_pkg
import queue as _std_queue
import threading as _std_threading

import threadkit.queue as _tk_queue
import threadkit.threading as _tk_threading

__all__ = ["install", "uninstall", "installed"]

ENV_VAR = "THREADKIT_INSTALL"

# What install() switches: standard-library module -> names taken from threadkit's module.
_THREADING_NAMES = (
    "Lock",
    "RLock",
    "Condition",
    "Semaphore",
    "BoundedSemaphore",
    "Event",
    "Barrier",
    "Thread",
    "Timer",
)
_QUEUE_NAMES = ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "ShutDown")
_FUTURES_NAMES = ("ThreadPoolExecutor", "wait", "as_completed")
_FUTURES_THREAD_NAMES = ("ThreadPoolExecutor",)

# Names the standard library's modules rebind at run time (``global`` statements in their own
# functions), plus hooks users assign: a stand-in reads them from the real module each time.
# test_install.py checks this list against the modules' code on every Python version.
_LIVE = {
    "threading": frozenset(
        {
            "_SHUTTING_DOWN",
            "_active_limbo_lock",
            "_main_thread",
            "_profile_hook",
            "_shutdown_locks",
            "_shutdown_locks_lock",
            "_trace_hook",
            # Public, assigned by users (and test runners) to set the hook.
            "excepthook",
        }
    ),
    "queue": frozenset(),
    "concurrent.futures": frozenset({"ProcessPoolExecutor", "ThreadPoolExecutor"}),
    "concurrent.futures.thread": frozenset({"_shutdown"}),
}


class _StandIn(_types.ModuleType):
    """What ``sys.modules`` holds for a switched standard-library module while installed.

    Its namespace is a copy of the real module's, refreshed at each install(), with
    threadkit's classes in place of the switched names. A name the real module rebinds at run
    time (``_LIVE``, unless switched) is a property of the stand-in's class that reads the real
    module's (a data descriptor, so pytest's ``monkeypatch`` and ``unittest.mock.patch`` save
    and restore it correctly); a name the real module gains later is read from it through the
    PEP 562 module ``__getattr__``. An assignment or deletion through the stand-in goes to the
    real module (and the copy), except for a switched name while installed, which stays on the
    stand-in. Uninstalled, the switched names are the real module's again. Copying keeps a read
    as fast as on the real module but for the interpreter's specialisation for exact modules
    (~15 ns more); a live name costs ~0.1 us, a name gained later ~0.5 us (3.11).
    """

    def __init__(self, real, switched):
        super().__init__(real.__name__, real.__doc__)
        _INFO[id(self)] = (real, switched, _LIVE[real.__name__])
        self.__dict__["__getattr__"] = _functools.partial(getattr, real)
        self._switch(False)

    def _switch(self, on):
        real, switched, live = _INFO[id(self)]
        own = self.__dict__
        for name, value in vars(real).items():
            if name not in live and name != "__getattr__":
                own[name] = value
        if on:
            own.update(switched)
        _ON[id(self)] = on

    def __setattr__(self, name, value):
        real, switched, live = _INFO[id(self)]
        if not (_ON[id(self)] and name in switched):
            setattr(real, name, value)
            if name in live:
                return
        self.__dict__[name] = value

    def __delattr__(self, name):
        real, switched, live = _INFO[id(self)]
        if not (_ON[id(self)] and name in switched):
            delattr(real, name)
            if name in live:
                return
        self.__dict__.pop(name, None)

    def __dir__(self):
        real = _INFO[id(self)][0]
        return sorted((set(dir(real)) | set(self.__dict__)) - {"__getattr__"})

    def __repr__(self):
        real, switched, _ = _INFO[id(self)]
        names = [n for n in switched if _ON[id(self)] and not isinstance(switched[n], _StandIn)]
        state = "threadkit's %s" % ", ".join(names) if names else "threadkit not installed"
        return "<module %r from %r (%s)>" % (real.__name__, getattr(real, "__file__", "?"), state)


def _live_property(real, name):
    # A property is a data descriptor even without a setter; assignments and deletions reach
    # the real module through _StandIn.__setattr__/__delattr__, which come first.
    return property(
        lambda self: getattr(real, name),
        doc="%s.%s, read from the standard library's module" % (real.__name__, name),
    )


def _stand_in(real, switched):
    """A stand-in for ``real``: an instance of its own subclass of ``_StandIn`` (the class
    holds the properties of the module's live names)."""
    # A switched name is never a property: it must be found in the stand-in's own namespace.
    live = _LIVE[real.__name__] - set(switched)
    cls = type("_StandIn", (_StandIn,), {n: _live_property(real, n) for n in live})
    cls.__module__ = __name__
    cls.__qualname__ = "_StandIn[%s]" % real.__name__
    return cls(real, switched)


_INFO = {}  # id(stand-in) -> (real module, {switched name: threadkit's object}, live names)
_ON = {}  # id(stand-in) -> whether its switched names are threadkit's


def _switched_names(real, ours, names):
    """The names of ``names`` where threadkit's object is not the standard library's."""
    return {n: getattr(ours, n) for n in names if getattr(ours, n) is not getattr(real, n, None)}


class _State:
    lock = _tk_threading.Lock()  # serialises install() and uninstall()
    installed = False
    stand_ins = None  # {module name: _StandIn}, made on the first install()
    saved = None  # {module name: real module} while installed
    env_warned = False


def _make_stand_ins():
    # concurrent.futures is imported here, after threading and queue are switched (install()
    # calls this with them in place), so that if nothing had imported it (nor logging, which it
    # imports) yet, they are built on threadkit's classes too.
    import concurrent.futures as cf
    import concurrent.futures.thread as cft

    # threadkit.futures itself must hold the real modules, as all of threadkit does.
    saved = {name: _sys.modules[name] for name in ("threading", "queue")}
    _sys.modules.update(threading=_std_threading, queue=_std_queue)
    try:
        import threadkit.futures as tk_futures
    finally:
        _sys.modules.update(saved)

    cf_real = _sys.modules["concurrent.futures"]
    cft_real = _sys.modules["concurrent.futures.thread"]
    if isinstance(cf_real, _StandIn) or isinstance(cft_real, _StandIn):  # pragma: no cover
        raise RuntimeError("threadkit: concurrent.futures is already switched")
    del cf, cft
    stand_ins = _State.stand_ins
    cft_in = _stand_in(cft_real, _switched_names(cft_real, tk_futures, _FUTURES_THREAD_NAMES))
    cf_switched = _switched_names(cf_real, tk_futures, _FUTURES_NAMES)
    cf_switched["thread"] = cft_in
    stand_ins["concurrent.futures"] = _stand_in(cf_real, cf_switched)
    stand_ins["concurrent.futures.thread"] = cft_in


def install():
    """Make ``import threading``, ``import queue`` and ``concurrent.futures``'s thread pool
    threadkit's, in the whole process, from now on (see the module's documentation for what
    is switched and what is not). Idempotent; thread-safe.

    Returns a context manager: ``with threadkit.install(): ...`` uninstalls at the end of the
    block if this call installed (if threadkit was installed already, it stays so).
    """
    with _State.lock:
        if _State.installed:
            return _Scope(False)
        if _State.stand_ins is None:
            _State.stand_ins = {
                "threading": _stand_in(
                    _std_threading,
                    _switched_names(_std_threading, _tk_threading, _THREADING_NAMES),
                ),
                "queue": _stand_in(_std_queue, _switched_names(_std_queue, _tk_queue, _QUEUE_NAMES)),
            }
        stand_ins = _State.stand_ins
        saved = {"threading": _std_threading, "queue": _std_queue}
        for name in ("threading", "queue"):
            stand_ins[name]._switch(True)
            _sys.modules[name] = stand_ins[name]
        try:
            if "concurrent.futures" not in stand_ins:
                _make_stand_ins()
            for name in ("concurrent.futures", "concurrent.futures.thread"):
                saved[name] = _sys.modules[name]
                stand_ins[name]._switch(True)
                _sys.modules[name] = stand_ins[name]
            _concurrent_pkg.futures = stand_ins["concurrent.futures"]
        except BaseException:
            for name, real in saved.items():
                if name in stand_ins:
                    stand_ins[name]._switch(False)
                _sys.modules[name] = real
            raise
        _State.saved = saved
        _State.installed = True
        return _Scope(True)


def uninstall():
    """Undo ``install()``: ``import threading``, ``import queue`` and ``concurrent.futures``
    give the standard library's again, also to modules that imported them while installed.
    Objects created meanwhile stay threadkit's. Does nothing if not installed."""
    with _State.lock:
        if not _State.installed:
            return
        for name, real in _State.saved.items():
            stand_in = _State.stand_ins[name]
            stand_in._switch(False)
            if _sys.modules.get(name) is stand_in:
                _sys.modules[name] = real
        if getattr(_concurrent_pkg, "futures", None) is _State.stand_ins["concurrent.futures"]:
            _concurrent_pkg.futures = _State.saved["concurrent.futures"]
        _State.saved = None
        _State.installed = False


def installed():
    """Whether ``install()`` is in effect."""
    return _State.installed


class _Scope:
    """What ``install()`` returns: a context manager that uninstalls on exit if that call
    installed."""

    __slots__ = ("_did_install",)

    def __init__(self, did_install):
        self._did_install = did_install

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._did_install:
            self._did_install = False
            uninstall()
        return False

    def __repr__(self):
        return "<threadkit installed>" if installed() else "<threadkit not installed>"


def _install_from_env():
    """Called by ``threadkit_install.pth`` at start-up when ``THREADKIT_INSTALL`` is set to
    something other than ``""`` or ``"0"``: ``1`` installs; another value is reported on
    stderr and ignored (nothing is switched)."""
    value = _os.environ.get(ENV_VAR, "")
    if value == "1":
        install()
    elif value not in ("", "0") and not _State.env_warned:
        # Once: `site` may read the same site-packages twice (lib and its lib64 symlink).
        _State.env_warned = True
        _sys.stderr.write(
            "threadkit: %s=%r is not 1 or 0; threadkit is not installed\n" % (ENV_VAR, value)
        )

# Parts of this file follow CPython 3.13's Lib/queue.py closely: _HookedQueue is its Queue
# algorithm (shutdown included), and the storage hooks of LifoQueue and PriorityQueue are its.
# Copyright (c) 2001-2024 Python Software Foundation; All Rights Reserved. Those parts are
# used under the PSF License Version 2: see LICENSES/PSF-2.0.txt and LICENSES/README.md.

"""Drop-in replacement for the standard library's :mod:`queue`.

``import threadkit.queue as queue`` and change nothing else. ``Queue``, ``LifoQueue``,
``PriorityQueue`` and ``SimpleQueue`` hold their items in Rust (``PriorityQueue`` orders its
heap with the items' ``<``, by ``heapq``'s algorithm). Any subclass that overrides the storage
hooks (``_init``, ``_qsize``, ``_put``, ``_get``) runs CPython's own algorithm in Python over
threadkit's ``Lock`` and ``Condition``, so the hooks behave exactly as they do on the standard
library's classes.

Every queue also takes a keyword-only ``name`` (a str) and remembers the line of Python code
that created it, as threadkit's other primitives do (the lock and conditions of a queue that
runs the Python algorithm carry the queue's). Its repr shows them:
``<threadkit.queue.Queue object name='jobs' at 0x...>``.

The whole API of CPython 3.13 is offered on every version, ``shutdown()`` and ``ShutDown``
included. ``Empty`` and ``Full`` are the standard library's classes, and so is ``ShutDown``
from 3.13 on (before 3.13 it is threadkit's own, the same class everywhere in threadkit).

Differences from the standard library: a queue that keeps its items in Rust has ``maxsize`` and
``unfinished_tasks`` as properties rather than instance attributes, and no ``mutex``,
``not_empty``, ``not_full``, ``all_tasks_done`` or ``queue`` until code reads one: then (or when
code assigns one of them, a storage hook such as ``_put``, or ``unfinished_tasks``) that queue
switches to CPython's algorithm over a ``deque`` (a ``list`` for a ``LifoQueue``; for a
``PriorityQueue`` a ``list`` kept as a ``heapq`` heap, the Rust heap element for element), items
and blocked callers included, and has them all, as the standard library's (at its speed). Its
class becomes a subclass of its class with the same name. ``qsize()`` and ``empty()`` count an
item handed to a blocked ``get()`` until the getter runs Python again, as the standard library's
do.
``get``/``put`` with a NaN timeout give up at once, where the standard library spins forever.
A ``PriorityQueue`` comparison that raises (an item that cannot be compared: the same
``TypeError``) leaves the queue unchanged (the standard library keeps a failed put's item in its
heap and loses a failed get's). A ``__lt__`` may put into the same queue, from its own thread
or another, without a deadlock; a get from the same queue in a ``__lt__``, or reading its
internals there, is ``RuntimeError``.
"""

import queue as _std
import types as _types
from collections import deque as _deque
from heapq import heapify as _heapify
from heapq import heappop as _heappop
from heapq import heappush as _heappush
from time import monotonic as _time

from threadkit import _core
from threadkit.threading import Condition as _Condition
from threadkit.threading import Lock as _Lock
from threadkit.threading import RLock as _RLock

Empty = _std.Empty
Full = _std.Full
ShutDown = _core.ShutDown

__all__ = ["Empty", "Full", "ShutDown", "Queue", "PriorityQueue", "LifoQueue", "SimpleQueue"]

_HOOKS = ("_init", "_qsize", "_put", "_get")

# The standard library's internals that real code reads (``with q.mutex: q.queue.clear()``,
# ``q.queue[0]`` to peek, ``with q.not_empty:``...): a queue that keeps its items in Rust
# switches to the Python algorithm the first time one is read, or one of these assigned
# (``q.unfinished_tasks = 0``, ``q._put = spy``).
_INTERNALS = frozenset({"mutex", "queue", "not_empty", "not_full", "all_tasks_done"})
_SWITCH_ON_ASSIGN = _INTERNALS | frozenset(_HOOKS) | {"unfinished_tasks", "is_shutdown"}


class _QueueType(type):
    """Gives a class that overrides the storage hooks the Python-level algorithm."""

    def __new__(mcls, name, bases, ns, **kwargs):
        hooked = _hooked_variants.get
        if _hooked_variants and not any(issubclass(b, _HookedQueue) for b in bases):
            defines_hooks = any(h in ns for h in _HOOKS) or any(
                hasattr(b, h) for b in bases if not issubclass(b, Queue) for h in _HOOKS
            )
            if defines_hooks:
                if any(b in _hooked_variants for b in bases):
                    bases = tuple(hooked(b, b) for b in bases)
                else:
                    bases = bases + (_HookedQueue,)
        return super().__new__(mcls, name, bases, ns, **kwargs)


_hooked_variants = {}


class Queue(_core.Queue, metaclass=_QueueType):
    """A first-in, first-out queue, as ``queue.Queue``. ``maxsize`` <= 0 means unbounded."""

    __module__ = "threadkit.queue"

    def __init__(self, maxsize=0, *, name=None):
        # A hooked subclass whose __init__ names Queue.__init__ explicitly gets its setup.
        if isinstance(self, _HookedQueue):
            _HookedQueue.__init__(self, maxsize, name=name)
            return
        if name is not None:
            _core._check_name(type(self).__name__, name)
        # A subclass may pass `super().__init__` another bound than its constructor got (the
        # Rust constructor read the constructor's arguments).
        if maxsize != self.maxsize and type(maxsize) is int:
            self.maxsize = maxsize

    def __getattr__(self, name):
        # Only for a name not found: the internals of the standard library's Queue.
        if name in _INTERNALS:
            if not isinstance(self, _HookedQueue):
                _use_python_storage(self)
                return getattr(self, name)
            # Perhaps another thread is switching this queue right now (`queue` is made last).
            with _switch_lock:
                if name in self.__dict__:
                    return self.__dict__[name]
        raise AttributeError(
            "%r object has no attribute %r" % (type(self).__name__, name), name=name, obj=self
        )

    def __dir__(self):
        # The same before and after a switch to Python storage, as the standard library's
        # queue's never changes (code compares dir() around a call that patches the queue).
        return sorted((set(object.__dir__(self)) | _INTERNALS) - {_VARIANT})

    def __setattr__(self, name, value):
        if name in _SWITCH_ON_ASSIGN and not isinstance(self, _HookedQueue):
            _use_python_storage(self)
        object.__setattr__(self, name, value)

    def put_nowait(self, item):
        """Put an item into the queue without blocking; raise ``Full`` if there is no room."""
        return self.put(item, block=False)

    def get_nowait(self):
        """Remove and return an item if one is available at once; else raise ``Empty``."""
        return self.get(block=False)

    # The storage hooks, as CPython's: a subclass that overrides any of them runs the
    # Python-level algorithm (the items of a plain Queue live in Rust and do not use them).
    def _init(self, maxsize):
        self.queue = _deque()

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        self.queue.append(item)

    def _get(self):
        return self.queue.popleft()

    __class_getitem__ = classmethod(_types.GenericAlias)


class LifoQueue(Queue):
    """A last-in, first-out queue, as ``queue.LifoQueue``."""

    def __new__(cls, maxsize=0, *args, **kwargs):
        return super().__new__(cls, maxsize, _lifo=True, name=kwargs.get("name"))

    def _init(self, maxsize):
        self.queue = []

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        self.queue.append(item)

    def _get(self):
        return self.queue.pop()


class _HookedQueue(Queue):
    """CPython's ``queue.Queue`` algorithm (3.13), for classes with their own storage hooks."""

    def __init__(self, maxsize=0, *, name=None):
        if name is not None:
            _core._check_name(type(self).__name__, name)
        self.maxsize = maxsize
        self._init(maxsize)
        # The lock and the conditions carry the queue's label (its creation site and name; a
        # name given to __init__ only, by a subclass, replaces the label's).
        label = {"_label": self._label}
        if name is not None and name != label["_label"].name:
            label["name"] = name
        self.mutex = _Lock(**label)
        self.not_empty = _Condition(self.mutex, **label)
        self.not_full = _Condition(self.mutex, **label)
        self.all_tasks_done = _Condition(self.mutex, **label)
        self.unfinished_tasks = 0
        self.is_shutdown = False

    # The Rust queue's read-only properties are replaced by plain attributes.
    maxsize = None
    unfinished_tasks = None
    is_shutdown = None

    # Attribute assignment at C speed again (Queue's own checks for a switch to this class).
    __setattr__ = object.__setattr__

    def task_done(self):
        with self.all_tasks_done:
            unfinished = self.unfinished_tasks - 1
            if unfinished <= 0:
                if unfinished < 0:
                    raise ValueError("task_done() called too many times")
                self.all_tasks_done.notify_all()
            self.unfinished_tasks = unfinished

    def join(self):
        with self.all_tasks_done:
            while self.unfinished_tasks:
                self.all_tasks_done.wait()

    def qsize(self):
        with self.mutex:
            return self._qsize()

    def empty(self):
        with self.mutex:
            return not self._qsize()

    def full(self):
        with self.mutex:
            return 0 < self.maxsize <= self._qsize()

    def put(self, item, block=True, timeout=None):
        with self.not_full:
            if self.is_shutdown:
                raise ShutDown
            if self.maxsize > 0:
                if not block:
                    if self._qsize() >= self.maxsize:
                        raise Full
                elif timeout is None:
                    while self._qsize() >= self.maxsize:
                        self.not_full.wait()
                        if self.is_shutdown:
                            raise ShutDown
                elif timeout < 0:
                    raise ValueError("'timeout' must be a non-negative number")
                else:
                    endtime = _time() + timeout
                    while self._qsize() >= self.maxsize:
                        remaining = endtime - _time()
                        if remaining <= 0.0:
                            raise Full
                        self.not_full.wait(remaining)
                        if self.is_shutdown:
                            raise ShutDown
            self._put(item)
            self.unfinished_tasks += 1
            self.not_empty.notify()

    def get(self, block=True, timeout=None):
        with self.not_empty:
            if self.is_shutdown and not self._qsize():
                raise ShutDown
            if not block:
                if not self._qsize():
                    raise Empty
            elif timeout is None:
                while not self._qsize():
                    self.not_empty.wait()
                    if self.is_shutdown and not self._qsize():
                        raise ShutDown
            elif timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            else:
                endtime = _time() + timeout
                while not self._qsize():
                    remaining = endtime - _time()
                    if remaining <= 0.0:
                        raise Empty
                    self.not_empty.wait(remaining)
                    if self.is_shutdown and not self._qsize():
                        raise ShutDown
            item = self._get()
            self.not_full.notify()
            return item

    def shutdown(self, immediate=False):
        with self.mutex:
            self.is_shutdown = True
            if immediate:
                while self._qsize():
                    self._get()
                    if self.unfinished_tasks > 0:
                        self.unfinished_tasks -= 1
                # release all blocked threads in `join()`
                self.all_tasks_done.notify_all()
            # All getters need to re-check queue-empty to raise ShutDown
            self.not_empty.notify_all()
            self.not_full.notify_all()

    def _at_fork_reinit(self):
        self.mutex._at_fork_reinit()


class _HookedLifoQueue(_HookedQueue, LifoQueue):
    """CPython's ``queue.LifoQueue``, for subclasses of LifoQueue with their own hooks."""


class PriorityQueue(Queue):
    """A queue that returns its smallest item first (``heapq``), as ``queue.PriorityQueue``.

    The heap is kept in Rust and ordered with the items' ``<`` (``heapq``'s algorithm, so
    equal items come out in the standard library's order). A comparison that raises leaves the
    queue as it was. A ``__lt__`` may release the GIL, block, or put into the same queue (from
    its own thread or another) without a deadlock: a put that arrives while the heap is being
    ordered is queued at once and merged into the heap before the next operation.
    """

    def __new__(cls, maxsize=0, *args, **kwargs):
        return super().__new__(cls, maxsize, _priority=True, name=kwargs.get("name"))

    # The storage hooks, as CPython's, for subclasses that override some of them (they run the
    # Python-level algorithm); the items of a plain PriorityQueue live in Rust.

    def _init(self, maxsize):
        self.queue = []

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        try:
            _heappush(self.queue, item)
        except BaseException:
            # heappush appends before comparing: take the item back out, so that a failed put
            # changes nothing (the standard library keeps it in the heap).
            heap = self.queue
            for i, x in enumerate(heap):
                if x is item:
                    heap[i] = heap[-1]
                    heap.pop()
                    _heapify(heap)
                    break
            raise

    def _get(self):
        return _heappop(self.queue)


class _HookedPriorityQueue(_HookedQueue, PriorityQueue):
    """CPython's ``queue.PriorityQueue``, for subclasses of PriorityQueue with their own hooks."""


_hooked_variants.update(
    {Queue: _HookedQueue, LifoQueue: _HookedLifoQueue, PriorityQueue: _HookedPriorityQueue}
)

# The class an instance of a Rust-storage class switches to: a subclass of its class that runs
# the Python algorithm, with the same name (made once per class, kept in the class's own
# namespace so that it goes away with the class).
_VARIANT = "_threadkit_python_variant"
# Reentrant: the hooks that fill the new storage may read the queue's attributes.
_switch_lock = _RLock(name="threadkit.queue switch to Python storage")


def _python_variant(cls):
    variant = cls.__dict__.get(_VARIANT)
    if variant is None:
        if cls in _hooked_variants:
            bases = (_hooked_variants[cls],)
        else:
            base = next(b for b in cls.__mro__ if b in _hooked_variants)
            bases = (cls, _hooked_variants[base])
        variant = _QueueType(cls.__name__, bases, {"__module__": cls.__module__})
        variant.__qualname__ = cls.__qualname__
        variant.__doc__ = cls.__doc__
        type.__setattr__(cls, _VARIANT, variant)
    return variant


def _use_python_storage(q):
    """Moves ``q``'s items from Rust to a Python ``deque`` (a ``list`` for a ``LifoQueue``, a
    ``list`` kept as a ``heapq`` heap for a ``PriorityQueue``) and makes it run CPython's
    algorithm from now on, with ``mutex``, ``queue``, ``not_empty``, ``not_full``,
    ``all_tasks_done`` and plain ``maxsize``/``unfinished_tasks``/``is_shutdown`` attributes,
    exactly as the standard library's. Its class becomes a subclass of its class, of the same
    name. Calls blocked in Rust, and bound methods taken earlier, go on there.

    Costs what the standard library's queue costs (the Python algorithm, over threadkit's
    locks) instead of the Rust queue's speed, for this queue only.
    """
    # A PriorityQueue's heap first, as its own operations take it (waiting while another
    # thread orders it; RuntimeError from this thread's own comparison), and before
    # _switch_lock: a comparison runs with the heap held and may read another queue's internals.
    _core.Queue._hold_storage(q)
    try:
        with _switch_lock:
            if isinstance(q, _HookedQueue):
                return
            error = _switch(q)
    finally:
        _core.Queue._release_storage(q)
    if error is not None:
        raise error


def _switch(q):
    variant = _python_variant(type(q))
    label = {"_label": q._label}
    mutex = _Lock(**label)
    # Held before it is published: a call that arrives on the Python side (a new one, or one
    # that was blocked in Rust), or code that reads ``q.mutex`` meanwhile, waits until the items
    # are in. (Taken without waiting, so debug mode sees no order: nobody else has it yet.)
    mutex.acquire(False)
    error = None
    try:
        d = q.__dict__
        d["mutex"] = mutex
        d["not_empty"] = _Condition(mutex, **label)
        d["not_full"] = _Condition(mutex, **label)
        d["all_tasks_done"] = _Condition(mutex, **label)
        maxsize = q.maxsize
        q.__class__ = variant
        items, pending, unfinished, is_shutdown = _core.Queue._to_python_storage(q)
        d["maxsize"] = maxsize
        q._init(maxsize)
        if isinstance(q, PriorityQueue):
            # The heap as it is (a valid heapq list, in its order), then the puts that came
            # while it was being ordered.
            q.queue.extend(items)
            for item in pending:
                try:
                    q._put(item)
                except Exception as e:
                    # As when the Rust heap merges a pending put: the item stays (here at the
                    # heap's end, where the standard library's failed heappush leaves it) and
                    # the comparison's error is raised, once the switch is complete.
                    q.queue.append(item)
                    error = error or e
        else:
            for item in items:
                q._put(item)
        d["unfinished_tasks"] = unfinished
        d["is_shutdown"] = is_shutdown
        # Wake whoever came to the Python side meanwhile (it re-checks under the mutex).
        q.not_empty.notify_all()
        q.not_full.notify_all()
    finally:
        mutex.release()
    return error


SimpleQueue = _core.SimpleQueue

for _cls in (_HookedQueue, _HookedLifoQueue, _HookedPriorityQueue, PriorityQueue, LifoQueue):
    _cls.__module__ = "threadkit.queue"
del _cls

"""threadkit: Python's threading, queue and thread pool, implemented in Rust.

Switch with one changed import::

    import threadkit.threading as threading
    import threadkit.queue as queue
    from threadkit.futures import ThreadPoolExecutor

Or switch the whole process, libraries included, without changing an import: call
``threadkit.install()`` first, or run ``python -m threadkit program.py`` (see
``threadkit._install``).

This package also exports every threadkit primitive flat (``threadkit.Lock``...).
"""

from threadkit._core import BoundedSemaphore, Event, Lock, RLock, Semaphore
from threadkit.queue import (
    Empty,
    Full,
    LifoQueue,
    PriorityQueue,
    Queue,
    ShutDown,
    SimpleQueue,
)
from threadkit.threading import Barrier, BrokenBarrierError, Condition, Thread, Timer

# Last: it imports the modules above before switching anything.
from threadkit._install import install, installed, uninstall  # noqa: E402

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "Condition",
    "Empty",
    "Event",
    "Full",
    "LifoQueue",
    "Lock",
    "PriorityQueue",
    "Queue",
    "RLock",
    "Semaphore",
    "ShutDown",
    "SimpleQueue",
    "Thread",
    "Timer",
    "install",
    "installed",
    "uninstall",
]

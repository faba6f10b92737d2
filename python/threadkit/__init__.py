"""threadkit: Python's threading, queue and thread pool, implemented in Rust.

Switch with one changed import::

    import threadkit.threading as threading
    import threadkit.queue as queue
    from threadkit.futures import ThreadPoolExecutor

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
]

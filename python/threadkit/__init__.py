"""threadkit: Python's threading, queue and thread pool, implemented in Rust.

Switch with one changed import::

    import threadkit.threading as threading
    import threadkit.queue as queue
    from threadkit.futures import ThreadPoolExecutor

Or switch the whole process, libraries included, without changing an import: call
``threadkit.install()`` first, or run ``python -m threadkit program.py`` (see
``threadkit._install``).

This package also exports every threadkit primitive flat (``threadkit.Lock``...), and the
diagnostics of :mod:`threadkit.debug` ("why is my program stuck?"): deadlock reports
(``set_deadlock_action``, ``deadlock_hook``, ``DeadlockError``), thread dumps (``dump``,
``snapshot``, ``dump_on_signal``) and contention by lock (``contention``,
``contention_report``, ``reset_contention``).
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
from threadkit.debug import (
    DeadlockError,
    DeadlockReport,
    PotentialDeadlockError,
    contention,
    contention_report,
    deadlock_hook,
    dump,
    dump_on_signal,
    get_deadlock_action,
    reset_contention,
    set_deadlock_action,
    snapshot,
)

# Last: it imports the modules above before switching anything.
from threadkit._install import install, installed, uninstall  # noqa: E402

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "Condition",
    "DeadlockError",
    "DeadlockReport",
    "Empty",
    "Event",
    "Full",
    "LifoQueue",
    "Lock",
    "PotentialDeadlockError",
    "PriorityQueue",
    "Queue",
    "RLock",
    "Semaphore",
    "ShutDown",
    "SimpleQueue",
    "Thread",
    "Timer",
    "contention",
    "contention_report",
    "deadlock_hook",
    "dump",
    "dump_on_signal",
    "get_deadlock_action",
    "install",
    "installed",
    "reset_contention",
    "set_deadlock_action",
    "snapshot",
    "uninstall",
]

"""\"Why is my program stuck?\": deadlock reports, thread dumps and contention by lock.

Deadlocks are found the moment they form. When a thread is about to block without a timeout
and following "waits for -> held by -> waits for" leads back to it, no thread of that cycle can
ever go on.
What happens then is the process's *deadlock action*:

``"report"`` (the default)
    :data:`deadlock_hook` is called with a :class:`DeadlockReport` (the default hook prints it
    on ``sys.stderr``) and the thread goes on waiting, as it would without threadkit.
``"raise"``
    The wait that closed the cycle raises :class:`DeadlockError` (a ``RuntimeError``) with the
    report as its message, having changed nothing: the thread can release what it holds and
    the others go on.
``"ignore"``
    Nothing is looked for.

Set it with :func:`set_deadlock_action` or, before the process starts, the environment
variable ``THREADKIT_DEADLOCK`` (``report``, ``raise``, ``ignore``; child processes inherit it).

No false reports: a wait with a timeout is never part of a deadlock, and neither is a plain
``Lock`` that some thread once released for another (the hand-off idiom: any thread may
release a ``Lock``, so after that its holder is only a guess), nor a ``Lock`` the waiting
thread holds itself (the idiom's first step), nor a ``Lock`` held by a thread that waits for
something other than a lock, a join or a ``result()`` (it may hold the ``Lock`` as a closed gate
that another thread opens; hold an ``RLock`` there, which only its owner can release, and the
same cycle is found). Events, semaphores, queues and barriers have no known holder: they appear
in dumps and contention counters, never in a deadlock.

A wait finds deadlocks through locks (``Lock``, ``RLock``, a ``Condition`` taking its lock back
after ``wait``), thread joins, and the futures of a ``ThreadPoolExecutor`` (``result()`` of a
future running on a thread, or queued in a pool whose every worker is busy).

At any time, :func:`dump` prints every thread (threadkit's and the standard library's) with
its state, what it waits for and who holds that, and its Python stack; :func:`snapshot` returns
the same as plain data; :func:`dump_on_signal` prints a dump when the process receives a
signal, also while the main thread is blocked in a threadkit wait. :func:`contention` and
:func:`contention_report` tell which primitives threads waited for, how often and how long.

What is recorded costs nothing on the fast path: a thread's wait is recorded only when it
really blocks, so the locks a thread holds are known only when another thread waits for them,
and where a holder acquired a lock is not recorded (its stack is shown instead). In debug mode
a thread's wait also publishes the locks it holds, with where it took each when debug mode kept
that acquisition's stack (its first lock of a class, or a new lock order): reports then say
where the holder acquired a lock, and dumps list every lock a waiting thread holds.

Debug mode (off by default; :func:`enable`, ``THREADKIT_DEBUG=1`` or ``python -m threadkit
--debug``) finds deadlocks that did not happen yet. Locks created while it is on are grouped
into classes (by ``name=``, else by the line that created them); taking lock B while holding
lock A records the order A -> B, and an order that closes a cycle is a *potential deadlock*
(a lock-order inversion), reported once per cycle through :data:`deadlock_hook` as a
:class:`PotentialDeadlockReport`, with both stacks of every order in the cycle, or raised as
:class:`PotentialDeadlockError` by the acquisition that closed it (the lock not taken) when the
action is ``"raise"``. Only blocking acquisitions without a timeout record an order; RLock
re-entry, two locks of one class, and a ``Lock`` released by another thread than its taker
(hand-off) record none. :func:`allow` and ``Lock(order_checked=False)`` exempt orders the
program makes safe some other way. In debug mode a watchdog also reports (as an
:class:`AllAsleepReport`) a process whose every thread waits in an untimed threadkit wait.
"""

from __future__ import annotations

import os as _os
import signal as _signal
import sys as _sys
import threading as _std_threading
from types import FrameType
from typing import IO, Any, Callable, Literal, NamedTuple

from threadkit import _compat, _core

__all__ = [
    "AllAsleepReport",
    "ContentionRow",
    "DeadlockError",
    "DeadlockReport",
    "PotentialDeadlockError",
    "PotentialDeadlockReport",
    "allow",
    "contention",
    "contention_report",
    "deadlock_hook",
    "disable",
    "dump",
    "dump_on_signal",
    "enable",
    "get_deadlock_action",
    "is_enabled",
    "reset_contention",
    "reset_lock_order",
    "set_deadlock_action",
    "snapshot",
]

DeadlockAction = Literal["report", "raise", "ignore"]

_HERE = __file__


# -------------------------------------------------------------------------------------------
# The action


def set_deadlock_action(action: DeadlockAction) -> None:
    """Set what a wait that would close a deadlock does, for the whole process: ``"report"``,
    ``"raise"`` or ``"ignore"`` (see the module documentation). Any other value is
    ``ValueError``. Waits already blocked keep the action they started with."""
    _core.set_deadlock_action(action)


def get_deadlock_action() -> DeadlockAction:
    """The process's deadlock action: ``"report"``, ``"raise"`` or ``"ignore"`` (at first, the
    environment variable ``THREADKIT_DEADLOCK``, else ``"report"``)."""
    return _core.get_deadlock_action()  # type: ignore[return-value]


# -------------------------------------------------------------------------------------------
# Names, stacks and labels


def _registry() -> dict[int, Any]:
    """The standard library's running threads (threadkit's among them), by ident."""
    return {ident: t for ident, t in list(_compat.active.items())}


def _main_ident() -> int | None:
    import threading

    return threading.main_thread().ident


def _display(name: str | None, ident: int) -> str:
    return f"'{name}'" if name is not None else f"thread {ident}"


# The threads' bootstrap frames, left out of stacks (as tracebacks of a thread's exception
# start at run()): threadkit's and the standard library's threading modules.
_BOOTSTRAP_FILES = frozenset(
    _os.path.normcase(_os.path.abspath(m.__file__))
    for m in (_std_threading, _sys.modules.get("threadkit.threading"))
    if m is not None and m.__file__ is not None
)
_BOOTSTRAP_FUNCTIONS = frozenset({"_bootstrap", "_bootstrap_inner"})


def _is_bootstrap(filename: str, function: str) -> bool:
    """Whether a frame is a thread's bootstrap (left out of the stacks shown)."""
    return function in _BOOTSTRAP_FUNCTIONS and (
        _os.path.normcase(_os.path.abspath(filename)) in _BOOTSTRAP_FILES)


def _stack(frame: FrameType | None) -> list[dict[str, Any]]:
    """The stack from ``frame`` outwards, outermost call first, without this module's frames
    at the top (those of the dump or report being made) and the thread's bootstrap at the
    bottom."""
    while frame is not None and frame.f_code.co_filename == _HERE:
        frame = frame.f_back
    if frame is None:
        return []
    import traceback  # only when a stack is shown: `import threadkit` stays light

    frames = list(traceback.extract_stack(frame))
    while len(frames) > 1 and _is_bootstrap(frames[0].filename, frames[0].name):
        del frames[0]
    return [
        {"file": f.filename, "line": f.lineno, "function": f.name, "code": f.line or ""}
        for f in frames
    ]


def _format_stack(stack: list[dict[str, Any]], indent: str) -> list[str]:
    lines = []
    for f in stack:
        lines.append(f'{indent}File "{f["file"]}", line {f["line"]}, in {f["function"]}')
        if f["code"]:
            lines.append(f"{indent}  {f['code']}")
    return lines


def _what(target: dict[str, Any], full: bool = True) -> str:
    """``Lock 'inventory'``, ``Lock created at app.py:12``; with ``full``, a name is followed by
    its site; an operation follows: ``Queue 'jobs' created at app.py:3 (get)``."""
    if target["name"] is not None:
        text = f"{target['primitive']} '{target['name']}'"
        if full:
            text += f" created at {target['site']}"
    else:
        text = f"{target['primitive']} created at {target['site']}"
    if target.get("operation"):
        text += f" ({target['operation']})"
    return text


# -------------------------------------------------------------------------------------------
# Deadlock reports


class DeadlockReport:
    """A deadlock found when a thread was about to block: the threads in it and the cycle.

    ``threads`` lists the thread whose wait closed the cycle first, then the rest of the cycle
    in order, then any thread stuck in the deadlock without being on that cycle (a pool
    worker); ``cycle`` is the prefix that forms the cycle. Each thread is a dict: ``name``,
    ``ident``, ``daemon`` (``None`` if unknown), ``waits_for`` (a dict: ``kind``, such as
    ``"Lock"`` or ``"Thread.join"``; ``primitive``, ``operation``, ``name`` and ``site`` of
    what it waits for), ``held_by`` and ``held_by_names``, ``acquired_at`` (``"file:line"``
    where the holder acquired it, in debug mode; ``None`` when not recorded), ``waited``
    (seconds), ``reacquire`` (a Condition taking its lock back
    after ``wait``), ``stack`` (its Python stack, outermost call first: dicts ``file``,
    ``line``, ``function``, ``code``).

    ``str(report)`` is the text :data:`deadlock_hook` prints and :class:`DeadlockError` carries;
    :attr:`cycle_line` is its last line: ``'restock' -> Lock 'log' -> 'write_log' -> Lock
    'inventory' -> 'restock'``. :meth:`as_dict` returns plain, JSON-serialisable data.
    """

    threads: list[dict[str, Any]]
    cycle: list[dict[str, Any]]
    raises: bool

    def __init__(self, threads: list[dict[str, Any]], cycle: int, raises: bool) -> None:
        self.threads = threads
        self.cycle = threads[: max(cycle, 1)]
        self.raises = raises

    @property
    def cycle_line(self) -> str:
        """The cycle in one line: ``'a' -> Lock 'x' -> 'b' -> Lock 'y' -> 'a'``."""
        parts = []
        for t in self.cycle:
            parts.append(_display(t["name"], t["ident"]))
            parts.append(_what(t["waits_for"], full=False))
        parts.append(_display(self.threads[0]["name"], self.threads[0]["ident"]))
        return " -> ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data: ``threads``, ``cycle`` (the idents of the cycle, in order),
        ``cycle_line``, ``raises``, ``text``."""
        return {
            "threads": [dict(t, stack=[dict(f) for f in t["stack"]]) for t in self.threads],
            "cycle": [t["ident"] for t in self.cycle],
            "cycle_line": self.cycle_line,
            "raises": self.raises,
            "text": str(self),
        }

    def __str__(self) -> str:
        n = len(self.threads)
        lines = ["Deadlock found: 1 thread waits for itself." if n == 1
                 else f"Deadlock found: {n} threads wait for each other."]
        for t in self.threads:
            who = _display(t["name"], t["ident"])
            lines.append("")
            lines.append(f"Thread {who} (ident {t['ident']}), waiting for {t['waited']:.3f} s")
            wait = f"    waits for {_what(t['waits_for'])}"
            if t["reacquire"]:
                wait += " (taking it back after Condition.wait)"
            lines.append(wait)
            holders = [f"{_display(name, h)} (ident {h})"
                       for h, name in zip(t["held_by"], t["held_by_names"])]
            if len(holders) == 1:
                lines.append(f"    held by {holders[0]}")
            else:
                lines.append(f"    waits for any of {', '.join(holders)}, all stuck")
            if t["acquired_at"] is not None:
                lines.append(f"    acquired by it at {t['acquired_at']}")
            elif t["waits_for"]["primitive"] in ("Lock", "RLock") and len(holders) == 1:
                lines.append(f"    {_acquisition_unknown()}")
            if t["stack"]:
                lines.append(f"    Stack of {who} (most recent call last):")
                lines.extend(_format_stack(t["stack"], "      "))
            else:
                lines.append("    (no Python stack)")
        lines.append("")
        lines.append(f"Cycle: {self.cycle_line}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<threadkit.DeadlockReport {self.cycle_line}>"


class DeadlockError(RuntimeError):
    """A wait gave up because it would have closed a deadlock, with the deadlock action
    ``"raise"``. The message is the report's text; :attr:`report` is the
    :class:`DeadlockReport` (``None`` if it could not be built). Nothing was changed by the
    wait that raised it: the thread still holds what it held, and releasing it (leaving its
    ``with`` blocks) lets the other threads of the cycle go on."""

    report: DeadlockReport | None

    def __init__(self, message: str, report: DeadlockReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class PotentialDeadlockReport:
    """A lock-order inversion found in debug mode: a cycle of orders "took B while holding A"
    that threads running at the same time would turn into a deadlock.

    :attr:`edges` lists them, the one whose acquisition closed the cycle first, each a dict:
    ``thread`` (ident), ``thread_name``, ``held`` and ``acquired`` (dicts ``kind``, ``name``,
    ``site``), ``held_stack`` and ``acquired_stack`` (lists of dicts ``file``, ``line``,
    ``function``, outermost call first; ``held_stack`` is ``None`` when the thread had taken a
    lock of that class before, elsewhere). :attr:`scenario` is one line per thread: ``'restock'
    acquire Lock 'inventory', then Lock 'log'``. ``str()`` is the full report."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.edges: list[dict[str, Any]] = [dict(e) for e in data["edges"]]
        self.scenario: list[str] = list(data["scenario"])
        self.raises: bool = data["raises"]
        self._text: str = data["text"]

    def as_dict(self) -> dict[str, Any]:
        """The report as plain (JSON-serialisable) data."""
        return {"edges": self.edges, "scenario": self.scenario}

    def __str__(self) -> str:
        return self._text.rstrip("\n")

    def __repr__(self) -> str:
        return f"<PotentialDeadlockReport {' | '.join(self.scenario)}>"


class PotentialDeadlockError(RuntimeError):
    """An acquisition gave up (the lock not taken) because it closed a lock-order cycle in
    debug mode with the deadlock action ``"raise"``. The message is the report's text;
    :attr:`report` is the :class:`PotentialDeadlockReport`."""

    report: PotentialDeadlockReport | None

    def __init__(self, message: str, report: PotentialDeadlockReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class AllAsleepReport:
    """Debug mode: every thread of the process waits in an untimed threadkit wait, so none can
    ever wake another (Go's "all goroutines are asleep"). ``str()`` is a header and a thread
    dump (each thread, what it waits for, who holds it, its stack); :attr:`snapshot` is the
    same as plain data (see :func:`snapshot`)."""

    def __init__(self, header: str, snap: dict[str, Any]) -> None:
        self.header = header
        self.snapshot = snap

    def __str__(self) -> str:
        return f"{self.header}\n{_format_snapshot(self.snapshot)}".rstrip("\n")

    def __repr__(self) -> str:
        return f"<AllAsleepReport {len(self.snapshot['threads'])} threads>"


def _potential_deadlock_found(data: dict[str, Any]) -> PotentialDeadlockReport | PotentialDeadlockError:
    """Called by the bindings in the thread whose acquisition closed a lock-order cycle."""
    report = PotentialDeadlockReport(data)
    if data["raises"]:
        return PotentialDeadlockError(str(report), report)
    return report


def _all_asleep_found(core_text: str) -> AllAsleepReport:
    """Called by the bindings on a sleeping thread the watchdog woke for it."""
    return AllAsleepReport(core_text.splitlines()[0], snapshot())


def _capture() -> tuple[str | None, list[tuple[str, int, str]]]:
    """Debug mode's stack capture (called by the bindings inside an ``acquire()``): the
    current thread's name and its Python stack, outermost call first, without this frame and
    the thread's bootstrap frames."""
    frame: FrameType | None = _sys._getframe(1)
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append((code.co_filename, frame.f_lineno or 0, code.co_name))
        frame = frame.f_back
    frames.reverse()
    while len(frames) > 1 and _is_bootstrap(frames[0][0], frames[0][2]):
        del frames[0]
    thread = _registry().get(_core.get_ident())
    return (thread.name if thread is not None else None), frames


def enable() -> None:
    """Turn debug mode on: locks created from now on are order-checked, and the all-asleep
    watchdog runs. Locks created before stay unchecked, so call it before creating the locks
    of interest (or set ``THREADKIT_DEBUG=1`` before the process starts)."""
    _core._enable_debug()


def disable() -> None:
    """Turn debug mode off: nothing more is recorded or reported."""
    _core._disable_debug()


def is_enabled() -> bool:
    """Whether debug mode is on."""
    return _core._debug_enabled()


def allow(first: Any, second: Any) -> None:
    """Declare that taking ``second`` while holding ``first`` is safe even where the reverse
    order also occurs, because the program keeps the two from running at once some other way
    (for example two phases separated by an ``Event`` or a ``Barrier``): the order
    ``first -> second`` is not recorded from then on. Each is a threadkit ``Lock``/``RLock``
    (standing for its class: every lock created on the same line, or with the same name) or a
    lock name (``str``)."""
    _core._allow(first, second)


def reset_lock_order() -> None:
    """Forget every lock order recorded and every cycle reported (for tests)."""
    _core.reset_lock_order()


def _acquisition_unknown() -> str:
    # The core's words, as its own reports say them.
    if is_enabled():
        return _core.ACQUIRED_AT_UNKNOWN_IN_DEBUG_MODE
    return _core.ACQUIRED_AT_UNKNOWN


def _build_report(data: dict[str, Any], frames: dict[int, FrameType]) -> DeadlockReport:
    registry = _registry()
    core_names = {t["ident"]: t["name"] for t in data["threads"]}

    def name_of(ident: int) -> str | None:
        t = registry.get(ident)
        return t.name if t is not None else core_names.get(ident)

    threads = []
    for t in data["threads"]:
        ident = t["ident"]
        thread = registry.get(ident)
        threads.append({
            "name": name_of(ident),
            "ident": ident,
            "daemon": thread.daemon if thread is not None else None,
            "waits_for": dict(t["waits_for"]),
            "held_by": list(t["held_by"]),
            "held_by_names": [name_of(h) for h in t["held_by"]],
            "acquired_at": t["acquired_at"],
            "waited": t["waited"],
            "reacquire": t["reacquire"],
            "stack": _stack(frames.get(ident)),
        })
    return DeadlockReport(threads, data["cycle"], data["raises"])


def _deadlock_found(data: dict[str, Any]) -> DeadlockReport | DeadlockError:
    """Called by the bindings in the thread whose wait found a deadlock (``data`` is the core's
    report as a dict): the report to hand to the hook, or the ``DeadlockError`` to raise."""
    frames = _compat.current_frames()
    frames[_core.get_ident()] = _compat.caller_frame(1)
    report = _build_report(data, frames)
    if data["raises"]:
        return DeadlockError(str(report), report)
    return report


def __deadlock_hook__(report: DeadlockReport) -> None:
    """The default :data:`deadlock_hook`: print the report on ``sys.stderr``, in one write."""
    _write(f"threadkit: {report}\n", None)


deadlock_hook: Callable[[DeadlockReport], object] = __deadlock_hook__
"""Called with the :class:`DeadlockReport` of each deadlock found with the action
``"report"``, in the thread whose wait found it, which then goes on waiting. Replace it as
``threading.excepthook``: ``threadkit.deadlock_hook = my_hook`` (or on this module); the
default is ``__deadlock_hook__``. An exception from the hook is printed as
``sys.unraisablehook`` prints them and the thread goes on waiting (a ``KeyboardInterrupt``
ends the wait)."""


def _current_hook() -> Callable[[DeadlockReport], object]:
    """The hook to call: ``threadkit.deadlock_hook`` if it was replaced, else this module's."""
    package = _sys.modules.get("threadkit")
    hook = getattr(package, "deadlock_hook", None)
    if hook is None or hook is __deadlock_hook__:
        hook = globals().get("deadlock_hook")
    return hook if hook is not None else __deadlock_hook__


# -------------------------------------------------------------------------------------------
# Snapshots and dumps


def snapshot() -> dict[str, Any]:
    """Every live thread, threadkit's and the standard library's, and what it is doing, as
    plain JSON-serialisable data::

        {"threads": [{"name": "worker", "ident": 1402, "daemon": False, "main": False,
                      "state": "waiting",
                      "waiting": {"kind": "Lock", "primitive": "Lock", "operation": None,
                                  "name": "inventory", "site": "app.py:12",
                                  "held_by": [1401], "held_by_names": ["MainThread"],
                                  "waited": 1.204, "timed": False, "reacquire": False},
                      "holds": [],
                      "stack": [{"file": "app.py", "line": 20, "function": "work",
                                 "code": "with inventory:"}, ...]},
                     ...],
         "deadlocks": [DeadlockReport.as_dict(), ...]}

    ``state`` is ``"waiting"`` for a thread blocked in a threadkit wait (``waiting`` then says
    on what), else ``"running"`` (which includes blocking outside threadkit: I/O, sleep, the
    standard library's locks). ``holds`` lists what the thread holds and other threads wait for
    (the uncontended path records nothing, so a lock nobody waits for is not listed, except in
    debug mode for a waiting thread or the calling one): dicts ``kind``, ``primitive``,
    ``operation``, ``name``, ``site``, ``acquired_at`` (``"file:line"``, or ``None``: not
    recorded, always so with debug mode off). ``daemon`` is ``None`` for a thread neither registry knows.
    """
    core = _core._snapshot()
    frames = _compat.current_frames()
    registry = _registry()
    main = _main_ident()
    by_ident = {t["ident"]: t for t in core["threads"]}
    order = list(registry)
    order += [t["ident"] for t in core["threads"] if t["ident"] not in registry]
    order += sorted(i for i in frames if i not in registry and i not in by_ident)

    def name_of(ident: int) -> str | None:
        t = registry.get(ident)
        if t is not None:
            return t.name
        c = by_ident.get(ident)
        return c["name"] if c is not None else None

    threads = []
    for ident in order:
        thread = registry.get(ident)
        c = by_ident.get(ident, {"daemon": None, "waiting": None, "holds": []})
        waiting = c["waiting"]
        if waiting is not None:
            waiting = dict(waiting, held_by=list(waiting["held_by"]),
                           held_by_names=[name_of(h) for h in waiting["held_by"]])
        threads.append({
            "name": name_of(ident),
            "ident": ident,
            "daemon": thread.daemon if thread is not None else c["daemon"],
            "main": ident == main,
            "state": "waiting" if waiting is not None else "running",
            "waiting": waiting,
            "holds": [dict(h) for h in c["holds"]],
            "stack": _stack(frames.get(ident)),
        })
    deadlocks = [_build_report(d, frames).as_dict() for d in core["deadlocks"]]
    return {"threads": threads, "deadlocks": deadlocks}


def _format_snapshot(snap: dict[str, Any]) -> str:
    threads = snap["threads"]
    lines = [f"threadkit thread dump: {len(threads)} thread{'' if len(threads) == 1 else 's'}"]
    for t in threads:
        lines.append("")
        facts = [f"ident {t['ident']}"]
        if t["main"]:
            facts.append("main")
        if t["daemon"] is not None:
            facts.append("daemon" if t["daemon"] else "not daemon")
        head = f"Thread {_display(t['name'], t['ident'])} ({', '.join(facts)}): "
        w = t["waiting"]
        if w is None:
            head += "running (not in a threadkit wait)"
        else:
            head += f"waiting for {_what(w)}"
            if w["reacquire"]:
                head += " (taking it back after Condition.wait)"
            holders = [f"{_display(n, h)} (ident {h})"
                       for h, n in zip(w["held_by"], w["held_by_names"])]
            if len(holders) == 1:
                head += f", held by {holders[0]}"
            elif holders:
                head += f", held by any of {', '.join(holders)}"
            head += f", for {w['waited']:.3f} s"
            if w["timed"]:
                head += " (with a timeout)"
        lines.append(head)
        for h in t["holds"]:
            held = f"    holds {_what(h)}"
            if h["acquired_at"] is not None:
                held += f", acquired at {h['acquired_at']}"
            lines.append(held)
        if t["stack"]:
            lines.append("    Stack (most recent call last):")
            lines.extend(_format_stack(t["stack"], "      "))
        else:
            lines.append("    (no Python stack)")
    lines.append("")
    deadlocks = snap["deadlocks"]
    if not deadlocks:
        lines.append("Deadlocks: none")
    else:
        lines.append(f"Deadlocks: {len(deadlocks)}")
        for d in deadlocks:
            lines.append("")
            lines.append(d["text"])
    return "\n".join(lines)


def _write(text: str, file: IO[str] | None) -> None:
    """Writes ``text`` to ``file`` (``sys.stderr`` by default, skipped if there is none) in one
    write, and flushes."""
    if file is None:
        file = _sys.stderr
        if file is None:
            return
    file.write(text)
    file.flush()


def dump(file: IO[str] | None = None) -> None:
    """Print every live thread (threadkit's and the standard library's): name, ident, main,
    daemon, its state (running; or waiting for what, held by whom, for how long), what it holds
    that others wait for, and its Python stack; then the deadlocks there are now, each as its
    report. Writes to ``file`` (``sys.stderr`` by default), in one write."""
    _write(_format_snapshot(snapshot()) + "\n", file)


def dump_on_signal(signum: int = _signal.SIGUSR1, file: IO[str] | None = None) -> Any:
    """Print a :func:`dump` to ``file`` (``sys.stderr``) each time the process receives the
    signal ``signum`` (``SIGUSR1`` by default): ``kill -USR1 <pid>`` shows where a stuck
    program is. Works while the main thread is blocked in a threadkit wait (those waits run
    signal handlers). Call it from the main thread; returns the previous handler, as
    ``signal.signal``."""

    def _dump_on_signal(signum: int, frame: FrameType | None) -> None:
        dump(file)

    return _signal.signal(signum, _dump_on_signal)


# -------------------------------------------------------------------------------------------
# Contention


class ContentionRow(NamedTuple):
    """How much threads waited for the primitives of one kind, name and creation site, since
    the last :func:`reset_contention` (seconds)."""

    kind: str
    """``"Lock"``, ``"RLock"``, ``"Queue"``, ``"Event"``..."""
    name: str | None
    """The primitive's ``name=``, if it was given one."""
    site: str
    """Where it was created: ``file.py:LINE``."""
    contended: int
    """Waits that could not proceed at once."""
    total_wait: float
    """Their total duration."""
    max_wait: float
    """The longest of them."""
    waiters: int
    """Threads waiting now."""

    @property
    def label(self) -> str:
        """``Lock 'inventory'`` or ``Lock created at app.py:12``."""
        if self.name is not None:
            return f"{self.kind} '{self.name}'"
        return f"{self.kind} created at {self.site}"


def contention(top: int | None = 10) -> list[ContentionRow]:
    """The ``top`` most waited-for primitives (all with ``top=None``), longest total wait first.
    Only waits that blocked count (an uncontended acquire, a ``get`` that finds an item count
    nothing); primitives with the same kind, name and creation site share a row."""
    rows = [ContentionRow(**r) for r in _core._contention()]
    return rows if top is None else rows[: max(top, 0)]


def reset_contention() -> None:
    """Set every contention counter back to zero (threads waiting now stay counted as
    waiting)."""
    _core.reset_contention()


def contention_report(file: IO[str] | None = None, top: int | None = 10) -> None:
    """Print :func:`contention` as a table on ``file`` (``sys.stderr`` by default)."""
    rows = contention(top)
    if not rows:
        text = "threadkit contention: no contended waits\n"
    else:
        labels = [r.label for r in rows]
        width = max(len("primitive"), *(len(label) for label in labels))
        lines = [
            "threadkit contention (longest total wait first):",
            f"{'primitive':<{width}}  {'waits':>8}  {'total s':>10}  {'max s':>10}  {'waiting':>7}",
        ]
        for r, label in zip(rows, labels):
            lines.append(f"{label:<{width}}  {r.contended:>8}  {r.total_wait:>10.6f}  "
                         f"{r.max_wait:>10.6f}  {r.waiters:>7}")
        text = "\n".join(lines) + "\n"
    _write(text, file)

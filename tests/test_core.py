"""The extension module ``threadkit._core`` as the Python package sees it: its class names and
modules, the named values of the protocol between ``_core.Future`` and ``threadkit.futures``,
the one interpreter-shutdown flag, and the signatures ``help()`` shows."""

import concurrent.futures
import inspect
import queue
import threading

import pytest

import threadkit
import threadkit.futures as tk_futures
import threadkit.queue as tk_queue
import threadkit.threading as tk_threading
from threadkit import _core

# ---------------------------------------------------------------------------------------------
# Names and modules


def test_classes_are_named_after_what_they_wrap():
    assert _core.Thread.__name__ == "Thread"
    assert _core.ThreadPool.__name__ == "ThreadPool"
    assert not hasattr(_core, "ThreadState")
    assert not hasattr(_core, "WorkQueue")
    with tk_futures.ThreadPoolExecutor(1) as ex:
        assert type(ex._work_queue) is _core.ThreadPool
    t = tk_threading.Thread(target=int)
    assert type(t._tk) is _core.Thread


def path(cls):
    return "%s.%s" % (cls.__module__, cls.__qualname__)


@pytest.mark.parametrize(
    "python_class, rust_class",
    [
        (tk_queue.Queue, _core.Queue),
        (tk_threading.Condition, _core.Condition),
        (tk_threading.Barrier, _core.Barrier),
        (tk_futures.Future, _core.Future),
    ],
    ids=lambda c: c.__name__,
)
def test_a_rust_base_class_shows_as_core_in_the_mro(python_class, rust_class):
    mro = [path(c) for c in python_class.__mro__]
    assert python_class.__mro__[1] is rust_class
    assert mro[1] == "threadkit._core." + rust_class.__name__
    assert len(set(mro)) == len(mro), mro


@pytest.mark.parametrize(
    "cls, module",
    [
        (threadkit.Lock, "threadkit"),
        (threadkit.RLock, "threadkit"),
        (threadkit.Semaphore, "threadkit"),
        (threadkit.BoundedSemaphore, "threadkit"),
        (threadkit.Event, "threadkit"),
        (tk_queue.SimpleQueue, "threadkit.queue"),
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_a_class_exported_as_is_keeps_its_public_module(cls, module):
    # Its repr shows it (`<unlocked threadkit.Lock object at ...>`).
    assert cls.__module__ == module
    assert cls is getattr(_core, cls.__name__)


# ---------------------------------------------------------------------------------------------
# The futures protocol


def test_protocol_values_are_distinct():
    bits = [_core.FUTURE_LOCKED, _core.FUTURE_CALLBACKS, _core.FUTURE_CANCELLED]
    for b in bits:
        assert b > 0 and b & (b - 1) == 0, b
    assert len(set(bits)) == len(bits)
    assert _core.FUTURE_RUNNING not in (0, _core.FUTURE_LOCKED, _core.FUTURE_INVALID)
    assert _core.FUTURE_INVALID < 0


def test_cancel_returns_the_named_bits():
    f = _core.Future()
    assert f._cancel() == _core.FUTURE_CANCELLED
    assert f._cancel() == _core.FUTURE_CANCELLED  # already cancelled: nothing left to do
    assert f._start() == 0  # cancelled, no waiter to tell
    g = _core.Future()
    assert g._start() == _core.FUTURE_RUNNING
    assert g._cancel() == 0  # running: not cancelled


def test_a_completion_with_a_condition_returns_with_its_lock_held():
    f = tk_futures.Future()
    condition = f._condition
    assert f._cancel() == _core.FUTURE_CANCELLED | _core.FUTURE_LOCKED
    assert condition._is_owned()
    condition.release()
    assert f._start() == _core.FUTURE_LOCKED  # the caller tells the waiters `add_cancelled`
    assert condition._is_owned()
    condition.release()


def test_finish_and_fail_return_callbacks_or_invalid():
    f = _core.Future()
    assert f._add_callback(print)
    assert f._start() == _core.FUTURE_RUNNING
    assert f._start() == _core.FUTURE_INVALID
    assert f._fail(ValueError()) == _core.FUTURE_CALLBACKS
    assert f._finish(1) == _core.FUTURE_INVALID
    g = _core.Future()
    assert g._finish(1) == 0
    assert g._fail(ValueError()) == _core.FUTURE_INVALID


def test_broken_initializer_message_is_the_core_s_and_cpython_s():
    def init():
        raise ValueError("no")

    messages = []
    for mod in (concurrent.futures, tk_futures):
        ex = mod.ThreadPoolExecutor(1, initializer=init)
        with pytest.raises(concurrent.futures.BrokenExecutor) as info:
            ex.submit(int).result(timeout=60)
        ex.shutdown()
        messages.append(str(info.value))
    assert messages == [_core.BROKEN_INITIALIZER] * 2


# ---------------------------------------------------------------------------------------------
# Shutdown


def test_one_shutdown_flag_set_by_the_pool_exit_hook(python):
    r = python(
        """
        import threading
        import threadkit.futures
        from threadkit import _core
        print(_core._interpreter_shutting_down(), flush=True)
        # Runs after threadkit.futures' exit hook (registered at import).
        threading._threading_atexits.insert(
            0, lambda: print(_core._interpreter_shutting_down(), flush=True))
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]


# ---------------------------------------------------------------------------------------------
# Signatures: help() shows real defaults, as the standard library's


def test_lock_acquire_shows_its_defaults():
    assert str(inspect.signature(threadkit.Lock.acquire)) == "(self, /, blocking=True, timeout=-1)"
    assert "..." not in (threadkit.Lock.acquire.__text_signature__ or "")


def test_no_core_method_hides_its_defaults():
    hidden = []
    for name, obj in vars(_core).items():
        members = vars(obj).items() if isinstance(obj, type) else [("", obj)]
        for member, value in members:
            text = getattr(value, "__text_signature__", None) or ""
            if "..." in text:
                hidden.append("%s.%s%s" % (name, member, text))
    assert hidden == []


# The C locks of CPython 3.11 and 3.12 have no signature; 3.13's are these.
C_LOCK_SIGNATURES = {
    "acquire": "(blocking=True, timeout=-1)",
    "acquire_lock": "(blocking=True, timeout=-1)",
}

CASES = {
    "Lock": lambda m: m.Lock(),
    "RLock": lambda m: m.RLock(),
    "Condition": lambda m: m.Condition(),
    "Semaphore": lambda m: m.Semaphore(),
    "BoundedSemaphore": lambda m: m.BoundedSemaphore(),
    "Event": lambda m: m.Event(),
    "Barrier": lambda m: m.Barrier(2),
    "Queue": lambda m: m.Queue(),
    "LifoQueue": lambda m: m.LifoQueue(),
    "PriorityQueue": lambda m: m.PriorityQueue(),
    "SimpleQueue": lambda m: m.SimpleQueue(),
}


def signature(method):
    try:
        return str(inspect.signature(method))
    except ValueError:  # a C method without a text signature
        return None


@pytest.mark.parametrize("name", sorted(CASES))
def test_method_signatures_match_the_standard_library(name):
    std_mod, tk_mod = (queue, tk_queue) if "Queue" in name else (threading, tk_threading)
    std, ours = CASES[name](std_mod), CASES[name](tk_mod)
    methods = [m for m in dir(std) if not m.startswith("_") and callable(getattr(std, m))]
    methods = [m for m in methods if hasattr(ours, m)]
    assert methods
    compared = 0
    for m in methods:
        expected = signature(getattr(std, m))
        if expected is None and name in ("Lock", "RLock", "Condition"):
            expected = C_LOCK_SIGNATURES.get(m)
        actual = signature(getattr(ours, m))
        assert "..." not in str(actual), (name, m, actual)
        if expected is not None:
            assert actual == expected, (name, m)
            compared += 1
    # The lock's acquire is compared on every version.
    assert compared > 0

"""Queue.shutdown (CPython 3.13 semantics).

threadkit offers shutdown on every version; the standard library from 3.13. Each test runs on
threadkit always, and on the standard library where it has shutdown (see require_shutdown).
"""

import itertools
import queue
import sys
import threading

import pytest

import threadkit.queue as tkq
from _helpers_queue import (
    KINDS,
    JOIN_TIMEOUT,
    Runner,
    join_all,
    none_done,
    reexported,
    require_shutdown,
)
from conftest import outcome


@pytest.fixture
def qm(queue_mod):
    require_shutdown(queue_mod)
    return queue_mod


def shut_down(mod):
    return (mod.ShutDown, "")


# --- the exception -------------------------------------------------------------------------


@pytest.mark.skipif(
    reexported("Queue") and sys.version_info < (3, 13),
    reason="threadkit.queue still re-exports the stdlib's queue, without ShutDown before 3.13",
)
def test_threadkit_has_shutdown_on_every_version():
    assert "ShutDown" in tkq.__all__
    assert issubclass(tkq.ShutDown, Exception)
    assert not issubclass(tkq.ShutDown, (queue.Empty, queue.Full))
    if hasattr(queue, "ShutDown"):
        assert tkq.ShutDown is queue.ShutDown
    assert callable(tkq.Queue.shutdown)
    assert tkq.Queue().is_shutdown is False


# --- state transitions ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_is_shutdown_and_allowed_transitions(qm, kind):
    q = getattr(qm, kind)()
    assert q.is_shutdown is False
    assert q.shutdown() is None
    assert q.is_shutdown is True
    q.shutdown()
    q.shutdown(immediate=True)
    assert q.is_shutdown is True
    q.shutdown(immediate=False)
    q.shutdown(True)
    assert q.is_shutdown is True


# --- shutdown(): puts refused, gets drain then raise ----------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("maxsize", [0, 3])
def test_shutdown_refuses_puts_and_drains_gets(qm, kind, maxsize):
    q = getattr(qm, kind)(maxsize)
    for x in [2, 1, 3]:
        q.put(x)
    q.shutdown()
    for put in [lambda: q.put(9), lambda: q.put_nowait(9), lambda: q.put(9, timeout=1),
                lambda: q.put(9, block=False), lambda: q.put(9, True, None)]:
        assert outcome(put) == shut_down(qm)
    assert q.qsize() == 3
    assert q.unfinished_tasks == 3
    expected = {"Queue": [2, 1, 3], "LifoQueue": [3, 1, 2], "PriorityQueue": [1, 2, 3]}[kind]
    assert [q.get(), q.get_nowait(), q.get(timeout=1)] == expected
    for get in [q.get, q.get_nowait, lambda: q.get(timeout=1), lambda: q.get(False),
                lambda: q.get(True, 0)]:
        assert outcome(get) == shut_down(qm)
    assert q.unfinished_tasks == 3
    for _ in range(3):
        q.task_done()
    q.join()
    assert outcome(q.task_done) == (ValueError, "task_done() called too many times")


def test_shutdown_on_empty_queue(qm):
    q = qm.Queue()
    q.shutdown()
    assert outcome(lambda: q.put("data")) == shut_down(qm)
    assert outcome(q.get) == shut_down(qm)
    assert q.empty()
    q.join()


SHUTDOWN_ORDER_CALLS = [
    # (queue factory, call) -- which check wins once the queue is shut down.
    (lambda m: m.Queue(1), lambda q: q.put(1, timeout=-1)),  # ShutDown before ValueError
    (lambda m: m.Queue(), lambda q: q.get(timeout=-1)),  # empty: ShutDown
    (lambda m: m.Queue(), lambda q: q.get(False)),  # empty: ShutDown, not Empty
    (lambda m: m.Queue(), lambda q: q.get(timeout=0)),
    (lambda m: _filled(m.Queue(1), 1), lambda q: q.put(2, block=False)),  # full: ShutDown, not Full
    (lambda m: _filled(m.Queue(1), 1), lambda q: q.put(2, timeout=0)),
    (lambda m: _filled(m.Queue(), 1), lambda q: q.get(timeout=-1)),  # items left: ValueError
    (lambda m: _filled(m.Queue(), 1), lambda q: q.get(False, -1)),  # items left: returns
    (lambda m: _filled(m.Queue(), 1), lambda q: q.task_done()),
    (lambda m: m.Queue(), lambda q: q.task_done()),
    (lambda m: _filled(m.Queue(), 1), lambda q: q.qsize()),
    (lambda m: _filled(m.Queue(1), 1), lambda q: q.full()),
]

SHUTDOWN_ORDER_EXPECTED = [
    "ShutDown", "ShutDown", "ShutDown", "ShutDown", "ShutDown", "ShutDown",
    (ValueError, "'timeout' must be a non-negative number"),
    ("returned", 1),
    ("returned", None),
    (ValueError, "task_done() called too many times"),
    ("returned", 1),
    ("returned", True),
]


def _filled(q, *items):
    for x in items:
        q.put(x)
    return q


@pytest.mark.parametrize("immediate", [False, True])
@pytest.mark.parametrize("case", range(len(SHUTDOWN_ORDER_CALLS)))
def test_checks_order_after_shutdown(qm, case, immediate):
    make, call = SHUTDOWN_ORDER_CALLS[case]
    expected = SHUTDOWN_ORDER_EXPECTED[case]

    def run(m):
        q = make(m)
        q.shutdown(immediate=immediate)
        return outcome(lambda: call(q))

    got = run(qm)
    if hasattr(queue, "ShutDown"):
        assert got == run(queue)
    if not immediate:  # with immediate, the queue was emptied: compared with stdlib only
        assert got == (shut_down(qm) if expected == "ShutDown" else expected)
    elif expected == "ShutDown":
        assert got == shut_down(qm)


# --- shutdown(immediate=True) --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_immediate_shutdown_empties_the_queue(qm, kind):
    q = getattr(qm, kind)(5)
    for i in range(5):
        q.put(i)
    assert q.get() in (0, 4)  # taken, not yet done
    q.shutdown(immediate=True)
    assert q.qsize() == 0
    assert q.empty()
    assert not q.full()
    assert q.unfinished_tasks == 1  # the 4 removed items count as done; the taken one does not
    assert outcome(q.get) == shut_down(qm)
    assert outcome(q.get_nowait) == shut_down(qm)
    assert outcome(lambda: q.put(1)) == shut_down(qm)
    q.task_done()
    q.join()
    assert outcome(q.task_done) == (ValueError, "task_done() called too many times")


def test_immediate_shutdown_after_task_done_beyond_puts(qm):
    # task_done() may run ahead of get(); immediate shutdown never drives the count negative.
    q = qm.Queue()
    q.put(1)
    q.put(2)
    q.task_done()
    q.task_done()
    q.shutdown(immediate=True)
    assert q.unfinished_tasks == 0
    assert q.qsize() == 0
    q.join()


def test_shutdown_after_shutdown_immediate_keeps_it_immediate(qm):
    q = qm.Queue()
    q.put(1)
    q.shutdown(immediate=True)
    q.shutdown()
    assert q.qsize() == 0
    assert outcome(q.get) == shut_down(qm)


def test_immediate_after_plain_shutdown_drops_the_rest(qm):
    q = qm.Queue()
    for i in range(3):
        q.put(i)
    q.shutdown()
    assert q.get() == 0
    q.shutdown(immediate=True)
    assert q.qsize() == 0
    assert q.unfinished_tasks == 1
    assert outcome(q.get) == shut_down(qm)


# --- blocked callers -----------------------------------------------------------------------


@pytest.mark.parametrize("immediate", [False, True])
@pytest.mark.parametrize("timeout", [None, 30])
@pytest.mark.parametrize("kind", KINDS)
def test_blocked_getters_raise_shutdown(qm, kind, timeout, immediate):
    q = getattr(qm, kind)()
    getters = [Runner(q.get, timeout=timeout) for _ in range(4)]
    assert none_done(getters)
    q.shutdown(immediate=immediate)
    for g in getters:
        g.join()
        assert isinstance(g.error, qm.ShutDown)
    assert q.unfinished_tasks == 0


@pytest.mark.parametrize("immediate", [False, True])
@pytest.mark.parametrize("timeout", [None, 30])
@pytest.mark.parametrize("kind", KINDS)
def test_blocked_putters_raise_shutdown(qm, kind, timeout, immediate):
    q = getattr(qm, kind)(2)
    q.put(1)
    q.put(2)
    putters = [Runner(q.put, 10 + i, timeout=timeout) for i in range(4)]
    assert none_done(putters)
    q.shutdown(immediate=immediate)
    for p in putters:
        p.join()
        assert isinstance(p.error, qm.ShutDown)
    if immediate:
        assert q.qsize() == 0
        assert q.unfinished_tasks == 0
    else:
        assert q.qsize() == 2
        assert q.unfinished_tasks == 2
        assert sorted([q.get(), q.get()]) == [1, 2]
    assert outcome(q.get_nowait) == shut_down(qm)


def test_plain_shutdown_wakes_getters_only_once_empty(qm):
    # Items left: the blocked getters that find one take it; the others raise ShutDown.
    q = qm.Queue()
    getters = [Runner(q.get) for _ in range(3)]
    assert none_done(getters)
    q.put("a")
    q.put("b")
    q.shutdown()
    results = []
    for g in getters:
        g.join()
        results.append(g.result if g.error is None else type(g.error))
    assert sorted(results, key=repr) == sorted(["a", "b", qm.ShutDown], key=repr)


def test_immediate_shutdown_unblocks_join(qm):
    q = qm.Queue()
    for i in range(3):
        q.put(i)
    joiners = [Runner(q.join) for _ in range(3)]
    assert none_done(joiners)
    q.shutdown(immediate=True)
    for j in joiners:
        assert j.value() is None  # join returns, it does not raise
    assert q.unfinished_tasks == 0


def test_immediate_shutdown_join_still_waits_for_taken_items(qm):
    q = qm.Queue()
    q.put("taken")
    q.put("dropped")
    assert q.get() == "taken"
    joiner = Runner(q.join)
    q.shutdown(immediate=True)
    assert not joiner.done.wait(0.1)  # "taken" is still unfinished
    q.task_done()
    assert joiner.value() is None


def test_plain_shutdown_does_not_release_join(qm):
    q = qm.Queue()
    q.put(1)
    joiner = Runner(q.join)
    q.shutdown()
    assert not joiner.done.wait(0.1)
    assert q.get() == 1
    assert not joiner.done.wait(0.05)
    q.task_done()
    assert joiner.value() is None


# --- stress --------------------------------------------------------------------------------


@pytest.mark.parametrize("maxsize", [0, 4])
@pytest.mark.parametrize("immediate", [False, True])
def test_stress_shutdown_with_producers_and_consumers(qm, immediate, maxsize):
    # Every item whose put() returned is either taken exactly once or, with immediate=True,
    # dropped by the shutdown; every thread ends with ShutDown; the task count balances.
    q = qm.Queue(maxsize)
    n_threads = 8
    put_ok = [[] for _ in range(n_threads)]
    taken = [[] for _ in range(n_threads)]
    ended = []
    errors = []
    enough = threading.Event()
    lock = threading.Lock()

    def producer(p):
        try:
            # Until shut down: a bounded count could be reached first by a fast queue.
            for i in itertools.count():
                q.put((p, i))
                put_ok[p].append((p, i))
                if i == 300:
                    enough.set()
        except qm.ShutDown:
            with lock:
                ended.append("producer")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def consumer(c):
        try:
            while True:
                taken[c].append(q.get())
                q.task_done()
        except qm.ShutDown:
            with lock:
                ended.append("consumer")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=producer, args=(i,)) for i in range(n_threads)]
    threads += [threading.Thread(target=consumer, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    assert enough.wait(JOIN_TIMEOUT)
    q.shutdown(immediate=immediate)
    join_all(threads)
    assert not errors
    assert sorted(ended) == ["consumer"] * n_threads + ["producer"] * n_threads
    puts = [x for part in put_ok for x in part]
    gets = [x for part in taken for x in part]
    assert len(gets) == len(set(gets))
    assert set(gets) <= set(puts)
    if not immediate:
        assert sorted(gets) == sorted(puts)
    assert q.qsize() == 0
    assert q.unfinished_tasks == 0
    q.join()

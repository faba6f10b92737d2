"""Queue, LifoQueue and PriorityQueue: behaviour pinned against the standard library.

Every test with the ``queue_mod`` fixture runs on the standard library's ``queue`` and on
``threadkit.queue``; error paths are compared exactly with ``outcome``.
"""

import dataclasses
import itertools
import queue
import random
import threading
import time
import types

import pytest

import threadkit.queue as tkq
from _helpers_queue import (
    KINDS,
    JOIN_TIMEOUT,
    Runner,
    assert_blocked_get_releases_the_gil,
    join_all,
    none_done,
    reexported,
)
from conftest import outcome

NEGATIVE_TIMEOUT = (ValueError, "'timeout' must be a non-negative number")


# --- module namespace and exceptions --------------------------------------------------------


def test_exceptions_are_the_stdlib_classes(queue_mod):
    assert queue_mod.Empty is queue.Empty
    assert queue_mod.Full is queue.Full
    if hasattr(queue, "ShutDown"):
        assert queue_mod.ShutDown is queue.ShutDown


def test_stdlib_names_are_all_there(queue_mod):
    for name in queue.__all__:
        assert name in queue_mod.__all__
        assert hasattr(queue_mod, name)


def test_empty_raised_by_get_is_catchable_as_queue_empty(queue_mod):
    with pytest.raises(queue.Empty):
        queue_mod.Queue().get_nowait()
    with pytest.raises(queue.Full):
        q = queue_mod.Queue(1)
        q.put(1)
        q.put_nowait(2)


@pytest.mark.parametrize("kind", KINDS)
def test_generic_alias(queue_mod, kind):
    cls = getattr(queue_mod, kind)
    alias = cls[int]
    assert isinstance(alias, types.GenericAlias)
    assert alias.__origin__ is cls
    assert alias.__args__ == (int,)
    assert type(alias()) is cls
    assert repr(alias).endswith(".%s[int]" % kind)


@pytest.mark.parametrize("kind", KINDS)
def test_subclass_relations(queue_mod, kind):
    cls = getattr(queue_mod, kind)
    assert issubclass(cls, queue_mod.Queue)
    assert isinstance(cls(), queue_mod.Queue)


# --- maxsize, qsize, empty, full ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("maxsize", [0, -1, -10])
def test_maxsize_zero_or_negative_is_unbounded(queue_mod, kind, maxsize):
    q = getattr(queue_mod, kind)(maxsize)
    assert q.maxsize == maxsize
    for i in range(1000):
        q.put_nowait(i)
        assert not q.full()
    q.put(1000, timeout=0)
    q.put(1001, block=False)
    assert q.qsize() == 1002
    assert q.unfinished_tasks == 1002
    assert not q.empty()
    assert not q.full()


@pytest.mark.parametrize("kind", KINDS)
def test_default_maxsize_is_zero(queue_mod, kind):
    assert getattr(queue_mod, kind)().maxsize == 0
    assert getattr(queue_mod, kind)(maxsize=7).maxsize == 7


@pytest.mark.parametrize("kind", KINDS)
def test_qsize_empty_full_track_contents(queue_mod, kind):
    q = getattr(queue_mod, kind)(3)
    assert (q.qsize(), q.empty(), q.full()) == (0, True, False)
    q.put(1)
    assert (q.qsize(), q.empty(), q.full()) == (1, False, False)
    q.put(2)
    q.put(3)
    assert (q.qsize(), q.empty(), q.full()) == (3, False, True)
    q.get()
    assert (q.qsize(), q.empty(), q.full()) == (2, False, False)
    q.get()
    q.get()
    assert (q.qsize(), q.empty(), q.full()) == (0, True, False)


@pytest.mark.parametrize("kind", KINDS)
def test_bounded_queue_refuses_when_full(queue_mod, kind):
    q = getattr(queue_mod, kind)(2)
    q.put(1)
    q.put_nowait(2)
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    with pytest.raises(queue.Full):
        q.put(3, block=False)
    with pytest.raises(queue.Full):
        q.put(3, False, 10)  # timeout ignored when not blocking
    with pytest.raises(queue.Full):
        q.put(3, timeout=0)
    assert q.qsize() == 2
    assert q.unfinished_tasks == 2
    assert sorted([q.get(), q.get()]) == [1, 2]


def test_maxsize_is_a_writable_attribute(queue_mod):
    # CPython's test_shrinking_queue (issue 10110): the bound is read on every put.
    q = queue_mod.Queue(3)
    q.put(1)
    q.put(2)
    q.maxsize = 2
    assert q.full()
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    q.maxsize = 0
    q.put_nowait(3)
    assert not q.full()
    assert q.qsize() == 3


# --- ordering ---------------------------------------------------------------------------------


def test_queue_is_fifo(queue_mod):
    q = queue_mod.Queue()
    items = list(range(100))
    random.Random(1).shuffle(items)
    for x in items:
        q.put(x)
    assert [q.get() for _ in items] == items


def test_lifo_queue_is_lifo(queue_mod):
    q = queue_mod.LifoQueue()
    items = list(range(100))
    random.Random(2).shuffle(items)
    for x in items:
        q.put(x)
    assert [q.get() for _ in items] == items[::-1]


def test_priority_queue_returns_smallest_first(queue_mod):
    q = queue_mod.PriorityQueue()
    items = list(range(100)) * 2
    random.Random(3).shuffle(items)
    for x in items:
        q.put(x)
    assert [q.get() for _ in items] == sorted(items)


@pytest.mark.parametrize(
    "kind, expected",
    [("Queue", [1, 2, 3, 4]), ("LifoQueue", [2, 4, 3, 1]), ("PriorityQueue", [1, 2, 3, 4])],
)
def test_interleaved_ordering(queue_mod, kind, expected):
    q = getattr(queue_mod, kind)()
    q.put(1)
    q.put(2)
    got = [q.get()]
    q.put(3)
    q.put(4)
    got += [q.get(), q.get(), q.get()]
    assert got == expected


def test_priority_queue_equal_priorities_with_tuples(queue_mod):
    q = queue_mod.PriorityQueue()
    for item in [(1, "b"), (0, "z"), (1, "a"), (2, "a"), (0, "y"), (1, "a")]:
        q.put(item)
    got = [q.get() for _ in range(6)]
    assert got == [(0, "y"), (0, "z"), (1, "a"), (1, "a"), (1, "b"), (2, "a")]


@dataclasses.dataclass(order=True)
class Job:
    priority: int
    name: str = dataclasses.field(compare=False)


def _equal_priority_order(mod):
    # The documented pattern for payloads that do not compare. Items of equal priority come out
    # in the order heapq's algorithm gives (not FIFO): threadkit must give the same order.
    q = mod.PriorityQueue()
    rnd = random.Random(4)
    names = iter(itertools.count())
    out = []
    for _ in range(200):
        for _ in range(rnd.randrange(1, 4)):
            q.put(Job(rnd.randrange(3), "job%d" % next(names)))
        out.append(q.get().name)
    while not q.empty():
        out.append(q.get().name)
    return out


def test_priority_queue_equal_priorities_come_out_as_in_stdlib(queue_mod):
    assert _equal_priority_order(queue_mod) == _equal_priority_order(queue)


def _put_incomparable(mod, first, bad):
    q = mod.PriorityQueue()
    for x in first:
        q.put(x)
    return outcome(lambda: q.put(bad))


@pytest.mark.parametrize(
    "first, bad",
    [([1, 3], object()), ([(1, "a"), (1, "b")], (1, object())), ([5], "five"),
     ([(0, 1)], (0, None))],
)
def test_priority_queue_incomparable_item_raises_typeerror_as_stdlib(queue_mod, first, bad):
    got = _put_incomparable(queue_mod, first, bad)
    assert got[0] is TypeError
    assert got == _put_incomparable(queue, first, bad)


def test_priority_queue_first_item_is_never_compared(queue_mod):
    # A single item needs no comparison: an incomparable item goes in and comes out.
    q = queue_mod.PriorityQueue()
    o = object()
    q.put(o)
    assert q.get() is o


@pytest.mark.skipif(
    reexported("PriorityQueue"),
    reason="threadkit.queue.PriorityQueue is still the stdlib's: heapq appends the item before "
    "the comparison fails, so the stdlib's qsize grows and later gets may raise TypeError",
)
def test_priority_queue_incomparable_item_loses_nothing():
    # The stdlib leaves the bad item in its heap (see the skip reason); threadkit must not.
    q = tkq.PriorityQueue()
    for x in [5, 1, 4, 2, 3]:
        q.put(x)
    with pytest.raises(TypeError):
        q.put(object())
    with pytest.raises(TypeError):
        q.put_nowait("six")
    assert q.qsize() == 5
    assert q.unfinished_tasks == 5
    assert [q.get_nowait() for _ in range(5)] == [1, 2, 3, 4, 5]
    assert q.empty()
    q.put(7)
    assert q.get() == 7


# --- put/get: block, timeout, errors (compared exactly) -------------------------------------


def _full(mod, kind="Queue", n=1):
    q = getattr(mod, kind)(n)
    for i in range(n):
        q.put(i)
    return q


def _with_items(mod, kind="Queue", *items):
    q = getattr(mod, kind)()
    for x in items:
        q.put(x)
    return q


ERROR_PATH_CALLS = [
    # A negative timeout is only checked when the call would otherwise block: never for an
    # unbounded put, always for a bounded blocking put (even with room), always for a blocking get.
    lambda m, k: getattr(m, k)().put(1, timeout=-1),
    lambda m, k: getattr(m, k)(2).put(1, timeout=-1),
    lambda m, k: getattr(m, k)(2).put(1, True, -0.5),
    lambda m, k: getattr(m, k)(2).put(1, block=False, timeout=-1),
    lambda m, k: _full(m, k).put(1, block=False, timeout=-1),
    lambda m, k: _full(m, k).put(1, timeout=-1),
    lambda m, k: getattr(m, k)().get(timeout=-1),
    lambda m, k: getattr(m, k)().get(True, -1),
    lambda m, k: getattr(m, k)().get(False, -1),
    lambda m, k: _with_items(m, k, 5).get(timeout=-1),
    lambda m, k: _with_items(m, k, 5).get(False, -1),
    # Zero timeouts and non-blocking calls.
    lambda m, k: getattr(m, k)().get(timeout=0),
    lambda m, k: getattr(m, k)().get(block=False),
    lambda m, k: getattr(m, k)().get_nowait(),
    lambda m, k: _with_items(m, k, 5).get(timeout=0),
    lambda m, k: _with_items(m, k, 5, 6).get_nowait(),
    lambda m, k: _full(m, k).put(1, timeout=0),
    lambda m, k: _full(m, k).put(1, timeout=0.0),
    lambda m, k: _full(m, k, 3).put_nowait(1),
    lambda m, k: getattr(m, k)(2).put(1, timeout=0),
    lambda m, k: getattr(m, k)(2).put_nowait(1),
    # Arguments by keyword, and a few wrong types.
    lambda m, k: getattr(m, k)(maxsize=1).put(item=1, block=True, timeout=None),
    lambda m, k: _with_items(m, k, 5).get(block=True, timeout=None),
    lambda m, k: getattr(m, k)().get(timeout="1"),
    lambda m, k: getattr(m, k)(1).put(1, timeout="1"),
    # task_done and join.
    lambda m, k: getattr(m, k)().task_done(),
    lambda m, k: getattr(m, k)().join(),
    lambda m, k: _with_items(m, k, 1).task_done(),
    lambda m, k: getattr(m, k)().unfinished_tasks,
    lambda m, k: _with_items(m, k, 1, 2).unfinished_tasks,
    # Booleans as block flags, as the stdlib accepts anything truthy.
    lambda m, k: _with_items(m, k, 5).get(0),
    lambda m, k: getattr(m, k)().get(0),
    lambda m, k: getattr(m, k)().get(""),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", ERROR_PATH_CALLS)
def test_same_results_and_errors_as_stdlib(queue_mod, kind, call):
    assert outcome(lambda: call(queue_mod, kind)) == outcome(lambda: call(queue, kind))


@pytest.mark.parametrize("kind", KINDS)
def test_negative_timeout_message(queue_mod, kind):
    assert outcome(lambda: getattr(queue_mod, kind)().get(timeout=-1)) == NEGATIVE_TIMEOUT
    assert outcome(lambda: getattr(queue_mod, kind)(3).put(1, timeout=-1)) == NEGATIVE_TIMEOUT
    assert outcome(lambda: getattr(queue_mod, kind)().task_done()) == (
        ValueError,
        "task_done() called too many times",
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.put(1, blok=True),
        lambda q: q.get(timeot=1),
        lambda q: q.put(),
        lambda q: q.put(1, True, 1, 1),
        lambda q: q.get(True, 1, 1),
        lambda q: q.put_nowait(),
        lambda q: q.get_nowait(1),
        lambda q: q.qsize(1),
        lambda q: q.task_done(1),
        lambda q: q.join(1),
    ],
)
def test_wrong_arguments_are_typeerror(queue_mod, call):
    assert outcome(lambda: call(queue_mod.Queue()))[0] is TypeError


def test_failed_calls_change_nothing(queue_mod):
    q = queue_mod.Queue(2)
    q.put("a")
    for bad in [lambda: q.put("x", timeout=-1), lambda: q.get(timeout=-1),
                lambda: q.get(timeout="1")]:
        with pytest.raises((ValueError, TypeError)):
            bad()
    q.put("b")
    with pytest.raises(queue.Full):
        q.put_nowait("c")
    assert q.qsize() == 2
    assert q.unfinished_tasks == 2
    assert [q.get(), q.get()] == ["a", "b"]
    with pytest.raises(queue.Empty):
        q.get_nowait()
    assert q.unfinished_tasks == 2


@pytest.mark.parametrize("kind", KINDS)
def test_get_timeout_raises_empty_promptly(queue_mod, kind):
    q = getattr(queue_mod, kind)()
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    elapsed = time.monotonic() - t0
    assert 0.04 <= elapsed < 5
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(True, 0.01)
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("kind", KINDS)
def test_put_timeout_raises_full_promptly(queue_mod, kind):
    q = _full(queue_mod, kind, 2)
    t0 = time.monotonic()
    with pytest.raises(queue.Full):
        q.put(9, timeout=0.05)
    elapsed = time.monotonic() - t0
    assert 0.04 <= elapsed < 5
    assert q.qsize() == 2
    assert q.unfinished_tasks == 2


@pytest.mark.parametrize("kind", KINDS)
def test_nonblocking_calls_do_not_wait(queue_mod, kind):
    q = _full(queue_mod, kind, 1)
    t0 = time.monotonic()
    for _ in range(100):
        with pytest.raises(queue.Full):
            q.put(1, block=False, timeout=60)
    q.get()
    for _ in range(100):
        with pytest.raises(queue.Empty):
            q.get(False, 60)
    assert time.monotonic() - t0 < 5


# --- blocking and waking ---------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [None, 30])
@pytest.mark.parametrize("kind", KINDS)
def test_blocked_get_is_woken_by_put(queue_mod, kind, timeout):
    q = getattr(queue_mod, kind)()
    getter = Runner(q.get, timeout=timeout)
    assert not getter.done.wait(0.05)  # blocked
    q.put("item")
    assert getter.value() == "item"
    assert q.qsize() == 0
    assert q.unfinished_tasks == 1


@pytest.mark.parametrize("timeout", [None, 30])
@pytest.mark.parametrize("kind", KINDS)
def test_blocked_put_is_woken_by_get(queue_mod, kind, timeout):
    q = _full(queue_mod, kind, 2)
    putter = Runner(q.put, 10, timeout=timeout)
    assert not putter.done.wait(0.05)  # blocked
    assert q.qsize() == 2
    first = q.get()
    assert putter.value() is None
    assert q.qsize() == 2
    assert q.unfinished_tasks == 3
    assert sorted([first, q.get(), q.get()]) == [0, 1, 10]


def test_each_put_wakes_one_getter(queue_mod):
    q = queue_mod.Queue()
    getters = [Runner(q.get) for _ in range(8)]
    for i in range(8):
        q.put(i)
    assert sorted(g.value() for g in getters) == list(range(8))
    assert q.empty()


def test_each_get_wakes_one_putter(queue_mod):
    q = _full(queue_mod, "Queue", 1)
    putters = [Runner(q.put, i) for i in range(1, 9)]
    got = []
    for _ in range(9):
        got.append(q.get(timeout=JOIN_TIMEOUT))
    for p in putters:
        assert p.value() is None
    assert sorted(got) == list(range(9))
    assert q.empty()
    assert q.unfinished_tasks == 9


def test_blocking_get_releases_the_gil(queue_mod):
    # Another thread runs Python code (and puts) while the main thread waits in get().
    assert_blocked_get_releases_the_gil(queue_mod.Queue())


def test_get_with_timeout_returns_item_put_during_wait(queue_mod):
    q = queue_mod.LifoQueue()
    go = threading.Event()
    t = Runner(lambda: (go.wait(JOIN_TIMEOUT), q.put("x")))
    go.set()
    assert q.get(timeout=JOIN_TIMEOUT) == "x"
    t.value()


# --- task_done, join, unfinished_tasks -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_unfinished_tasks_counts_puts_minus_task_dones(queue_mod, kind):
    q = getattr(queue_mod, kind)()
    assert q.unfinished_tasks == 0
    for i in range(5):
        q.put(i)
    assert q.unfinished_tasks == 5
    q.get()
    q.get()
    assert q.unfinished_tasks == 5  # get() does not finish a task
    q.task_done()
    assert q.unfinished_tasks == 4
    # task_done does not have to follow a get(): it only counts.
    for _ in range(4):
        q.task_done()
    assert q.unfinished_tasks == 0
    assert q.qsize() == 3
    assert outcome(q.task_done) == (ValueError, "task_done() called too many times")
    assert q.unfinished_tasks == 0
    q.join()  # nothing unfinished: returns at once


def test_join_returns_at_once_on_fresh_queue(queue_mod):
    q = queue_mod.Queue()
    q.join()
    q.join()


@pytest.mark.parametrize("kind", KINDS)
def test_join_blocks_until_every_task_done(queue_mod, kind):
    q = getattr(queue_mod, kind)()
    for i in range(3):
        q.put(i)
    joiners = [Runner(q.join) for _ in range(3)]
    for _ in range(3):
        q.get()
    q.task_done()
    q.task_done()
    assert none_done(joiners)  # one task still unfinished
    q.task_done()
    for j in joiners:
        assert j.value() is None
    assert q.unfinished_tasks == 0
    q.join()


def test_join_woken_by_task_done_in_worker_threads(queue_mod):
    q = queue_mod.Queue()
    total = [0]
    lock = threading.Lock()

    def worker():
        while True:
            x = q.get()
            if x is None:
                q.task_done()
                return
            with lock:
                total[0] += x
            q.task_done()

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for w in workers:
        w.start()
    for i in range(200):
        q.put(i)
    q.join()
    assert total[0] == sum(range(200))
    for _ in workers:
        q.put(None)
    q.join()
    join_all(workers)
    assert q.unfinished_tasks == 0


def test_task_done_too_many_times_after_join(queue_mod):
    q = queue_mod.Queue()
    q.put(1)
    q.get()
    q.task_done()
    q.join()
    with pytest.raises(ValueError, match=r"^task_done\(\) called too many times$"):
        q.task_done()


# --- stress -----------------------------------------------------------------------------------

N_PRODUCERS = 8
N_CONSUMERS = 8
PER_PRODUCER = 1500
SENTINEL = (float("inf"), -1)  # compares with the (producer, i) items, sorts last


@pytest.mark.parametrize("maxsize", [0, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_stress_every_item_delivered_exactly_once(queue_mod, kind, maxsize):
    q = getattr(queue_mod, kind)(maxsize)
    start = threading.Barrier(N_PRODUCERS + N_CONSUMERS)
    got = [[] for _ in range(N_CONSUMERS)]
    errors = []

    def producer(p):
        try:
            start.wait(JOIN_TIMEOUT)
            for i in range(PER_PRODUCER):
                q.put((p, i))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def consumer(c):
        try:
            start.wait(JOIN_TIMEOUT)
            while True:
                item = q.get()
                q.task_done()
                if item == SENTINEL:
                    return
                got[c].append(item)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    producers = [threading.Thread(target=producer, args=(p,)) for p in range(N_PRODUCERS)]
    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(N_CONSUMERS)]
    for t in producers + consumers:
        t.start()
    join_all(producers)
    q.join()  # all items taken and task_done'd
    assert q.unfinished_tasks == 0
    for _ in consumers:
        q.put(SENTINEL)
    join_all(consumers)
    q.join()
    assert not errors
    everything = [x for part in got for x in part]
    assert len(everything) == N_PRODUCERS * PER_PRODUCER
    assert sorted(everything) == [(p, i) for p in range(N_PRODUCERS) for i in range(PER_PRODUCER)]
    assert q.qsize() == 0
    assert q.unfinished_tasks == 0
    if maxsize > 0:
        assert not q.full()


@pytest.mark.parametrize("maxsize", [0, 2])
def test_stress_nonblocking_and_timeout_calls(queue_mod, maxsize):
    # Producers use put_nowait/put(timeout) and retry on Full; consumers use get_nowait and
    # get(timeout) and retry on Empty. Nothing lost, nothing duplicated.
    q = queue_mod.Queue(maxsize)
    total = N_PRODUCERS * 300
    taken = []
    taken_lock = threading.Lock()
    producers_done = threading.Event()
    errors = []

    def producer(p):
        try:
            for i in range(300):
                while True:
                    try:
                        if i % 2:
                            q.put_nowait((p, i))
                        else:
                            q.put((p, i), timeout=0.001)
                        break
                    except queue.Full:
                        time.sleep(0)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def consumer(c):
        try:
            n = 0
            while True:
                try:
                    item = q.get_nowait() if n % 2 else q.get(timeout=0.001)
                except queue.Empty:
                    if producers_done.is_set() and q.empty():
                        return
                    time.sleep(0)
                    continue
                n += 1
                with taken_lock:
                    taken.append(item)
                q.task_done()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    producers = [threading.Thread(target=producer, args=(p,)) for p in range(N_PRODUCERS)]
    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(N_CONSUMERS)]
    for t in producers + consumers:
        t.start()
    join_all(producers)
    producers_done.set()
    join_all(consumers)
    q.join()
    assert not errors
    assert len(taken) == total
    assert len(set(taken)) == total
    assert q.unfinished_tasks == 0


def test_fifo_order_per_producer_with_one_consumer(queue_mod):
    q = queue_mod.Queue(4)
    producers = [
        threading.Thread(target=lambda p=p: [q.put((p, i)) for i in range(500)])
        for p in range(N_PRODUCERS)
    ]
    for t in producers:
        t.start()
    got = [q.get(timeout=JOIN_TIMEOUT) for _ in range(N_PRODUCERS * 500)]
    join_all(producers)
    for p in range(N_PRODUCERS):
        assert [i for (pp, i) in got if pp == p] == list(range(500))

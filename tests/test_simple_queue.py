"""SimpleQueue: behaviour pinned against the standard library (the C ``_queue.SimpleQueue``)."""

import gc
import pickle
import queue
import threading
import time
import types
import weakref

import pytest

from _helpers_queue import (
    JOIN_TIMEOUT,
    Runner,
    assert_blocked_get_releases_the_gil,
    join_all,
    none_done,
)
from conftest import outcome


def type_only(call):
    """The exception type a call raises (its message names the class, which differs)."""
    try:
        call()
    except BaseException as e:  # noqa: BLE001
        return type(e)
    return None


def _with_items(mod, *items):
    q = mod.SimpleQueue()
    for x in items:
        q.put(x)
    return q


def test_basic_fifo(queue_mod):
    q = queue_mod.SimpleQueue()
    assert q.empty()
    assert q.qsize() == 0
    q.put(1)
    q.put(2)
    q.put_nowait(3)
    q.put(4)
    assert not q.empty()
    assert q.qsize() == 4
    assert q.get() == 1
    assert q.get_nowait() == 2
    assert q.get(block=False) == 3
    assert q.get(timeout=0.1) == 4
    assert q.empty()
    assert q.qsize() == 0
    for get in [lambda: q.get(block=False), lambda: q.get(timeout=1e-3), q.get_nowait]:
        with pytest.raises(queue.Empty):
            get()
    assert q.qsize() == 0


def test_many_items_fifo(queue_mod):
    q = queue_mod.SimpleQueue()
    for i in range(10000):
        q.put(i)
    assert q.qsize() == 10000
    assert [q.get() for _ in range(10000)] == list(range(10000))


def test_empty_is_the_stdlib_class(queue_mod):
    with pytest.raises(queue.Empty) as info:
        queue_mod.SimpleQueue().get_nowait()
    assert type(info.value) is queue.Empty


class BadBool:
    def __bool__(self):
        raise ZeroDivisionError("no truth")


def _subclass_round_trip(m):
    class Sub(m.SimpleQueue):
        pass

    q = Sub()
    q.put(1)
    q.put_nowait(2)
    q.put(3, block=False)
    return [q.get(), q.get_nowait(), q.get(timeout=1), q.qsize()]


CALLS = [
    # put never blocks: block and timeout are accepted and ignored, even nonsense.
    lambda m: m.SimpleQueue().put(1),
    lambda m: m.SimpleQueue().put(1, block=False),
    lambda m: m.SimpleQueue().put(1, False, -1),
    lambda m: m.SimpleQueue().put(1, True, -5),
    lambda m: m.SimpleQueue().put(1, timeout=-5),
    lambda m: m.SimpleQueue().put(1, block=True, timeout=None),
    lambda m: m.SimpleQueue().put(item=1),
    lambda m: m.SimpleQueue().put_nowait(item=1),
    lambda m: _with_items(m, 1, 2).qsize(),
    # get: negative timeout, zero timeout, non-blocking with a timeout.
    lambda m: m.SimpleQueue().get(timeout=-1),
    lambda m: m.SimpleQueue().get(True, -0.5),
    lambda m: _with_items(m, 5).get(timeout=-1),
    lambda m: m.SimpleQueue().get(False, -1),
    lambda m: _with_items(m, 5).get(False, -1),
    lambda m: m.SimpleQueue().get(timeout=0),
    lambda m: m.SimpleQueue().get(block=False),
    lambda m: m.SimpleQueue().get(0),
    lambda m: m.SimpleQueue().get_nowait(),
    lambda m: _with_items(m, 5).get(timeout=0),
    lambda m: _with_items(m, 5, 6).get_nowait(),
    lambda m: _with_items(m, 5).get(block=True, timeout=None),
    lambda m: m.SimpleQueue().get(timeout=float("nan")),
    lambda m: m.SimpleQueue().get(timeout="1"),
    # The C-level fast paths (positional put, get() / get(True) / get(False) finding an item)
    # and every other call, which goes the full way: same answers either way (the same
    # exception types for bad arguments; the messages are PyO3's wording).
    lambda m: _with_items(m, 5).get(True),
    lambda m: _with_items(m, 5).get(False),
    lambda m: _with_items(m, 5).get(1),
    lambda m: _with_items(m, 5).get(BadBool()),
    lambda m: _with_items(m, 5).get(block=BadBool()),
    lambda m: type_only(lambda: _with_items(m, 5).get(True, None, 3)),
    lambda m: type_only(lambda: _with_items(m, 5).get(nope=1)),
    lambda m: type_only(lambda: m.SimpleQueue().put()),
    lambda m: type_only(lambda: m.SimpleQueue().put(1, True, None, 4)),
    lambda m: type_only(lambda: m.SimpleQueue().put(1, nope=1)),
    lambda m: type_only(lambda: m.SimpleQueue().put_nowait()),
    lambda m: type_only(lambda: m.SimpleQueue().put_nowait(1, 2)),
    lambda m: type_only(lambda: m.SimpleQueue().put_nowait(nope=1)),
    lambda m: type_only(lambda: m.SimpleQueue().get_nowait(1)),
    lambda m: type_only(lambda: m.SimpleQueue.put(object(), 1)),
    lambda m: type_only(lambda: m.SimpleQueue.get(object())),
    lambda m: type_only(lambda: m.SimpleQueue.put_nowait(object(), 1)),
    lambda m: type_only(lambda: m.SimpleQueue.get_nowait(object())),
    lambda m: _subclass_round_trip(m),
    lambda m: [m.SimpleQueue.put.__name__, m.SimpleQueue.get.__name__,
               m.SimpleQueue.put_nowait.__name__, m.SimpleQueue.get_nowait.__name__],
    # Constructor and protocol.
    lambda m: m.SimpleQueue(1),
    lambda m: m.SimpleQueue(maxsize=1),
    lambda m: type_only(lambda: len(m.SimpleQueue())),
    lambda m: bool(m.SimpleQueue()),
    lambda m: sorted(a for a in dir(m.SimpleQueue()) if not a.startswith("_")),
    lambda m: [hasattr(m.SimpleQueue(), a) for a in
               ("task_done", "join", "unfinished_tasks", "maxsize", "full", "shutdown",
                "is_shutdown", "mutex", "queue", "not_empty")],
]


@pytest.mark.parametrize("call", CALLS)
def test_same_results_and_errors_as_stdlib(queue_mod, call):
    assert outcome(lambda: call(queue_mod)) == outcome(lambda: call(queue))


def test_negative_timeout_message(queue_mod):
    assert outcome(lambda: queue_mod.SimpleQueue().get(timeout=-1)) == (
        ValueError,
        "'timeout' must be a non-negative number",
    )


def test_put_ignores_block_and_timeout(queue_mod):
    q = queue_mod.SimpleQueue()
    t0 = time.monotonic()
    for i in range(100):
        q.put(i, block=False)
        q.put(i, True, 0)
        q.put(i, timeout=-1)
    assert time.monotonic() - t0 < 5
    assert q.qsize() == 300


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
        lambda q: q.empty(1),
    ],
)
def test_wrong_arguments_are_typeerror(queue_mod, call):
    assert outcome(lambda: call(queue_mod.SimpleQueue()))[0] is TypeError


def test_generic_alias(queue_mod):
    alias = queue_mod.SimpleQueue[int]
    assert isinstance(alias, types.GenericAlias)
    assert alias.__origin__ is queue_mod.SimpleQueue
    assert alias.__args__ == (int,)
    assert type(alias()) is queue_mod.SimpleQueue
    assert repr(alias).endswith(".SimpleQueue[int]")


def test_subclassable(queue_mod):
    class Tagged(queue_mod.SimpleQueue):
        def put(self, item, block=True, timeout=None):
            super().put(("tag", item), block, timeout)

    q = Tagged()
    q.tag = "attribute on a subclass"
    q.put(1)
    q.put_nowait(2)  # the C put_nowait does not go through the overridden put
    assert q.get() == ("tag", 1)
    assert q.get() == 2
    assert isinstance(q, queue_mod.SimpleQueue)


def test_not_picklable_and_weakrefable(queue_mod):
    q = queue_mod.SimpleQueue()
    assert outcome(lambda: pickle.dumps(q))[0] is TypeError
    r = weakref.ref(q)
    assert r() is q
    del q
    gc.collect()
    assert r() is None


def test_items_released_once_taken(queue_mod):
    class C:
        pass

    q = queue_mod.SimpleQueue()
    for _ in range(20):
        q.put(C())
    for _ in range(20):
        r = weakref.ref(q.get())
        gc.collect()
        assert r() is None


def test_queue_releases_items_when_dropped(queue_mod):
    class C:
        pass

    q = queue_mod.SimpleQueue()
    c = C()
    q.put(c)
    r = weakref.ref(c)
    del c, q
    gc.collect()
    assert r() is None


def test_get_timeout_raises_empty_promptly(queue_mod):
    q = queue_mod.SimpleQueue()
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    elapsed = time.monotonic() - t0
    assert 0.04 <= elapsed < 5


@pytest.mark.parametrize("timeout", [None, 30])
def test_blocked_get_is_woken_by_put(queue_mod, timeout):
    q = queue_mod.SimpleQueue()
    getter = Runner(q.get, timeout=timeout)
    assert none_done([getter])
    q.put("item")
    assert getter.value() == "item"
    assert q.empty()


def test_each_put_wakes_one_getter(queue_mod):
    q = queue_mod.SimpleQueue()
    getters = [Runner(q.get, timeout=JOIN_TIMEOUT) for _ in range(8)]
    assert none_done(getters)
    for i in range(8):
        q.put(i)
    assert sorted(g.value() for g in getters) == list(range(8))
    assert q.empty()


def test_blocking_get_releases_the_gil(queue_mod):
    assert_blocked_get_releases_the_gil(queue_mod.SimpleQueue())


def test_reentrant_put_from_a_finalizer(queue_mod):
    # bpo-14976: put() may run re-entrantly, from __del__ during another put().
    q = queue_mod.SimpleQueue()
    counter = iter(range(10**9))
    results = []

    class Circular:
        def __init__(self):
            self.circular = self

        def __del__(self):
            q.put(next(counter))

    while True:
        o = Circular()
        q.put(next(counter))
        del o
        results.append(q.get())
        if results[-1] >= 3000:
            break
    assert results == list(range(3001))


@pytest.mark.parametrize("consumer_kind", ["blocking", "timeout", "nonblocking"])
def test_stress_every_item_delivered_exactly_once(queue_mod, consumer_kind):
    q = queue_mod.SimpleQueue()
    n, per = 8, 1500
    got = [[] for _ in range(n)]
    errors = []
    start = threading.Barrier(2 * n)

    def producer(p):
        try:
            start.wait(JOIN_TIMEOUT)
            for i in range(per):
                q.put((p, i))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def take():
        while True:
            try:
                if consumer_kind == "blocking":
                    return q.get()
                if consumer_kind == "timeout":
                    return q.get(timeout=0.001)
                return q.get_nowait()
            except queue.Empty:
                time.sleep(0)

    def consumer(c):
        try:
            start.wait(JOIN_TIMEOUT)
            while True:
                item = take()
                if item is None:
                    return
                got[c].append(item)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    producers = [threading.Thread(target=producer, args=(p,)) for p in range(n)]
    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(n)]
    for t in producers + consumers:
        t.start()
    join_all(producers)
    for _ in consumers:
        q.put(None)
    join_all(consumers)
    assert not errors
    everything = [x for part in got for x in part]
    assert len(everything) == n * per
    assert sorted(everything) == [(p, i) for p in range(n) for i in range(per)]
    # Each consumer saw each producer's items in the order they were put.
    for part in got:
        for p in range(n):
            seq = [i for (pp, i) in part if pp == p]
            assert seq == sorted(seq)
    assert q.empty()
    assert q.qsize() == 0

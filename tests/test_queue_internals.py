"""The standard library's queue internals that real code uses, on threadkit's queues.

Real code reaches into ``queue.Queue``: ``with q.mutex: q.queue.clear()`` (the common way to
empty a queue), ``q.queue[0]`` to peek, ``with q.not_empty:``, ``q.all_tasks_done.notify_all()``,
``q.unfinished_tasks = 0``, and swapping an instance's ``_put`` to be told of puts. threadkit's
``Queue``, ``LifoQueue`` and ``PriorityQueue`` keep their items in Rust; the first time one of
these is read (or assigned) the instance switches to CPython's algorithm with a Python ``deque``
(a ``list``, a ``heapq`` heap for a ``PriorityQueue``), with every item, task count and blocked
caller carried over. Each test runs on the standard library too, unless it says otherwise.
"""

import heapq
import queue as std_queue
import threading as std_threading

import pytest

import threadkit.queue as tk_queue
import threadkit.threading as tk_threading
from _helpers_queue import JOIN_TIMEOUT

KINDS = ["Queue", "LifoQueue", "PriorityQueue"]
# What each kind gets back first of the items 0, 1, 2 put in that order.
ORDER = {"Queue": [0, 1, 2], "LifoQueue": [2, 1, 0], "PriorityQueue": [0, 1, 2]}


@pytest.fixture(params=["stdlib", "threadkit"])
def mods(request):
    if request.param == "stdlib":
        return std_queue, std_threading
    return tk_queue, tk_threading


def waiting_kind(ident):
    """What threadkit says the thread ``ident`` waits for ("Queue.get", "Lock"...), or None."""
    from threadkit import _core

    for t in _core._snapshot()["threads"]:
        if t["ident"] == ident:
            return (t["waiting"] or {}).get("kind")
    return None


def wait_until_blocked(mods, thread, kind):
    """On threadkit, until ``thread`` waits on ``kind``; the standard library cannot tell (the
    tests' outcome does not depend on it there)."""
    if mods[0] is not tk_queue:
        return
    import time

    deadline = time.monotonic() + JOIN_TIMEOUT
    while waiting_kind(thread.ident) != kind:
        assert time.monotonic() < deadline, "thread never blocked on %s" % kind


def start(threading, fn):
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def joined(t):
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive()
    return True


@pytest.mark.parametrize("kind", KINDS)
def test_peek_and_read_the_items(mods, kind):
    queue, _ = mods
    q = getattr(queue, kind)()
    for i in range(3):
        q.put(i)
    assert list(q.queue) == [0, 1, 2]
    assert len(q.queue) == 3 and 1 in q.queue
    assert q.queue[0] == 0 and q.queue[-1] == 2
    assert [q.get() for _ in range(3)] == ORDER[kind]
    assert type(q).__name__ == kind and isinstance(q, getattr(queue, kind))


@pytest.mark.parametrize("kind", KINDS)
def test_clear_under_the_mutex_releases_join(mods, kind):
    # The common way to empty a queue and let join() return.
    queue, threading = mods
    q = getattr(queue, kind)()
    for i in range(5):
        q.put(i)
    joiner = start(threading, q.join)
    wait_until_blocked(mods, joiner, "Queue.join")
    with q.mutex:
        q.queue.clear()
        q.all_tasks_done.notify_all()
        q.unfinished_tasks = 0
    assert joined(joiner)
    assert (q.qsize(), q.empty(), q.unfinished_tasks) == (0, True, 0)
    q.put("after")
    assert q.get() == "after"
    q.task_done()
    q.join()


@pytest.mark.parametrize("kind", KINDS)
def test_a_getter_blocked_before_the_switch_gets_an_item_put_after(mods, kind):
    queue, threading = mods
    q = getattr(queue, kind)()
    got = []
    getter = start(threading, lambda: got.append(q.get(timeout=JOIN_TIMEOUT)))
    wait_until_blocked(mods, getter, "Queue.get")
    with q.mutex:
        assert len(q.queue) == 0
    q.put("x")
    assert joined(getter) and got == ["x"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_putter_blocked_before_the_switch_puts_when_room_is_made(mods, kind):
    queue, threading = mods
    q = getattr(queue, kind)(maxsize=1)
    q.put("first")
    putter = start(threading, lambda: q.put("second", timeout=JOIN_TIMEOUT))
    wait_until_blocked(mods, putter, "Queue.put")
    with q.not_full:
        assert list(q.queue) == ["first"]
        q.queue.clear()
        q.not_full.notify()
    assert joined(putter)
    assert q.get_nowait() == "second"


def test_holding_the_mutex_holds_off_puts(mods):
    queue, threading = mods
    q = queue.Queue()
    with q.mutex:
        putter = start(threading, lambda: q.put("theirs"))
        wait_until_blocked(mods, putter, "Lock")
        q.queue.append("mine")
        q.unfinished_tasks += 1
    assert joined(putter)
    assert [q.get(), q.get()] == ["mine", "theirs"]
    assert q.unfinished_tasks == 2


def test_wait_on_not_empty(mods):
    queue, threading = mods
    q = queue.Queue()
    got = []

    def waiter():
        with q.not_empty:
            q.not_empty.wait_for(lambda: len(q.queue) >= 2, JOIN_TIMEOUT)
            got.append(list(q.queue))

    t = start(threading, waiter)
    q.put(1)
    q.put(2)
    assert joined(t) and got == [[1, 2]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_swapped_put_hook_is_called(mods, kind):
    # Code that wants to be told of puts replaces the instance's `_put`.
    queue, threading = mods
    q = getattr(queue, kind)()
    q.put("before")
    seen = []
    original = q._put

    def spy(item):
        seen.append(item)
        original(item)

    q._put = spy
    q.put("a")
    start(threading, lambda: q.put("b")).join(JOIN_TIMEOUT)
    assert seen == ["a", "b"]
    expected = {"Queue": ["before", "a", "b"], "LifoQueue": ["b", "a", "before"]}
    assert [q.get() for _ in range(3)] == expected.get(kind, ["a", "b", "before"])


def test_a_method_bound_before_the_switch_keeps_working(mods):
    queue, _ = mods
    q = queue.LifoQueue()
    put, get, qsize, task_done = q.put, q.get, q.qsize, q.task_done
    put(1)
    assert q.queue == [1]
    put(2)
    assert (qsize(), q.queue) == (2, [1, 2])
    assert get() == 2 and get(timeout=0) == 1
    task_done()
    task_done()
    with pytest.raises(ValueError):
        task_done()


def test_a_subclass_switches_and_keeps_its_own_methods(mods):
    queue, _ = mods

    class Jobs(queue.Queue):
        def __init__(self):
            super().__init__(maxsize=3)
            self.puts = 0

        def put(self, item, block=True, timeout=None):
            self.puts += 1
            super().put(item, block, timeout)

    q = Jobs()
    q.put("a")
    with q.mutex:
        assert list(q.queue) == ["a"]
    q.put("b")
    assert (q.puts, q.maxsize, q.qsize(), q.full()) == (2, 3, 2, False)
    assert isinstance(q, Jobs) and type(q).__name__ == "Jobs"


def test_shutdown_state_is_kept(mods):
    queue, _ = mods
    if not hasattr(queue.Queue, "shutdown"):
        pytest.skip("the standard library has Queue.shutdown from 3.13")
    q = queue.Queue()
    q.put(1)
    q.shutdown()
    assert list(q.queue) == [1] and q.is_shutdown
    assert q.get() == 1
    with pytest.raises(queue.ShutDown):
        q.get()


def test_unknown_attributes_are_still_attribute_errors(mods):
    queue, _ = mods
    q = queue.Queue()
    with pytest.raises(AttributeError, match="'Queue' object has no attribute 'mutexx'"):
        q.mutexx


@pytest.mark.parametrize("kind", KINDS)
def test_switching_under_load_loses_nothing(mods, kind):
    # Producers and consumers hold bound methods taken before the switch, block on a bounded
    # queue, and mark tasks done; the switch happens in the middle. Every item arrives once
    # and join() returns.
    queue, threading = mods
    q = getattr(queue, kind)(maxsize=8)
    per, producers, consumers = 2000, 4, 4
    stop = (producers, 0)  # after every item, in a PriorityQueue too
    halfway = threading.Event()
    got = [[] for _ in range(consumers)]

    def produce(p):
        put = q.put
        for i in range(per):
            put((p, i))

    def consume(c):
        get, task_done, mine = q.get, q.task_done, got[c]
        while True:
            item = get(timeout=JOIN_TIMEOUT)
            task_done()
            if item == stop:
                return
            mine.append(item)
            if len(mine) == per // 4:
                halfway.set()

    threads = [start(threading, lambda c=c: consume(c)) for c in range(consumers)]
    threads += [start(threading, lambda p=p: produce(p)) for p in range(producers)]
    assert halfway.wait(JOIN_TIMEOUT)
    with q.mutex:  # the switch, for threadkit's queue
        assert len(q.queue) <= 8
    for t in threads[consumers:]:
        assert joined(t)
    # Every item done before the stops go in: a LifoQueue would hand the stops out first.
    q.join()
    for _ in range(consumers):
        q.put(stop)
    for t in threads[:consumers]:
        assert joined(t)
    q.join()
    items = [item for mine in got for item in mine]
    assert sorted(items) == [(p, i) for p in range(producers) for i in range(per)]
    assert q.unfinished_tasks == 0 and q.qsize() == 0


# --- PriorityQueue: the heap, carried over as a heapq list ------------------------------------


def test_priority_queue_carries_its_heap_over(mods):
    # q.queue is the heap as heapq keeps it (the standard library's list, element for element),
    # q.queue[0] peeks the smallest, and the Python algorithm goes on from there.
    queue, _ = mods
    q = queue.PriorityQueue()
    items = [5, 1, 8, 3, 3, 9, 0, 7, 2]
    expected = []
    for item in items:
        q.put(item)
        heapq.heappush(expected, item)
    assert q.queue[0] == 0
    assert q.queue == expected
    assert type(q.queue) is list and type(q).__name__ == "PriorityQueue"
    q.put(-1)
    assert q.queue[0] == -1
    assert [q.get() for _ in range(len(items) + 1)] == sorted(items + [-1])
    assert q.unfinished_tasks == len(items) + 1


def test_priority_queue_clear_and_refill_under_the_mutex(mods):
    queue, _ = mods
    q = queue.PriorityQueue()
    for item in (3, 1, 2):
        q.put(item)
    with q.mutex:
        q.queue.clear()
        heapq.heappush(q.queue, 10)
        heapq.heappush(q.queue, 4)
    assert (q.qsize(), q.get(), q.get()) == (2, 4, 10)


class _Blocking:
    """An item whose first comparison waits for ``release`` (after setting ``entered``)."""

    def __init__(self, value, entered, release):
        self.value, self.entered, self.release = value, entered, release

    def __lt__(self, other):
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(JOIN_TIMEOUT)
        return self.value < _value(other)

    def __gt__(self, other):
        return _value(other) < self.value


def _value(x):
    return x.value if isinstance(x, _Blocking) else x


def test_priority_queue_switch_waits_for_a_comparison_under_way(mods):
    # Another thread orders the heap (its item's __lt__ blocks): reading q.queue waits until it
    # is done, then sees every item, the one being put included.
    queue, threading = mods
    q = queue.PriorityQueue()
    q.put(5)
    entered, release = threading.Event(), threading.Event()
    putter = start(threading, lambda: q.put(_Blocking(1, entered, release)))
    assert entered.wait(JOIN_TIMEOUT)
    seen = []
    reader = start(threading, lambda: seen.append(sorted(map(_value, q.queue))))
    release.set()
    assert joined(putter) and joined(reader)
    assert seen == [[1, 5]]
    assert _value(q.get()) == 1 and q.get() == 5


def test_priority_queue_internals_from_its_own_comparison_are_a_runtime_error():
    # threadkit only: while a comparison of this queue's items runs, its heap is out of place
    # (the standard library would hand the list being sifted).
    q = tk_queue.PriorityQueue()
    errors = []

    class Peeker:
        def __lt__(self, other):
            try:
                q.queue
            except RuntimeError as e:
                errors.append(e)
            return False

    q.put(Peeker())
    q.put(Peeker())
    assert len(errors) == 1 and "orders its heap" in str(errors[0])
    assert q.qsize() == 2 and len(q.queue) == 2  # switched afterwards


def test_priority_queue_pending_put_whose_comparison_raises_is_carried_over():
    # threadkit only: a put made while another thread orders the heap is kept aside; if
    # merging it raises, it stays (counted), and the switch carries it over and raises the
    # comparison's error once, after the switch.
    q = tk_queue.PriorityQueue()
    q.put(5)
    entered, release = tk_threading.Event(), tk_threading.Event()

    class Bad:
        def __lt__(self, other):
            raise TypeError("not comparable")

        __gt__ = __lt__

    putter = start(tk_threading, lambda: q.put(_Blocking(1, entered, release)))
    assert entered.wait(JOIN_TIMEOUT)
    bad = Bad()
    q.put(bad)  # the heap is busy: kept aside, counted
    release.set()
    assert joined(putter)
    assert q.qsize() == 3
    with pytest.raises(TypeError, match="not comparable"):
        q.queue
    assert type(q).__name__ == "PriorityQueue" and q.queue[-1] is bad
    assert (q.qsize(), q.unfinished_tasks) == (3, 3)
    assert sorted(map(_value, q.queue[:2])) == [1, 5]


@pytest.mark.parametrize("kind", ["Queue", "LifoQueue", "PriorityQueue"])
def test_dir_is_the_same_before_and_after_the_switch(kind):
    # pebble's waitforqueues test compares dir(q) around a call that patches the queue.
    import threadkit.queue as tkq

    q = getattr(tkq, kind)()
    before = dir(q)
    assert {"mutex", "queue", "not_empty", "not_full", "all_tasks_done"} <= set(before)
    with q.mutex:
        q.queue.clear()
    assert dir(q) == before
    assert dir(getattr(tkq, kind)()) == before

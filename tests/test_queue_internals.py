"""The standard library's queue internals that real code uses, on threadkit's queues.

Real code reaches into ``queue.Queue``: ``with q.mutex: q.queue.clear()`` (the common way to
empty a queue), ``q.queue[0]`` to peek, ``with q.not_empty:``, ``q.all_tasks_done.notify_all()``,
``q.unfinished_tasks = 0``, and swapping an instance's ``_put`` to be told of puts. threadkit's
``Queue`` and ``LifoQueue`` keep their items in Rust; the first time one of these is read (or
assigned) the instance switches to CPython's algorithm with a Python ``deque``, with every item,
task count and blocked caller carried over. Each test runs on the standard library too.
"""

import queue as std_queue
import threading as std_threading

import pytest

import threadkit.queue as tk_queue
import threadkit.threading as tk_threading
from _helpers_queue import JOIN_TIMEOUT

KINDS = ["Queue", "LifoQueue"]


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
    assert [q.get() for _ in range(3)] == ([0, 1, 2] if kind == "Queue" else [2, 1, 0])
    assert type(q).__name__ == kind and isinstance(q, getattr(queue, kind))


def test_clear_under_the_mutex_releases_join(mods):
    # The common way to empty a queue and let join() return.
    queue, threading = mods
    q = queue.Queue()
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


def test_a_getter_blocked_before_the_switch_gets_an_item_put_after(mods):
    queue, threading = mods
    q = queue.Queue()
    got = []
    getter = start(threading, lambda: got.append(q.get(timeout=JOIN_TIMEOUT)))
    wait_until_blocked(mods, getter, "Queue.get")
    with q.mutex:
        assert len(q.queue) == 0
    q.put("x")
    assert joined(getter) and got == ["x"]


def test_a_putter_blocked_before_the_switch_puts_when_room_is_made(mods):
    queue, threading = mods
    q = queue.Queue(maxsize=1)
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


def test_a_swapped_put_hook_is_called(mods):
    # Code that wants to be told of puts replaces the instance's `_put`.
    queue, threading = mods
    q = queue.Queue()
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
    assert [q.get() for _ in range(3)] == ["before", "a", "b"]


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
            if item is None:
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
    for _ in range(consumers):
        q.put(None)
    for t in threads[:consumers]:
        assert joined(t)
    q.join()
    items = [item for mine in got for item in mine]
    assert sorted(items) == [(p, i) for p in range(producers) for i in range(per)]
    assert q.unfinished_tasks == 0 and q.qsize() == 0

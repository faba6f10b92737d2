"""PriorityQueue: the heap kept in Rust and ordered with the items' `<`.

The comparisons run user code while the heap is being ordered: code that raises, releases the
GIL, blocks, or uses the same queue (from its own thread or from another). Nothing may hang,
nothing may be lost, an exception from `<` leaves the queue as it was, and equal items come out
in the standard library's order.
"""

import dataclasses
import itertools
import queue
import random
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import threadkit.queue as tkq
from _helpers_queue import JOIN_TIMEOUT


@dataclasses.dataclass(order=True)
class Job:
    """Orders by priority only: equal priorities show heapq's tie order through their names."""

    priority: int
    name: str = dataclasses.field(compare=False)


def names(items):
    return [j.name for j in items]


def drain(q):
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


# ---------------------------------------------------------------------------------------------
# heapq's order


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.one_of(st.integers(min_value=0, max_value=3), st.just("get")), max_size=60
    )
)
def test_equal_priorities_come_out_in_the_standard_librarys_order(ops):
    ours, model = tkq.PriorityQueue(), queue.PriorityQueue()
    got, expected = [], []
    for n, op in enumerate(ops):
        if op == "get":
            got.append(drain_one(ours))
            expected.append(drain_one(model))
        else:
            ours.put(Job(op, "job%d" % n))
            model.put(Job(op, "job%d" % n))
    assert got == expected
    assert names(drain(ours)) == names(drain(model))


def drain_one(q):
    try:
        return q.get_nowait().name
    except queue.Empty:
        return "empty"


# ---------------------------------------------------------------------------------------------
# Comparisons that raise


class Boom(Exception):
    pass


class Fuse:
    """Makes the `after`-th comparison from now raise (None: never)."""

    def __init__(self):
        self.after = None

    def arm(self, after):
        self.after = after

    def tick(self):
        if self.after is not None:
            self.after -= 1
            if self.after < 0:
                self.after = None
                raise Boom


class Fragile:
    def __init__(self, fuse, priority, name):
        self.fuse, self.priority, self.name = fuse, priority, name

    def __lt__(self, other):
        self.fuse.tick()
        return self.priority < other.priority

    def __repr__(self):
        return "Fragile(%d, %r)" % (self.priority, self.name)


def filled(kind, fuse, n=40, seed=1):
    q = kind()
    rnd = random.Random(seed)
    for i in range(n):
        q.put(Fragile(fuse, rnd.randrange(5), "item%d" % i))
    return q


def fail_each_comparison(operation):
    """Runs `operation(q, fuse)` on a fresh filled queue with its 1st, 2nd, ... comparison
    raising, until one run needs fewer comparisons; yields each failed run's queue and a
    standard-library queue filled alike, which did not run the operation."""
    for fail_at in itertools.count():
        fuse = Fuse()
        q, model = filled(tkq.PriorityQueue, fuse), filled(queue.PriorityQueue, Fuse())
        fuse.arm(fail_at)
        try:
            operation(q, fuse)
        except Boom:
            yield q, model
        else:
            assert fail_at > 3, "the operation compared too little to test anything"
            return


def test_a_put_whose_comparison_raises_leaves_the_queue_as_it_was():
    # Priority -1 goes all the way up (6 comparisons for 41 items): each run fails at one.
    for q, model in fail_each_comparison(lambda q, fuse: q.put(Fragile(fuse, -1, "bad"))):
        assert q.qsize() == 40
        assert q.unfinished_tasks == 40
        # Exactly the order of a queue that never saw the failed put (ties included).
        assert names(drain(q)) == names(drain(model))


def test_a_get_whose_comparison_raises_leaves_the_queue_as_it_was():
    for q, model in fail_each_comparison(lambda q, fuse: q.get()):
        assert q.qsize() == 40
        assert names(drain(q)) == names(drain(model))


def test_the_standard_librarys_failed_put_keeps_the_item_ours_does_not():
    # The documented difference: heapq appends before comparing.
    for mod, size in ((queue, 3), (tkq, 2)):
        q = mod.PriorityQueue()
        q.put(1)
        q.put(2)
        with pytest.raises(TypeError):
            q.put("three")
        assert q.qsize() == size


# ---------------------------------------------------------------------------------------------
# Comparisons that release the GIL, from many threads


class Yielding:
    """`__lt__` releases the GIL (time.sleep(0)): other threads run mid-sift."""

    def __init__(self, priority, name):
        self.priority, self.name = priority, name

    def __lt__(self, other):
        time.sleep(0)
        return self.priority < other.priority


def run_threads(n, target):
    errors = []
    start = threading.Barrier(n)

    def body(k):
        try:
            start.wait()
            target(k)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []


def test_eight_threads_put_and_get_with_comparisons_that_release_the_gil():
    q = tkq.PriorityQueue()
    per_thread = 200
    got = [[] for _ in range(8)]

    def work(k):
        rnd = random.Random(k)
        for i in range(per_thread):
            q.put(Yielding(rnd.randrange(50), (k, i)))
            if i % 2:
                got[k].append(q.get(timeout=JOIN_TIMEOUT).name)

    run_threads(8, work)
    rest = [x.name for x in drain(q)]
    everything = [n for g in got for n in g] + rest
    assert sorted(everything) == sorted((k, i) for k in range(8) for i in range(per_thread))
    assert q.qsize() == 0
    assert q.unfinished_tasks == 8 * per_thread


def test_blocked_getters_are_woken_by_puts_with_yielding_comparisons():
    q = tkq.PriorityQueue(maxsize=3)
    n = 300
    got = []

    def work(k):
        if k < 4:
            for i in range(n):
                q.put(Yielding(i % 7, (k, i)), timeout=JOIN_TIMEOUT)
        else:
            for _ in range(n):
                got.append(q.get(timeout=JOIN_TIMEOUT).name)

    run_threads(8, work)
    assert sorted(got) == sorted((k, i) for k in range(4) for i in range(n))
    assert q.empty()


# ---------------------------------------------------------------------------------------------
# Comparisons that use the same queue


class Reentrant:
    """The first comparison of each item puts a child item into the same queue."""

    def __init__(self, q, priority, name, children=1):
        self.q, self.priority, self.name, self.children = q, priority, name, children

    def __lt__(self, other):
        if self.children:
            self.children -= 1
            self.q.put(Reentrant(self.q, self.priority + 1, self.name + "'", 0))
        return self.priority < other.priority


def test_a_comparison_that_puts_into_the_same_queue_does_not_deadlock():
    q = tkq.PriorityQueue()
    for i in range(20):
        q.put(Reentrant(q, i % 5, "r%d" % i))
    got = names(drain(q))
    # Every item but the first (never compared while alone... it is compared later) made its
    # child; nothing is lost and every item comes out once.
    base = {"r%d" % i for i in range(20)}
    assert base <= set(got)
    assert len(got) == len(set(got))
    assert all(n.rstrip("'") in base for n in got)
    assert q.qsize() == 0
    assert q.unfinished_tasks == len(got)


def test_items_put_from_a_comparison_come_out_in_order():
    q = tkq.PriorityQueue()
    for i in range(30):
        q.put(Reentrant(q, (i * 7) % 11, "r%d" % i))
    got = drain(q)
    # Once everything is merged the heap is a heap: priorities come out sorted.
    assert [x.priority for x in got] == sorted(x.priority for x in got)


def test_eight_threads_whose_comparisons_put_into_the_same_queue():
    q = tkq.PriorityQueue()
    got = [[] for _ in range(8)]

    def work(k):
        for i in range(100):
            q.put(Reentrant(q, (k * 31 + i) % 13, "t%d-%d" % (k, i)))
            if i % 2:
                got[k].append(q.get(timeout=JOIN_TIMEOUT).name)

    run_threads(8, work)
    everything = [n for g in got for n in g] + names(drain(q))
    base = {"t%d-%d" % (k, i) for k in range(8) for i in range(100)}
    assert base <= set(everything)
    assert len(everything) == len(set(everything))
    assert q.qsize() == 0


class PutFromAnotherThread:
    """`__lt__` has another thread put into the same queue, and waits for it."""

    def __init__(self, q, priority):
        self.q, self.priority, self.done = q, priority, False

    def __lt__(self, other):
        if not self.done:
            self.done = True
            t = threading.Thread(target=self.q.put, args=(Plain(-1),))
            t.start()
            t.join(JOIN_TIMEOUT)
            assert not t.is_alive(), "the other thread's put hung"
        return self.priority < other.priority


class Plain:
    def __init__(self, priority):
        self.priority = priority

    def __lt__(self, other):
        return self.priority < other.priority


def test_a_comparison_that_waits_for_another_threads_put_does_not_deadlock():
    q = tkq.PriorityQueue()
    q.put(Plain(5))
    q.put(PutFromAnotherThread(q, 3))
    assert q.qsize() == 3
    assert [q.get().priority for _ in range(3)] == [-1, 3, 5]


def test_a_get_from_a_comparison_raises_and_leaves_the_queue_as_it_was():
    q = tkq.PriorityQueue()

    class Getter(Plain):
        def __lt__(self, other):
            q.get_nowait()
            return super().__lt__(other)

    q.put(Plain(1))
    with pytest.raises(RuntimeError, match="PriorityQueue.get"):
        q.put(Getter(0))
    assert q.qsize() == 1
    assert q.get().priority == 1


class Putter(Plain):
    """While `armed`, `__lt__` puts into the same queue (`nowait`: put_nowait)."""

    armed = False
    nowait = False

    def __init__(self, q, priority):
        super().__init__(priority)
        self.q = q

    def __lt__(self, other):
        if Putter.armed:
            (self.q.put_nowait if Putter.nowait else self.q.put)(Plain(9))
        return super().__lt__(other)


@pytest.mark.parametrize("nowait", [False, True])
def test_a_put_from_a_comparison_into_a_full_queue_raises_instead_of_waiting_forever(
    nowait, monkeypatch
):
    # A get compares with its unit still counted: the queue is full while it orders the heap,
    # and room could only come from a get, which needs the heap this thread holds.
    q = tkq.PriorityQueue(maxsize=3)
    for p in (1, 2, 3):
        q.put(Putter(q, p))
    monkeypatch.setattr(Putter, "armed", True)
    monkeypatch.setattr(Putter, "nowait", nowait)
    with pytest.raises(queue.Full if nowait else RuntimeError, match=None if nowait else "forever"):
        q.get()
    monkeypatch.setattr(Putter, "armed", False)
    assert q.qsize() == 3
    assert [q.get().priority for _ in range(3)] == [1, 2, 3]


def test_a_put_from_a_comparison_may_fill_the_queue_under_the_outer_put():
    # The nested put takes the last room first: the outer put then finds the queue full.
    q = tkq.PriorityQueue(maxsize=2)
    q.put(Plain(1))
    Putter.armed = True
    try:
        with pytest.raises(queue.Full):
            q.put(Putter(q, 0), timeout=0.01)
    finally:
        Putter.armed = False
    assert [q.get().priority for _ in range(2)] == [1, 9]


def test_an_immediate_shutdown_from_a_comparison_empties_the_queue():
    q = tkq.PriorityQueue()

    class Stopper(Plain):
        def __lt__(self, other):
            q.shutdown(immediate=True)
            return super().__lt__(other)

    for p in (1, 2, 3):
        q.put(Plain(p))
    with pytest.raises(tkq.ShutDown):
        q.put(Stopper(0))
    assert q.qsize() == 0
    assert q.unfinished_tasks == 0
    with pytest.raises(tkq.ShutDown):
        q.get_nowait()


def test_a_blocked_get_sees_items_put_by_another_threads_comparison():
    q = tkq.PriorityQueue()
    got = []
    getter = threading.Thread(target=lambda: got.append(q.get(timeout=JOIN_TIMEOUT).priority))
    getter.start()
    q.put(Plain(5))
    getter.join(JOIN_TIMEOUT)
    assert got == [5]
    q.put(Plain(7))
    q.put(PutFromAnotherThread(q, 6))
    assert [q.get(timeout=JOIN_TIMEOUT).priority for _ in range(3)] == [-1, 6, 7]


def test_counter_tie_break_pattern():
    # The documented pattern for payloads that do not compare: (priority, count, payload).
    q = tkq.PriorityQueue()
    counter = itertools.count()
    for p, payload in [(1, object()), (0, object()), (1, object())]:
        q.put((p, next(counter), payload))
    assert [q.get()[:2] for _ in range(3)] == [(0, 1), (1, 0), (1, 2)]

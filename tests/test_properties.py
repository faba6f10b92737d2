"""Property tests: random sequences of non-blocking calls on a threadkit queue or semaphore and
on the standard library's, side by side; every call must return the same value or raise the
same exception with the same message, and the observable state must stay the same.

The standard library is the model. Calls that could block are left out (a blocking get on an
empty queue, an acquire with a timeout on an exhausted semaphore); `timeout=0` and negative
timeouts are in, since they answer at once.
"""

import queue
import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import threadkit.queue as tk_queue
import threadkit.threading as tk_threading
from conftest import outcome

quick = settings(max_examples=200, deadline=None)

HAS_SHUTDOWN = hasattr(queue.Queue, "shutdown")  # 3.13+ (threadkit has it on every version)

items = st.integers(min_value=-3, max_value=3)  # few values: duplicates, and orderable

queue_calls = st.one_of(
    st.tuples(st.just("put"), st.tuples(items), st.just({"block": False})),
    st.tuples(st.just("put"), st.tuples(items), st.just({"timeout": 0})),
    st.tuples(st.just("put"), st.tuples(items), st.just({"timeout": -1})),
    st.tuples(st.just("put_nowait"), st.tuples(items), st.just({})),
    st.tuples(st.just("get"), st.just(()), st.sampled_from([
        {"block": False}, {"timeout": 0}, {"timeout": -1}, {"block": False, "timeout": 5}])),
    st.tuples(st.just("get_nowait"), st.just(()), st.just({})),
    st.tuples(st.sampled_from(["qsize", "empty", "full", "task_done"]), st.just(()),
              st.just({})),
    *([st.tuples(st.just("shutdown"), st.just(()), st.sampled_from([{}, {"immediate": True}]))]
      if HAS_SHUTDOWN else []),
)

simple_queue_calls = st.one_of(
    st.tuples(st.just("put"), st.tuples(items), st.sampled_from([
        {}, {"block": False}, {"timeout": -1}])),
    st.tuples(st.just("put_nowait"), st.tuples(items), st.just({})),
    st.tuples(st.just("get"), st.just(()), st.sampled_from([
        {"block": False}, {"timeout": 0}, {"timeout": -1}])),
    st.tuples(st.just("get_nowait"), st.just(()), st.just({})),
    st.tuples(st.sampled_from(["qsize", "empty"]), st.just(()), st.just({})),
)


def queue_state(q):
    state = [q.qsize(), q.empty()]
    if not isinstance(q, (queue.SimpleQueue, tk_queue.SimpleQueue)):
        state += [q.full(), q.maxsize, q.unfinished_tasks]
        if HAS_SHUTDOWN:
            state.append(q.is_shutdown)
    return state


def drain(q):
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def run_side_by_side(model, ours, calls):
    for name, args, kwargs in calls:
        expected = outcome(lambda: getattr(model, name)(*args, **kwargs))
        got = outcome(lambda: getattr(ours, name)(*args, **kwargs))
        assert got == expected, (name, args, kwargs)
        assert queue_state(ours) == queue_state(model), (name, args, kwargs)
    if not (HAS_SHUTDOWN and getattr(model, "is_shutdown", False)):
        assert drain(ours) == drain(model)


@quick
@given(
    kind=st.sampled_from(["Queue", "LifoQueue", "PriorityQueue"]),
    maxsize=st.integers(min_value=-1, max_value=4),
    calls=st.lists(queue_calls, max_size=40),
)
def test_queues_answer_as_the_standard_librarys(kind, maxsize, calls):
    run_side_by_side(getattr(queue, kind)(maxsize), getattr(tk_queue, kind)(maxsize), calls)


@quick
@given(calls=st.lists(simple_queue_calls, max_size=40))
def test_simple_queue_answers_as_the_standard_librarys(calls):
    run_side_by_side(queue.SimpleQueue(), tk_queue.SimpleQueue(), calls)


semaphore_calls = st.one_of(
    st.tuples(st.just("acquire"), st.sampled_from([
        {"blocking": False}, {"timeout": 0}, {"blocking": False, "timeout": 1},
        {"blocking": False, "timeout": None}])),
    st.tuples(st.just("release"), st.sampled_from([{}, {"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}])),
)


def semaphore_state(s):
    # The count, as the repr shows it (`value=N`, `value=N/M` for a bounded one).
    return re.sub(r"^<[\w.]+ at 0x[0-9a-f]+( (name|site)=[^:]*(:\d+')?)?:", "<", repr(s))


@quick
@given(
    kind=st.sampled_from(["Semaphore", "BoundedSemaphore"]),
    value=st.integers(min_value=-1, max_value=3),
    calls=st.lists(semaphore_calls, max_size=40),
)
def test_semaphores_answer_as_the_standard_librarys(kind, value, calls):
    made = outcome(lambda: getattr(threading, kind)(value))
    ours_made = outcome(lambda: getattr(tk_threading, kind)(value))
    if made[0] != "returned":
        assert ours_made == made
        return
    assert ours_made[0] == "returned"
    run_semaphores_side_by_side(made[1], ours_made[1], calls)


def run_semaphores_side_by_side(model, ours, calls):
    for name, kwargs in calls:
        expected = outcome(lambda: getattr(model, name)(**kwargs))
        got = outcome(lambda: getattr(ours, name)(**kwargs))
        assert got == expected, (name, kwargs)
        assert semaphore_state(ours) == semaphore_state(model), (name, kwargs)


def test_the_comparisons_catch_a_difference():
    calls = [("put", (1,), {}), ("put", (2,), {}), ("get_nowait", (), {})]
    with pytest.raises(AssertionError):
        run_side_by_side(queue.Queue(), tk_queue.LifoQueue(), calls)
    with pytest.raises(AssertionError):
        run_semaphores_side_by_side(
            threading.Semaphore(1), tk_threading.BoundedSemaphore(1), [("release", {})])

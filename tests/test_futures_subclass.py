"""A Future subclass that brings its own ``_condition``, as real code does.

The standard library's ``Future.__init__`` makes ``self._condition = threading.Condition()``;
subclasses (progress-reporting futures, futures of other executors) assign their own in
``__init__`` and use it with ``with self._condition:`` and ``notify_all()``. Each test runs on
the standard library's Future and Condition and on threadkit's.
"""

import concurrent.futures as std_futures
import threading as std_threading

import pytest

import threadkit.futures as tk_futures
import threadkit.threading as tk_threading

JOIN_TIMEOUT = 30


@pytest.fixture(params=["stdlib", "threadkit"])
def mods(request):
    if request.param == "stdlib":
        return std_futures, std_threading
    return tk_futures, tk_threading


def progress_future(futures, threading):
    class ProgressFuture(futures.Future):
        def __init__(self):
            super().__init__()
            self._condition = threading.Condition()
            self.progress = 0

        def report(self, progress):
            with self._condition:
                self.progress = progress
                self._condition.notify_all()

        def wait_progress(self, at_least, timeout):
            with self._condition:
                return self._condition.wait_for(lambda: self.progress >= at_least, timeout)

    return ProgressFuture()


def test_a_subclass_assigns_its_own_condition(mods):
    futures, threading = mods
    f = progress_future(futures, threading)
    assert isinstance(f._condition, threading.Condition)
    cond = f._condition
    assert f._condition is cond  # the one assigned, kept


def test_the_subclass_notifies_its_condition(mods):
    futures, threading = mods
    f = progress_future(futures, threading)
    got = []
    t = threading.Thread(target=lambda: got.append(f.wait_progress(3, JOIN_TIMEOUT)))
    t.start()
    f.report(1)
    f.report(3)
    t.join(JOIN_TIMEOUT)
    assert got == [True]


def test_completion_notifies_the_assigned_condition(mods):
    # A thread that waits on the subclass's own condition for done() is woken by set_result:
    # the future's state changes notify the condition it has, the assigned one.
    futures, threading = mods
    f = progress_future(futures, threading)
    ready = threading.Event()
    got = []

    def waiter():
        with f._condition:
            ready.set()
            got.append(f._condition.wait_for(f.done, JOIN_TIMEOUT))

    t = threading.Thread(target=waiter)
    t.start()
    assert ready.wait(JOIN_TIMEOUT)
    f.set_result(42)
    t.join(JOIN_TIMEOUT)
    assert got == [True]
    assert f.result(0) == 42


def test_wait_and_as_completed_use_the_assigned_condition(mods):
    futures, threading = mods
    fs = [progress_future(futures, threading) for _ in range(3)]
    t = threading.Thread(target=lambda: [f.set_result(i) for i, f in enumerate(fs)])
    t.start()
    done, not_done = futures.wait(fs, timeout=JOIN_TIMEOUT)
    assert done == set(fs) and not not_done
    assert sorted(f.result() for f in futures.as_completed(fs, timeout=JOIN_TIMEOUT)) == [0, 1, 2]
    t.join(JOIN_TIMEOUT)


def test_a_condition_over_another_lock_is_a_clear_type_error():
    # The future's state changes take the condition's lock in Rust: it must be threadkit's
    # RLock. Any other is refused at once, with the alternative named.
    f = tk_futures.Future()
    for cond in (std_threading.Condition(), tk_threading.Condition(tk_threading.Lock())):
        with pytest.raises(TypeError, match=r"threadkit\.threading\.Condition\(\)"):
            f._condition = cond
    f.set_result(1)
    assert f.result(0) == 1

"""CPython's own tests of its synchronization primitives (``test.lock_tests``), run against
threadkit's types by subclassing its test classes with ours plugged in."""

import unittest

import threadkit.threading as tk_threading
from test import lock_tests


class TestLock(lock_tests.LockTests):
    locktype = staticmethod(tk_threading.Lock)


class TestRLock(lock_tests.RLockTests):
    locktype = staticmethod(tk_threading.RLock)


class TestConditionOverRLock(lock_tests.ConditionTests):
    condtype = staticmethod(tk_threading.Condition)



class TestEvent(lock_tests.EventTests):
    eventtype = staticmethod(tk_threading.Event)

    @unittest.skip("inspects the stdlib Event's private _cond (a Condition); ours has none")
    def test_at_fork_reinit(self):
        pass


class TestSemaphore(lock_tests.SemaphoreTests):
    semtype = staticmethod(tk_threading.Semaphore)


class TestBoundedSemaphore(lock_tests.BoundedSemaphoreTests):
    semtype = staticmethod(tk_threading.BoundedSemaphore)


class TestBarrier(lock_tests.BarrierTests):
    barriertype = staticmethod(tk_threading.Barrier)

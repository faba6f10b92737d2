"""CPython's own tests of its synchronization primitives (``test.lock_tests``), run against
threadkit's types by subclassing its test classes with ours plugged in."""

import threadkit.threading as tk_threading
from test import lock_tests


class TestLock(lock_tests.LockTests):
    locktype = staticmethod(tk_threading.Lock)


class TestRLock(lock_tests.RLockTests):
    locktype = staticmethod(tk_threading.RLock)


class TestConditionOverRLock(lock_tests.ConditionTests):
    condtype = staticmethod(tk_threading.Condition)


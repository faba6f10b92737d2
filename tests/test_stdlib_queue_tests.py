"""CPython's own queue tests (``test.test_queue``), run against threadkit.queue by subclassing
its test classes with our module plugged in (as ``PyQueueTest``/``CQueueTest`` plug in the
pure-Python and C modules).

Not run, by design:
- ``PySimpleQueueTest``: it tests ``queue._PySimpleQueue``, the stdlib's pure-Python fallback,
  which is not part of the public API (threadkit has one SimpleQueue, tested through
  ``CSimpleQueueTest``, whose extra tests -- ``test_is_default``, ``test_reentrancy`` -- apply).

Queue.shutdown: the interpreter's own test_queue has the shutdown tests from 3.13. threadkit
offers shutdown on every version, so on 3.11/3.12 the shutdown tests of the newest CPython
test_queue.py found next to this interpreter (pyenv layout, or the file named by the
THREADKIT_CPYTHON_TEST_QUEUE environment variable) run too; the rest of that file is the same
as the older ones.
"""

import importlib.util
import os
import re
import sys
import unittest
from pathlib import Path

import threadkit.queue as tkq
from _helpers_queue import reexported
from test import test_queue

# --- the running interpreter's own tests ----------------------------------------------------


class TestQueue(test_queue.QueueTest, unittest.TestCase):
    queue = tkq


class TestLifoQueue(test_queue.LifoQueueTest, unittest.TestCase):
    queue = tkq


class TestPriorityQueue(test_queue.PriorityQueueTest, unittest.TestCase):
    queue = tkq


class TestFailingQueue(test_queue.FailingQueueTest, unittest.TestCase):
    queue = tkq


class TestSimpleQueue(test_queue.CSimpleQueueTest):
    queue = tkq


# --- shutdown tests from a newer CPython, on 3.11 and 3.12 -----------------------------------

HAS_OWN_SHUTDOWN_TESTS = hasattr(test_queue.BaseQueueTestMixin, "test_shutdown_empty")
ENV = "THREADKIT_CPYTHON_TEST_QUEUE"


def _version_key(path):
    m = re.search(r"python(\d+)\.(\d+)", str(path))
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _load_newest_test_queue():
    """The newest CPython test_queue.py with the shutdown tests, or None."""
    if os.environ.get(ENV):
        candidates = [Path(os.environ[ENV])]
    else:
        # pyenv and similar layouts keep interpreters side by side: <root>/<version>/lib/...
        root = Path(sys.base_prefix).parent
        candidates = sorted(root.glob("*/lib/python3.*/test/test_queue.py"), key=_version_key)
        candidates.reverse()
    for path in candidates:
        if not path.is_file():
            continue
        spec = importlib.util.spec_from_file_location("_cpython_newest_test_queue", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception:  # noqa: BLE001 - an incompatible file is as good as none
            continue
        if hasattr(module.BaseQueueTestMixin, "test_shutdown_empty"):
            return module
    return None


def _only_shutdown_tests(cls):
    """Keeps only the shutdown tests: the others are the interpreter's own, run above."""
    for name in dir(cls):
        if name.startswith("test_") and not name.startswith("test_shutdown"):
            setattr(cls, name, None)  # not callable: the test loaders skip it
    return cls


PENDING = unittest.skipIf(
    reexported("Queue") and not HAS_OWN_SHUTDOWN_TESTS,
    "threadkit.queue.Queue is still the stdlib's class re-exported, without shutdown before "
    "3.13; runs once threadkit's own Queue lands",
)

if not HAS_OWN_SHUTDOWN_TESTS:
    newest = _load_newest_test_queue()

    if newest is None:

        @unittest.skip(
            "no CPython >= 3.13 test/test_queue.py found next to this interpreter; "
            f"set {ENV} to one to run its shutdown tests against threadkit"
        )
        class TestNewestShutdown(unittest.TestCase):
            def test_shutdown(self):
                pass

    else:

        @PENDING
        @_only_shutdown_tests
        class TestNewestQueueShutdown(newest.QueueTest, unittest.TestCase):
            queue = tkq

        @PENDING
        @_only_shutdown_tests
        class TestNewestLifoQueueShutdown(newest.LifoQueueTest, unittest.TestCase):
            queue = tkq

        @PENDING
        @_only_shutdown_tests
        class TestNewestPriorityQueueShutdown(newest.PriorityQueueTest, unittest.TestCase):
            queue = tkq

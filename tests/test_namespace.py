"""threadkit.threading, threadkit.queue and threadkit.futures mirror the whole namespace of the
module they replace, private names included (tools read `threading._active` and the like)."""

import concurrent.futures
import queue
import threading

import pytest

import threadkit
import threadkit.futures as tk_futures
import threadkit.queue as tk_queue
import threadkit.threading as tk_threading


@pytest.mark.parametrize(
    "ours, std",
    [(tk_threading, threading), (tk_queue, queue), (tk_futures, concurrent.futures)],
    ids=["threading", "queue", "futures"],
)
def test_every_public_name_is_there(ours, std):
    missing = [name for name in std.__all__ if not hasattr(ours, name)]
    assert missing == []
    # Ours may only add what newer Pythons have (queue.ShutDown before 3.13).
    assert set(ours.__all__) - set(std.__all__) <= {"ShutDown"}


def test_private_names_of_threading_are_mirrored():
    names = [n for n in dir(threading) if not (n.startswith("__") and n.endswith("__"))]
    assert [n for n in names if not hasattr(tk_threading, n)] == []
    # The registry and the hooks are the standard library's own objects (shared).
    assert tk_threading._active is threading._active
    assert tk_threading.__excepthook__ is threading.__excepthook__
    assert tk_threading.local is threading.local


def test_the_primitives_are_threadkits():
    for name in ("Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event",
                 "Barrier", "Thread", "Timer"):
        assert getattr(tk_threading, name) is getattr(threadkit, name)
        assert getattr(tk_threading, name) is not getattr(threading, name)
    assert tk_threading._allocate_lock is tk_threading.Lock


def test_started_flag_view():
    go = tk_threading.Event()
    t = tk_threading.Thread(target=go.wait, args=(30,))
    assert t._started.is_set() is False
    t.start()
    assert t._started.wait() is True
    assert t._started.is_set() is True
    go.set()
    t.join(30)
    assert not t.is_alive()

"""Ctrl-C in queue waits: SIGINT while the main thread blocks in Queue.get/put/join or
SimpleQueue.get raises KeyboardInterrupt promptly and loses nothing (same pattern as
test_signals.py: each case runs in a subprocess that sends itself SIGINT)."""

import pytest

from conftest import assert_sigint_interrupts, run_python

# Each case: (setup, blocking call, check after the interrupt). The blocking call must block
# until interrupted; the check must prove the queue is consistent and nothing was lost.
EMPTY_AFTER = (
    "assert q.qsize() == 0 and q.empty(); assert q.unfinished_tasks == 0; "
    "q.put('x'); assert q.get_nowait() == 'x'; assert q.qsize() == 0"
)
FULL_AFTER = (
    "assert q.qsize() == 2 and q.full(); assert q.unfinished_tasks == 2; "
    "assert sorted([q.get_nowait(), q.get_nowait()]) == [1, 2]; "
    "assert outcome(q.get_nowait) == 'Empty'; q.put(3); assert q.get() == 3; "
    "assert q.unfinished_tasks == 3"
)
CASES = {
    "Queue.get": ("q = tkq.Queue()", "q.get()", EMPTY_AFTER),
    "Queue.get(timeout)": ("q = tkq.Queue()", "q.get(timeout=60)", EMPTY_AFTER),
    "LifoQueue.get": ("q = tkq.LifoQueue(3)", "q.get()", EMPTY_AFTER),
    "PriorityQueue.get(timeout)": ("q = tkq.PriorityQueue()", "q.get(True, 60)", EMPTY_AFTER),
    "Queue.put": ("q = tkq.Queue(2); q.put(1); q.put(2)", "q.put(99)", FULL_AFTER),
    "Queue.put(timeout)": ("q = tkq.Queue(2); q.put(1); q.put(2)", "q.put(99, timeout=60)",
                           FULL_AFTER),
    "PriorityQueue.put": ("q = tkq.PriorityQueue(2); q.put(1); q.put(2)", "q.put(0)",
                          FULL_AFTER),
    "Queue.join": (
        "q = tkq.Queue(); q.put(1); q.put(2); q.get()",
        "q.join()",
        "assert q.unfinished_tasks == 2 and q.qsize() == 1; "
        "assert q.get_nowait() == 2; q.task_done(); q.task_done(); q.join(); "
        "assert outcome(q.task_done) == 'ValueError'",
    ),
    "SimpleQueue.get": (
        "q = tkq.SimpleQueue()",
        "q.get()",
        "assert q.qsize() == 0 and q.empty(); q.put('x'); assert q.get_nowait() == 'x'",
    ),
    "SimpleQueue.get(timeout)": (
        "q = tkq.SimpleQueue()",
        "q.get(timeout=60)",
        "assert q.qsize() == 0; q.put(1); q.put(2); assert [q.get(), q.get()] == [1, 2]",
    ),
    # With other threads at work: after the interrupt, every item is accounted for.
    "Queue.put with a consumer thread": (
        "q = tkq.Queue(2); q.put(1); q.put(2); got = []\n"
        "def consume():\n"
        "    while True:\n"
        "        x = q.get(); q.task_done()\n"
        "        if x is None: return\n"
        "        got.append(x)\n"
        "consumer = threading.Thread(target=consume)",
        "q.put(99)",
        "assert q.qsize() == 2 and q.unfinished_tasks == 2; consumer.start(); "
        "[q.put(i) for i in range(3, 50)]; q.put(None); consumer.join(30); "
        "assert got == list(range(1, 50)), got; assert q.unfinished_tasks == 0",
    ),
    "Queue.get with a producer thread": (
        "q = tkq.Queue()\n"
        "producer = threading.Thread(target=lambda: [q.put(i) for i in range(100)])",
        "q.get()",
        "assert q.qsize() == 0 and q.unfinished_tasks == 0; producer.start(); producer.join(30); "
        "assert [q.get() for _ in range(100)] == list(range(100)); assert q.empty()",
    ),
}



OUTCOME_HELPER = """
def outcome(f):
    try:
        f()
    except Exception as e:
        return type(e).__name__
    return "returned"
"""


@pytest.mark.parametrize("name", sorted(CASES))
def test_sigint_interrupts_blocking_call(name):
    assert_sigint_interrupts(*CASES[name], helpers=OUTCOME_HELPER)


@pytest.mark.parametrize(
    "setup, call",
    [
        ("q = tkq.Queue()", "q.get(timeout=1.0)"),
        ("q = tkq.Queue(1); q.put(0)", "q.put(1, timeout=1.0)"),
        ("q = tkq.SimpleQueue()", "q.get(timeout=1.0)"),
    ],
)
def test_handler_that_returns_lets_the_wait_reach_its_deadline(setup, call):
    r = run_python(
        f"""
        import os, signal, threading, time
        import threadkit.queue as tkq
        calls = []
        signal.signal(signal.SIGINT, lambda *a: calls.append(1))
        {setup}
        threading.Thread(target=lambda: os.kill(os.getpid(), signal.SIGINT), daemon=True).start()
        t0 = time.monotonic()
        try:
            {call}
        except (tkq.Empty, tkq.Full) as e:
            print(type(e).__name__, calls, time.monotonic() - t0 >= 0.9, q.qsize())
        """
    )
    assert r.returncode == 0, r.stderr
    words = r.stdout.split()
    assert words[0] in ("Empty", "Full")
    assert words[1:] == ["[1]", "True", "1" if "put" in call else "0"]


def test_sigint_in_worker_thread_wait_is_not_delivered_there():
    # Signals go to the main thread: a worker blocked in get() keeps waiting and still gets
    # its item after the main thread handled KeyboardInterrupt.
    r = run_python(
        """
        import os, signal, threading, time
        import threadkit.queue as tkq
        q = tkq.Queue()
        got = []
        started = threading.Event()
        def worker():
            started.set()
            got.append(q.get(timeout=30))
        t = threading.Thread(target=worker)
        t.start()
        started.wait(30)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)
        except KeyboardInterrupt:
            pass
        q.put("item")
        t.join(30)
        print(got, q.qsize(), q.unfinished_tasks)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["['item']", "0", "1"]

"""Deadlocks found the moment they form (issue 9, "What it must show" 1 and 2).

Every deadlock case runs in a subprocess with a hard timeout, once per action:

- ``report``: the report appears on stderr (both thread names, both primitives' names, the
  cycle line) and the threads stay blocked; the program then ends itself (``stays_blocked``),
  the test's release path, since they would wait forever;
- ``raise``: ``DeadlockError`` is raised in the thread whose wait closed the cycle, the other
  thread then completes, and the process exits 0.

The threads are ordered without sleeping: a thread goes for its second lock once
``threadkit.snapshot()`` shows the other one blocked, so the thread that closes the cycle, and
with it the report's first thread and the cycle line, is known.

No false reports: the whole suite runs with the action ``raise`` and fails on any report
(conftest.py); the idioms below that look like deadlocks and are not run here in-process.
"""

import re
import sys
from textwrap import dedent
import threading as std_threading

import pytest

import threadkit
import threadkit.debug
import threadkit.queue as tk_queue
import threadkit.threading as tk
from threadkit.futures import ThreadPoolExecutor

from _helpers_debug import NAMES, NEEDS_NAMES, TWO_RLOCKS, run_program

needs_names = pytest.mark.xfail(not NAMES, strict=True, reason=NEEDS_NAMES)

ACTIONS = ["report", "raise"]


def check_report(r, threads, waits, cycle):
    """Report mode: exactly one report on stderr, saying for each thread its name and what it
    waits for (and who holds it), with its stack; the cycle line; the threads still blocked."""
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("still blocked after 1 report(s)"), (r.stdout, r.stderr)
    err = r.stderr
    assert err.count("Deadlock found:") == 1, err
    assert err.startswith("threadkit: Deadlock found: %d threads wait for each other." % len(
        threads)), err
    for name in threads:
        assert re.search(r"^Thread '%s' \(ident \d+\), waiting for \d+\.\d{3} s$" % name, err,
                         re.M), (name, err)
        assert "    Stack of '%s' (most recent call last):" % name in err, err
    for line in waits:
        assert re.search(r"^    %s$" % line, err, re.M), (line, err)
    assert "\nCycle: %s\n" % cycle in err, err


def check_raise(r, expected_stdout):
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stderr == "", r.stderr
    assert r.stdout.splitlines() == expected_stdout, r.stdout


# -- Two locks taken in opposite orders (AB/BA) ------------------------------------------------

AB_BA = """
inventory = threading.{lock}(name="inventory")
log = threading.{lock}(name="log")
restock_holds = threading.Event()
out = []

def restock():
    with inventory:
        restock_holds.set()
        wait_until(lambda: waiting("write_log"), "write_log waits for inventory")
        try:
            with log:
                out.append("restock got log")
        except threadkit.DeadlockError as e:
            assert e.report.cycle_line == CYCLE, e.report.cycle_line
            assert str(e).endswith("Cycle: " + CYCLE)
            out.append("restock: DeadlockError, releases inventory")

def write_log():
    with log:
        restock_holds.wait()
        with inventory:
            out.append("write_log got inventory")

CYCLE = "'restock' -> {kind} 'log' -> 'write_log' -> {kind} 'inventory' -> 'restock'"
threads = [threading.Thread(target=restock, name="restock", daemon=True),
           threading.Thread(target=write_log, name="write_log", daemon=True)]
for t in threads:
    t.start()
if threadkit.get_deadlock_action() == "report":
    stays_blocked(*threads)
for t in threads:
    t.join()
print("\\n".join(out))
"""


@needs_names
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("lock", ["Lock", "RLock"])
def test_two_locks_in_opposite_orders(lock, action):
    r = run_program(AB_BA.format(lock=lock, kind=lock), action)
    cycle = "'restock' -> %s 'log' -> 'write_log' -> %s 'inventory' -> 'restock'" % (lock, lock)
    if action == "report":
        check_report(
            r, ["restock", "write_log"],
            [r"waits for %s 'log' created at <string>:\d+" % lock,
             r"held by 'write_log' \(ident \d+\)",
             r"waits for %s 'inventory' created at <string>:\d+" % lock,
             r"held by 'restock' \(ident \d+\)"],
            cycle)
        # Each thread's stack shows where it is blocked (the source of a -c program is not
        # known, so no code lines).
        assert re.search(r'^      File "<string>", line \d+, in restock\n(        .*\n)?\nThread',
                         r.stderr, re.M), r.stderr
        assert re.search(r'^      File "<string>", line \d+, in write_log\n(        .*\n)?\nCycle',
                         r.stderr, re.M), r.stderr
    else:
        check_raise(r, ["restock: DeadlockError, releases inventory", "write_log got inventory"])


def test_two_locks_without_names_say_where_they_were_created():
    # A primitive without a name is known by its creation site; thread names come from the
    # standard library's registry (a rename after start shows).
    r = run_program("""
        a, b = threading.RLock(), threading.RLock()
        a_held = threading.Event()
        def first():
            with a:
                a_held.set()
                wait_until(lambda: waiting("second"), "second waits")
                try:
                    b.acquire()
                except threadkit.DeadlockError as e:
                    print(e.report.cycle_line)
        def second():
            with b:
                a_held.wait()
                with a:
                    pass
        t1 = threading.Thread(target=first, name="first-before-rename")
        t2 = threading.Thread(target=second, name="second")
        t1.start()
        t1.name = "first"  # first goes on only once second has started
        t2.start()
        t1.join(); t2.join()
    """, "raise")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert re.fullmatch(r"'first' -> RLock created at \S+:\d+ -> 'second' -> "
                        r"RLock created at \S+:\d+ -> 'first'\n", r.stdout), r.stdout


# -- A thread joining a thread that waits for a lock the joiner holds ------------------------

JOIN_LOCK = """
results = threading.RLock(name="results")
out = []

def worker():
    with results:
        out.append("worker got results")

def joiner():
    with results:
        w.start()
        wait_until(lambda: waiting("worker"), "worker waits for results")
        try:
            w.join()
        except threadkit.DeadlockError as e:
            out.append("joiner: DeadlockError, releases results")
            assert e.report.cycle_line.startswith("'joiner' -> Thread "), e.report.cycle_line

w = threading.Thread(target=worker, name="worker", daemon=True)
j = threading.Thread(target=joiner, name="joiner", daemon=True)
j.start()
if threadkit.get_deadlock_action() == "report":
    stays_blocked(j, w)
j.join()
w.join()
print("\\n".join(out))
"""


@pytest.mark.parametrize("action", [pytest.param("report", marks=needs_names), "raise"])
def test_join_of_a_thread_waiting_for_a_lock_the_joiner_holds(action):
    r = run_program(JOIN_LOCK, action)
    if action == "report":
        check_report(r, ["joiner", "worker"],
                     [r"waits for RLock 'results' created at <string>:\d+",
                      r"held by 'joiner' \(ident \d+\)",
                      r"held by 'worker' \(ident \d+\)"],
                     "'joiner' -> Thread 'worker' (join) -> 'worker' -> RLock 'results' -> "
                     "'joiner'")
    else:
        check_raise(r, ["joiner: DeadlockError, releases results", "worker got results"])


# -- Two threads joining each other ------------------------------------------------------------

MUTUAL_JOIN = """
out = []

def left_run():
    right.start()
    right.join()
    out.append("left joined right")

def right_run():
    wait_until(lambda: waiting("left"), "left joins right")
    try:
        left.join()
    except threadkit.DeadlockError:
        out.append("right: DeadlockError, ends")

left = threading.Thread(target=left_run, name="left", daemon=True)
right = threading.Thread(target=right_run, name="right", daemon=True)
left.start()
if threadkit.get_deadlock_action() == "report":
    stays_blocked(left, right)
left.join()
print("\\n".join(out))
"""


@pytest.mark.parametrize("action", ACTIONS)
def test_two_threads_joining_each_other(action):
    r = run_program(MUTUAL_JOIN, action)
    if action == "report":
        check_report(r, ["right", "left"], [r"held by 'left' \(ident \d+\)",
                                            r"held by 'right' \(ident \d+\)"],
                     "'right' -> Thread 'left' (join) -> 'left' -> Thread 'right' (join) -> "
                     "'right'")
    else:
        check_raise(r, ["right: DeadlockError, ends", "left joined right"])


# -- A Condition whose waiter cannot take its lock back ---------------------------------------
# The waiter holds 'log' and waits on the condition; the notifier, holding the condition's lock
# 'state', then wants 'log'. "notifier closes": the waiter is already blocked taking 'state'
# back when the notifier goes for 'log' (DeadlockError in the notifier, whose wait closed the
# cycle). "waiter closes": the notifier is blocked on 'log' when the waiter's timed wait ends
# and its re-acquire closes the cycle; a re-acquire cannot give up (the lock must be held when
# wait() returns), so with `raise` the error goes to the next thread of the cycle, the notifier.

CONDITION = """
log = threading.Lock(name="log")
state = threading.Lock(name="state")
cond = threading.Condition(state)
out = []
WAITER_CLOSES = {waiter_closes}

def waiter():
    with log:
        with cond:
            cond.wait(timeout=2 if WAITER_CLOSES else None)
            out.append("waiter woke with state")

def notifier():
    wait_until(lambda: waiting("waiter", kind="Condition"), "waiter waits on the condition")
    with cond:
        if not WAITER_CLOSES:
            cond.notify()
            wait_until(lambda: waiting("waiter", reacquire=True), "waiter takes state back")
        try:
            with log:
                out.append("notifier got log")
        except threadkit.DeadlockError as e:
            out.append("notifier: DeadlockError, releases state")

w = threading.Thread(target=waiter, name="waiter", daemon=True)
n = threading.Thread(target=notifier, name="notifier", daemon=True)
w.start(); n.start()
if threadkit.get_deadlock_action() == "report":
    stays_blocked(w, n)
w.join(); n.join()
print("\\n".join(out))
"""


@needs_names
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("closer", ["notifier closes", "waiter closes"])
def test_condition_waiter_cannot_take_its_lock_back(closer, action):
    waiter_closes = closer == "waiter closes"
    r = run_program(CONDITION.format(waiter_closes=waiter_closes), action)
    if action == "report":
        if waiter_closes:
            cycle = "'waiter' -> Lock 'state' -> 'notifier' -> Lock 'log' -> 'waiter'"
        else:
            cycle = "'notifier' -> Lock 'log' -> 'waiter' -> Lock 'state' -> 'notifier'"
        check_report(
            r, ["waiter", "notifier"],
            [r"waits for Lock 'state' created at <string>:\d+ \(taking it back after "
             r"Condition.wait\)",
             r"waits for Lock 'log' created at <string>:\d+"],
            cycle)
    else:
        check_raise(r, ["notifier: DeadlockError, releases state", "waiter woke with state"])


# -- A pool's only worker waiting for a task queued behind itself ------------------------------

POOL = """
pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool")
out = []

def inner():
    return "inner ran"

def outer():
    f = pool.submit(inner)
    try:
        return f.result()
    except threadkit.DeadlockError as e:
        out.append("outer: DeadlockError")
        return "recovered"

fut = pool.submit(outer)
if threadkit.get_deadlock_action() == "report":
    if not reported.wait(30):
        print("no report", flush=True); os._exit(4)
    print("still blocked after %d report(s)" % len(REPORTS) if not fut.done() else "done",
          flush=True)
    os._exit(0)
out.append(fut.result(timeout=30))
pool.shutdown()
print("\\n".join(out))
"""


@pytest.mark.parametrize("action", ACTIONS)
def test_pool_worker_waits_for_a_future_queued_behind_it(action):
    r = run_program(POOL, action)
    if action == "report":
        assert r.stdout.startswith("still blocked after 1 report(s)"), (r.stdout, r.stderr)
        assert re.search(r"^Thread 'pool_0' \(ident \d+\), waiting for", r.stderr, re.M)
        assert re.search(r"\nCycle: 'pool_0' -> Future .*\(result\) -> 'pool_0'\n", r.stderr)
    else:
        check_raise(r, ["outer: DeadlockError", "recovered"])


POOL_SHUTDOWN = """
results = threading.RLock(name="results")
out = []

def task():
    with results:
        out.append("task got results")

def closer():
    with results:
        ex = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool")
        ex.submit(task)
        wait_until(lambda: waiting("pool_0"), "the worker waits for results")
        try:
            ex.shutdown(wait=True)
        except threadkit.DeadlockError as e:
            out.append("closer: DeadlockError, releases results")
            assert e.report.cycle_line.startswith("'closer' -> Thread 'pool_0' (join)"), (
                e.report.cycle_line)
    ex.shutdown(wait=True)

c = threading.Thread(target=closer, name="closer", daemon=True)
c.start()
if threadkit.get_deadlock_action() == "report":
    stays_blocked(c)
c.join()
print("\\n".join(out))
"""


@pytest.mark.parametrize("action", ACTIONS)
def test_pool_shutdown_waiting_for_a_worker_that_waits_for_the_caller(action):
    r = run_program(POOL_SHUTDOWN, action)
    if action == "report":
        check_report(r, ["closer", "pool_0"],
                     [r"waits for RLock 'results' created at <string>:\d+",
                      r"held by 'closer' \(ident \d+\)"],
                     "'closer' -> Thread 'pool_0' (join) -> 'pool_0' -> RLock 'results' -> "
                     "'closer'")
    else:
        check_raise(r, ["closer: DeadlockError, releases results", "task got results"])


# -- The action, the hook ---------------------------------------------------------------------

def test_action_is_set_by_the_environment_and_by_set_deadlock_action():
    r = run_program("""
        print(threadkit.get_deadlock_action())
        threadkit.set_deadlock_action("ignore")
        print(threadkit.get_deadlock_action())
        threadkit.set_deadlock_action(" RAISE ")
        print(threadkit.get_deadlock_action())
        for bad in ["panic", 3, None]:
            try:
                threadkit.set_deadlock_action(bad)
            except ValueError as e:
                print(e)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "report", "ignore", "raise",
        "deadlock action must be 'report', 'raise' or 'ignore', not 'panic'",
        "deadlock action must be 'report', 'raise' or 'ignore', not 3",
        "deadlock action must be 'report', 'raise' or 'ignore', not None",
    ]
    for action in ["raise", "ignore", "report"]:
        r = run_program("print(threadkit.get_deadlock_action())", action)
        assert r.stdout == action + "\n", r.stderr
    r = run_program("print(threadkit.get_deadlock_action())", "loud")
    assert r.stdout == "report\n"
    assert r.stderr == ("threadkit: THREADKIT_DEADLOCK ignored: deadlock action must be "
                        "'report', 'raise' or 'ignore', not 'loud'\n")


def test_the_action_and_hook_in_process():
    # (conftest.py put them back to the strict mode after this test)
    assert threadkit.get_deadlock_action() == "raise"
    threadkit.set_deadlock_action("report")
    assert threadkit.get_deadlock_action() == "report"
    with pytest.raises(ValueError):
        threadkit.set_deadlock_action("sometimes")
    assert threadkit.get_deadlock_action() == "report"
    assert issubclass(threadkit.DeadlockError, RuntimeError)
    assert threadkit.DeadlockError is threadkit.debug.DeadlockError
    assert threadkit.debug.deadlock_hook is threadkit.debug.__deadlock_hook__


@pytest.mark.parametrize("where", ["threadkit", "threadkit.debug"])
def test_a_replaced_hook_is_called_with_the_report(where):
    # Set on the package or on the module, as threading.excepthook.
    r = run_program(TWO_RLOCKS + dedent("""
        import importlib
        def my_hook(report):
            print(type(report).__name__, report.cycle_line, report.raises, flush=True)
            print(json.dumps(report.as_dict())[:1], flush=True)
            print([t["name"] for t in report.threads], flush=True)
            reported.set()
        threadkit.deadlock_hook = threadkit.debug.__deadlock_hook__  # the prelude's hook off
        setattr(importlib.import_module("%s"), "deadlock_hook", my_hook)
        t1.start(); t2.start()
        reported.wait(30)
        print(t1.is_alive(), t2.is_alive(), flush=True)
        os._exit(0)
    """ % where), "report")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"DeadlockReport 'first' -> RLock created at .* -> 'first' False",
                        lines[0]), lines
    assert lines[1:] == ["{", "['first', 'second']", "True True"]


def test_a_hook_that_raises_is_printed_as_unraisable_and_the_thread_keeps_waiting():
    r = run_program(TWO_RLOCKS + dedent("""
        def bad_hook(report):
            reported.set()
            raise ValueError("the hook broke")
        threadkit.deadlock_hook = bad_hook
        t1.start(); t2.start()
        reported.wait(30)
        for t in (t1, t2):
            t.join(0.3)
        print(t1.is_alive(), t2.is_alive(), flush=True)
        os._exit(0)
    """), "report")
    assert r.stdout == "True True\n", r.stderr
    assert r.stderr.startswith("Exception ignored in: <function bad_hook at "), r.stderr
    assert "ValueError: the hook broke" in r.stderr


def test_ignore_finds_nothing():
    r = run_program(TWO_RLOCKS + dedent("""
        t1.start(); t2.start()
        wait_until(lambda: waiting("first") and waiting("second"), "both wait")
        print(reported.is_set(), threadkit.snapshot()["deadlocks"] != [], flush=True)
        os._exit(0)
    """), "ignore")
    # Nothing is reported; a snapshot still shows the deadlock.
    assert r.stdout == "False True\n" and r.stderr == "", r.stderr


def test_a_deadlock_is_reported_once():
    # Report mode: the threads stay blocked, and the report is not repeated.
    r = run_program(TWO_RLOCKS + dedent("""
        t1.start(); t2.start()
        reported.wait(30)
        t1.join(0.5)
        print(len(REPORTS), flush=True)
        os._exit(0)
    """), "report")
    assert r.stdout == "1\n", r.stderr
    assert r.stderr.count("Deadlock found") == 1


def test_the_main_thread_closing_a_cycle_raises():
    # The main thread's waits (which also run signal handlers) act on deadlocks too.
    r = run_program("""
        a, b = threading.RLock(), threading.RLock()
        b_held = threading.Event()
        def other():
            with b:
                b_held.set()
                with a:
                    print("other got a", flush=True)
        with a:
            t = threading.Thread(target=other, name="other")
            t.start()
            b_held.wait()
            wait_until(lambda: waiting("other"), "other waits")
            try:
                b.acquire()
            except threadkit.DeadlockError as e:
                print(e.report.cycle_line.split(" -> ")[0], flush=True)
        t.join()
    """, "raise")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.splitlines() == ["'MainThread'", "other got a"]


# -- No false reports -------------------------------------------------------------------------
# In-process, under the suite's strict mode (raise; any report fails the test).

def test_hand_off_is_not_a_deadlock():
    # A plain Lock may be released by another thread: acquire, let a thread release it,
    # acquire again. The second acquire waits for a lock its own thread holds.
    lock = tk.Lock()
    for _ in range(20):
        lock.acquire()
        t = tk.Thread(target=lock.release)
        t.start()
        assert lock.acquire(timeout=30)
        lock.release()
        t.join()


def test_hand_off_between_threads_that_also_hold_locks():
    # Two plain Locks used as signals between two threads that each hold an RLock while
    # waiting: each signal lock is acquired by one thread and released by the other, so its
    # "owner" is not who will release it.
    ping, pong = tk.Lock(), tk.Lock()
    ping.acquire()
    pong.acquire()
    mine, theirs = tk.RLock(), tk.RLock()
    rounds = 50

    def other():
        with theirs:
            for _ in range(rounds):
                assert ping.acquire(timeout=30)
                pong.release()

    t = tk.Thread(target=other)
    t.start()
    with mine:
        for _ in range(rounds):
            ping.release()
            assert pong.acquire(timeout=30)
    t.join()


def test_a_gate_lock_opened_by_a_third_thread():
    # The lock is acquired by the main thread as a closed gate; workers wait for it; another
    # thread opens it. The main thread joins the workers meanwhile, without a timeout: it holds
    # a plain Lock its workers wait for, but it is not the one to release it.
    gate = tk.Lock()
    gate.acquire()
    passed = []

    def worker():
        with gate:
            passed.append(1)

    workers = [tk.Thread(target=worker) for _ in range(3)]
    for w in workers:
        w.start()
    opener = tk.Timer(0.05, gate.release)
    opener.start()
    for w in workers:
        w.join()
    opener.join()
    assert len(passed) == 3


def test_a_plain_lock_held_across_result_as_a_gate():
    # The same gate, with the main thread waiting for a pool task that waits at the gate.
    gate = tk.Lock()
    gate.acquire()
    with ThreadPoolExecutor(max_workers=1) as pool:
        def task():
            with gate:
                return "through"

        future = pool.submit(task)
        opener = tk.Timer(0.05, gate.release)
        opener.start()
        assert future.result() == "through"
        opener.join()


def test_a_timed_wait_that_outlasts_its_holder():
    # Both threads would wait for each other, but one of the waits has a timeout: not a
    # deadlock (it ends), and no report.
    a, b = tk.RLock(), tk.RLock()
    a_held, b_held = std_threading.Event(), std_threading.Event()
    got = []

    def other():
        with b:
            b_held.set()
            a_held.wait()
            got.append(a.acquire(timeout=0.2))  # gives up: we hold a and wait for b

    t = tk.Thread(target=other)
    with a:
        t.start()
        a_held.set()
        b_held.wait()
        assert b.acquire(timeout=30)  # gets it once other gives up and releases b
        b.release()
    t.join()
    assert got == [False]


def test_condition_ping_pong():
    cond = tk.Condition()
    turn = ["a"]
    seen = []

    def player(me, other, n):
        for _ in range(n):
            with cond:
                while turn[0] != me:
                    cond.wait()
                seen.append(me)
                turn[0] = other
                cond.notify_all()

    threads = [tk.Thread(target=player, args=("a", "b", 200)),
               tk.Thread(target=player, args=("b", "a", 200))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == ["a", "b"] * 200


def test_producers_and_consumers_with_bounded_queues():
    jobs = tk_queue.Queue(maxsize=2)
    done = tk_queue.Queue(maxsize=1)
    lock = tk.Lock()
    total = [0]

    def produce(start):
        for i in range(start, start + 100):
            jobs.put(i)

    def consume():
        while (item := jobs.get()) is not None:
            with lock:
                total[0] += item
            jobs.task_done()
        jobs.task_done()
        done.put(None)

    producers = [tk.Thread(target=produce, args=(k * 100,)) for k in range(3)]
    consumers = [tk.Thread(target=consume) for _ in range(3)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        jobs.put(None)
    for _ in consumers:
        done.get()
    jobs.join()
    for t in consumers:
        t.join()
    assert total[0] == sum(range(300))


def test_pool_workers_submitting_to_another_pool():
    with ThreadPoolExecutor(max_workers=2) as inner, ThreadPoolExecutor(max_workers=2) as outer:
        def task(n):
            return sum(inner.submit(pow, n, 2).result() for _ in range(3))

        assert [f.result() for f in [outer.submit(task, n) for n in range(20)]] == [
            3 * n * n for n in range(20)]


def test_a_worker_of_a_pool_that_can_grow_waiting_for_a_task_of_its_own_pool():
    # With room for another worker, a task queued in the same pool gets one: not a deadlock.
    with ThreadPoolExecutor(max_workers=4) as pool:
        def outer():
            return pool.submit(lambda: "inner").result()

        assert pool.submit(outer).result(timeout=30) == "inner"


def test_the_suite_runs_in_strict_mode():
    # conftest.py: the action is raise, and a recording hook is in place.
    import conftest

    assert threadkit.get_deadlock_action() == "raise"
    assert threadkit.deadlock_hook is conftest._record_deadlock
    assert threadkit.debug._deadlock_found.__wrapped__ is not None
    import os

    assert os.environ["THREADKIT_DEADLOCK"] == "raise"
    assert sys.modules["threadkit"] is threadkit

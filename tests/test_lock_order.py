"""Debug mode: lock-order inversions found before they hang, and the all-asleep watchdog.

Each program runs in its own interpreter (debug mode must be on before its locks exist, and the
suite's own strict settings must not leak in): ``run_program`` from _helpers_debug.
"""

import re

from _helpers_debug import run_program

# The restock / write_log program: two threads take inventory and log in opposite orders,
# serialised by an Event so that it never hangs.
INVERSION = """
import threadkit
from threadkit import Event, Lock, Thread

inventory = Lock(name="inventory")
log = Lock(name="log")
restocked = Event()

def restock():
    with inventory:
        with log:
            pass
    restocked.set()

def write_log():
    restocked.wait()
    with log:
        with inventory:
            pass

threads = [Thread(target=restock, name="restock"), Thread(target=write_log, name="write_log")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("finished")
"""


def run(code, debug=True, action=None, **env):
    if debug:
        env["THREADKIT_DEBUG"] = "1"
    return run_program(code, action=action, prelude=False, **env)


def test_inversion_is_reported_every_run_with_names_sites_and_four_stacks():
    for _ in range(10):
        r = run(INVERSION)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "finished\n"
        err = r.stderr
        assert err.count("Potential deadlock (lock order inversion)") == 1, err
        assert "'write_log' took Lock 'inventory' while holding Lock 'log'" in err
        assert "'restock' took Lock 'log' while holding Lock 'inventory'" in err
        # Four stacks, each ending at the line that took the lock.
        taken = re.findall(r'taken at:\n(?:      File .*\n)*?      File "<string>", line (\d+), in (\w+)', err)
        assert sorted(taken) == sorted([("17", "write_log"), ("18", "write_log"),
                                        ("10", "restock"), ("11", "restock")]), err
        assert "'restock'    acquire Lock 'inventory', then Lock 'log'" in err
        assert "'write_log'  acquire Lock 'log', then Lock 'inventory'" in err


def test_nothing_is_reported_with_debug_mode_off():
    r = run(INVERSION, debug=False)
    assert r.returncode == 0 and r.stdout == "finished\n"
    assert r.stderr == ""


def test_enable_from_python_and_report_hook():
    import textwrap
    code = textwrap.dedent("""
    import threadkit
    threadkit.debug.enable()
    assert threadkit.debug.is_enabled()
    reports = []
    threadkit.deadlock_hook = reports.append
    """) + INVERSION.replace("import threadkit\n", "") + textwrap.dedent("""
    (report,) = reports
    assert isinstance(report, threadkit.debug.PotentialDeadlockReport)
    names = {e["thread_name"] for e in report.edges}
    assert names == {"restock", "write_log"}, names
    assert all(e["acquired_stack"][-1]["file"] == "<string>" for e in report.edges)
    assert report.edges[0]["held"]["name"] == "log"
    print("hooked")
    """)
    r = run(code, debug=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "finished\nhooked\n"
    assert r.stderr == ""


def test_three_lock_cycle_in_three_threads():
    code = """
import threadkit
from threadkit import Lock, Thread
a, b, c = Lock(name="A"), Lock(name="B"), Lock(name="C")
def take(first, second):
    with first:
        with second:
            pass
for i, (x, y) in enumerate([(a, b), (b, c), (c, a)]):
    t = Thread(target=take, args=(x, y), name=f"t{i}")
    t.start()
    t.join()
"""
    r = run(code)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("Potential deadlock") == 1, r.stderr
    assert "3 locks taken in a cycle of orders" in r.stderr
    for line in ("'t0'  acquire Lock 'A', then Lock 'B'", "'t1'  acquire Lock 'B', then Lock 'C'",
                 "'t2'  acquire Lock 'C', then Lock 'A'"):
        assert line in r.stderr, r.stderr


def test_raise_gives_up_the_acquisition_that_closes_the_cycle():
    code = """
import threadkit
from threadkit import Lock, RLock
a, b = RLock(name="a"), Lock(name="b")
with a:
    with b:
        pass
with b:
    try:
        a.acquire()
    except threadkit.PotentialDeadlockError as e:
        assert not a._is_owned(), "the lock was not taken"
        assert e.report.scenario, e.report
        print("raised")
    else:
        raise AssertionError("no PotentialDeadlockError")
# Reported once per cycle: the same order again goes through.
with b:
    with a:
        print("again")
"""
    r = run(code, action="raise")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "raised\nagain\n"


NO_FALSE_REPORTS = """
import threadkit
from threadkit import Condition, Event, Lock, RLock, Thread
import threadkit.queue as queue

# Consistent order in many threads, with locks made in a loop (one class per line).
outer = [Lock() for _ in range(8)]
inner = Lock()
def worker(o):
    for _ in range(200):
        with o:
            with inner:
                pass
ts = [Thread(target=worker, args=(o,)) for o in outer]
for t in ts: t.start()
for t in ts: t.join()

# RLock re-entry in both nestings.
r1, r2 = RLock(name="r1"), RLock(name="r2")
with r1:
    with r2:
        with r1:
            pass

# Hand-off: taken here, released by another thread; then the reverse order.
gate, data = Lock(name="gate"), Lock(name="data")
gate.acquire()
t = Thread(target=gate.release); t.start(); t.join()
with data:
    with gate:
        pass

# Condition wait/notify ping-pong, under a consistent outer lock.
big = Lock(name="big")
cond = Condition()
turn = [0]
def pong():
    for i in range(100):
        with big:
            with cond:
                pass
        with cond:
            while turn[0] % 2 == 0:
                cond.wait()
            turn[0] += 1
            cond.notify()
t = Thread(target=pong); t.start()
for i in range(100):
    with big:
        with cond:
            turn[0] += 1
            cond.notify()
    with cond:
        while turn[0] % 2 == 1:
            cond.wait()
t.join()

# Producer/consumer with a bounded queue while holding a lock; timed and try acquisitions.
q = queue.Queue(maxsize=2)
stats = Lock(name="stats")
def produce():
    for i in range(200):
        q.put(i)
    q.put(None)
p = Thread(target=produce); p.start()
while (item := q.get()) is not None:
    with stats:
        pass
p.join()
m, n = Lock(name="m"), Lock(name="n")
with m:
    assert n.acquire(False); n.release()
with n:
    assert m.acquire(timeout=5); m.release()

# Allowed orders and unchecked locks.
setup, run_ = Lock(name="setup"), Lock(name="run")
threadkit.debug.allow(run_, setup)
with setup:
    with run_:
        pass
with run_:
    with setup:
        pass
quiet, loud = Lock(name="quiet", order_checked=False), Lock(name="loud")
with quiet:
    with loud:
        pass
with loud:
    with quiet:
        pass
print("clean")
"""


def test_no_false_reports():
    r = run(NO_FALSE_REPORTS, action="raise")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "clean\n"
    assert r.stderr == ""


def test_order_checked_and_allow_reject_bad_arguments():
    code = """
import threadkit
try:
    threadkit.debug.allow(1, "x")
except TypeError as e:
    print("TypeError", e)
"""
    r = run(code)
    assert r.stdout.startswith("TypeError allow() takes threadkit Locks"), r.stderr


ALL_ASLEEP = """
import time
import threadkit
from threadkit import Event, Lock, Thread

gate = Lock(name="gate")
done = Event()
seen = []

def hook(report):
    seen.append((time.monotonic(), str(report)))
    gate.release()  # the way out: the hook runs on one of the sleeping threads

threadkit.deadlock_hook = hook

def setter():
    with gate:
        done.set()

gate.acquire()
t = Thread(target=setter, name="setter")
t.start()
start = time.monotonic()
done.wait()
t.join()
(when, text), = seen
print(f"{when - start:.3f}")
print(text)
"""


def test_all_asleep_is_reported_within_a_second():
    r = run(ALL_ASLEEP, timeout=60)
    assert r.returncode == 0, r.stderr
    first, text = r.stdout.split("\n", 1)
    assert float(first) < 1.0, first
    assert text.startswith("All threads are asleep"), text
    assert "'setter'" in text and "Lock 'gate'" in text, text
    assert "MainThread" in text, text


def test_threads_with_timeouts_or_sleeping_are_not_all_asleep():
    code = """
import time
import threadkit
import threadkit.queue as queue
from threadkit import Event, Thread
threadkit.deadlock_hook = lambda r: print("REPORTED", r)
q = queue.Queue()
stop = Event()
def server():
    polls = 0
    while polls < 15:
        try:
            q.get(timeout=0.05)
        except queue.Empty:
            polls += 1
def sleeper():
    for _ in range(15):
        time.sleep(0.05)
ts = [Thread(target=server), Thread(target=sleeper)]
for t in ts: t.start()
for t in ts: t.join()
print("quiet")
"""
    r = run(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "quiet\n", r.stdout

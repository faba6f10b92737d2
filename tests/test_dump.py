"""threadkit.dump(), snapshot() and dump_on_signal() (issue 9, "What it must show" 3).

Each case runs in a fresh interpreter, so that the threads in the dump are the program's own
(plus the watchdog thread of the prelude: a standard-library thread, which a dump shows too).
"""

import json
import re
from textwrap import dedent

import pytest

import threadkit

from _helpers_debug import NAMES, NEEDS_NAMES, TWO_RLOCKS, run_program

needs_names = pytest.mark.xfail(not NAMES, strict=True, reason=NEEDS_NAMES)

THREE_THREADS = """
inventory = threading.Lock({inventory})
release = threading.Event({release})
jobs = queue.Queue({jobs})

def holder():
    with inventory:
        release.wait()

def waiter():
    with inventory:
        pass

def consumer():
    jobs.get()

threads = [threading.Thread(target=f, name=f.__name__, daemon=True)
           for f in (holder, waiter, consumer)]
threads[0].start()
wait_until(inventory.locked, "holder holds inventory")
threads[1].start()
threads[2].start()
wait_until(lambda: all(waiting(t.name) for t in threads), "all three wait")
out = io.StringIO()
threadkit.dump(file=out)
snap = threadkit.snapshot()
release.set()
jobs.put(None)
for t in threads:
    t.join()
print(json.dumps({{"dump": out.getvalue(), "snapshot": snap,
                   "idents": {{t.name: t.ident for t in threads}},
                   "main": std_threading.main_thread().ident}}))
"""

NAMED = {"inventory": 'name="inventory"', "release": 'name="release"', "jobs": 'name="jobs"'}
UNNAMED = {"inventory": "", "release": "", "jobs": ""}


def three_threads(names):
    r = run_program(THREE_THREADS.format(**names), "report")
    assert r.returncode == 0 and r.stderr == "", (r.stdout, r.stderr)
    return json.loads(r.stdout)


def lines_of(text):
    return text.splitlines()


def find_line(lines, pattern):
    matches = [i for i, line in enumerate(lines) if re.fullmatch(pattern, line)]
    assert len(matches) == 1, (pattern, "\n".join(lines))
    return matches[0]


@needs_names
def test_dump_of_three_threads():
    out = three_threads(NAMED)
    lines = lines_of(out["dump"])
    ids = out["idents"]
    holder, waiter, consumer, main = ids["holder"], ids["waiter"], ids["consumer"], out["main"]
    for_ = r"for \d+\.\d{3} s"
    assert lines[0] == "threadkit thread dump: 5 threads"
    find_line(lines, r"Thread 'MainThread' \(ident %d, main, not daemon\): running \(not in a "
                     r"threadkit wait\)" % main)
    h = find_line(lines, r"Thread 'holder' \(ident %d, daemon\): waiting for Event 'release' "
                         r"created at <string>:\d+, %s" % (holder, for_))
    assert re.fullmatch(r"    holds Lock 'inventory' created at <string>:\d+", lines[h + 1])
    w = find_line(lines, r"Thread 'waiter' \(ident %d, daemon\): waiting for Lock 'inventory' "
                         r"created at <string>:\d+, held by 'holder' \(ident %d\), %s"
                         % (waiter, holder, for_))
    c = find_line(lines, r"Thread 'consumer' \(ident %d, daemon\): waiting for Queue 'jobs' "
                         r"created at \S+:\d+ \(get\), %s" % (consumer, for_))
    # Each thread's Python stack, down to where it waits.
    for i, function in [(h, "holder"), (w, "waiter"), (c, "consumer")]:
        block = lines[i + 1:]
        block = block[:next(j for j, line in enumerate(block) if not line.startswith("    "))]
        assert "    Stack (most recent call last):" in block, block
        # (3.13 knows the source of a -c program: a code line may follow)
        last = [line for line in block if line.startswith("      File ")][-1]
        assert re.fullmatch(r'      File "<string>", line \d+, in %s' % function, last), block
    assert lines[-1] == "Deadlocks: none"


def test_dump_of_three_threads_without_names():
    # Primitives without a name are known by where they were created; everything else is as
    # with names.
    out = three_threads(UNNAMED)
    lines = lines_of(out["dump"])
    ids = out["idents"]
    assert lines[0] == "threadkit thread dump: 5 threads"
    find_line(lines, r"Thread 'MainThread' \(ident %d, main, not daemon\): running \(not in a "
                     r"threadkit wait\)" % out["main"])
    h = find_line(lines, r"Thread 'holder' \(ident %d, daemon\): waiting for Event created at "
                         r"\S+:\d+, for \d+\.\d{3} s" % ids["holder"])
    assert re.fullmatch(r"    holds Lock created at \S+:\d+", lines[h + 1]), lines[h + 1]
    find_line(lines, r"Thread 'waiter' \(ident %d, daemon\): waiting for Lock created at \S+:\d+, "
                     r"held by 'holder' \(ident %d\), for \d+\.\d{3} s"
                     % (ids["waiter"], ids["holder"]))
    find_line(lines, r"Thread 'consumer' \(ident %d, daemon\): waiting for Queue created at "
                     r"\S+:\d+ \(get\), for \d+\.\d{3} s" % ids["consumer"])
    # The standard library's threads are there too (the prelude's watchdog, a Timer).
    find_line(lines, r"Thread 'watchdog' \(ident \d+, daemon\): running \(not in a threadkit "
                     r"wait\)")
    assert re.search(r'^      File "<string>", line \d+, in holder$', out["dump"], re.M)
    assert lines[-1] == "Deadlocks: none"


def test_snapshot_is_plain_data():
    out = three_threads(UNNAMED)
    snap = out["snapshot"]  # it went through json.dumps in the program
    threads = {t["name"]: t for t in snap["threads"]}
    assert set(threads) == {"MainThread", "holder", "waiter", "consumer", "watchdog"}
    assert snap["deadlocks"] == []
    main = threads["MainThread"]
    assert (main["main"], main["daemon"], main["state"], main["waiting"]) == (
        True, False, "running", None)
    waiter = threads["waiter"]
    assert waiter["state"] == "waiting" and waiter["daemon"] is True
    w = waiter["waiting"]
    assert (w["kind"], w["primitive"], w["operation"], w["name"]) == ("Lock", "Lock", None, None)
    assert (w["held_by"], w["held_by_names"]) == ([out["idents"]["holder"]], ["holder"])
    assert (w["timed"], w["reacquire"]) == (False, False)
    assert w["waited"] >= 0 and re.fullmatch(r"\S+:\d+", w["site"])
    holder = threads["holder"]
    assert holder["waiting"]["kind"] == "Event"
    assert [(h["kind"], h["acquired_at"]) for h in holder["holds"]] == [("Lock", None)]
    assert threads["consumer"]["waiting"]["kind"] == "Queue.get"
    assert threads["consumer"]["waiting"]["operation"] == "get"
    frame = holder["stack"][-1]
    assert (frame["file"], frame["function"]) == ("<string>", "holder")
    assert frame["code"] in ("", "release.wait()")  # 3.13 knows the source of a -c program
    assert threads["watchdog"]["state"] == "running"


def test_snapshot_and_dump_in_process():
    snap = threadkit.snapshot()
    json.dumps(snap)
    me = [t for t in snap["threads"] if t["ident"] == threadkit.threading.get_ident()]
    assert len(me) == 1 and me[0]["state"] == "running"
    # The calling thread's stack ends in the caller, not in threadkit.debug.
    assert me[0]["stack"][-1]["function"] == "test_snapshot_and_dump_in_process"


def test_dump_shows_the_deadlocks_there_are():
    r = run_program(TWO_RLOCKS + dedent("""
        t1.start(); t2.start()
        wait_until(lambda: waiting("first") and waiting("second"), "both wait")
        threadkit.dump()
        print(len(threadkit.snapshot()["deadlocks"]), flush=True)
        os._exit(0)
    """), "ignore")
    assert r.returncode == 0 and r.stdout == "1\n", (r.stdout, r.stderr)
    dump = r.stderr
    assert "\nDeadlocks: 1\n\nDeadlock found: 2 threads wait for each other.\n" in dump, dump
    # (which of the two threads the cycle line starts with is the snapshot's choice)
    assert re.search(r"\nCycle: '(first|second)' -> RLock created at \S+ -> '(second|first)' -> "
                     r"RLock created at \S+ -> '\1'\n$", dump), dump
    # In the threads' section: who waits for what, held by whom, and what each holds.
    assert re.search(r"^Thread 'first' \(ident \d+, daemon\): waiting for RLock created at \S+, "
                     r"held by 'second' \(ident \d+\), for", dump, re.M), dump
    assert re.search(r"^Thread 'second' .*\n    holds RLock created at ", dump, re.M), dump


def test_dump_on_signal_while_the_main_thread_is_blocked():
    r = run_program("""
        import signal
        dumped = io.StringIO()
        previous = threadkit.dump_on_signal(signal.SIGUSR1, file=dumped)
        print(previous == signal.SIG_DFL, flush=True)
        go = threading.Event()
        def poke():
            wait_until(lambda: waiting("MainThread"), "the main thread waits")
            os.kill(os.getpid(), signal.SIGUSR1)
            wait_until(lambda: dumped.getvalue(), "the dump is written")
            go.set()
        std_threading.Thread(target=poke, name="poker", daemon=True).start()
        go.wait()  # no timeout: the handler runs while this waits
        print(dumped.getvalue(), flush=True)
    """, "report")
    assert r.returncode == 0 and r.stderr == "", (r.stdout, r.stderr)
    first, dump = r.stdout.split("\n", 1)
    assert first == "True"
    assert re.search(r"^Thread 'MainThread' \(ident \d+, main, not daemon\): waiting for Event "
                     r"created at \S+, for \d+\.\d{3} s$", dump, re.M), dump
    # The main thread's stack ends where it waits, not in the handler.
    main = dump[dump.index("Thread 'MainThread'"):]
    main = main[:main.index("\n\n")]
    last = [line for line in main.splitlines() if line.startswith("      File ")][-1]
    assert last.endswith("in <module>"), main
    assert re.search(r"^Thread 'poker' \(ident \d+, daemon\): running", dump, re.M), dump


def test_dump_on_signal_default_signal_and_file():
    r = run_program("""
        import signal
        threadkit.dump_on_signal()
        os.kill(os.getpid(), signal.SIGUSR1)
        print("after", flush=True)
    """, "report")
    assert r.returncode == 0 and r.stdout == "after\n", (r.stdout, r.stderr)
    assert r.stderr.startswith("threadkit thread dump: 2 threads\n"), r.stderr
    assert "Thread 'MainThread'" in r.stderr and r.stderr.endswith("Deadlocks: none\n")

"""Where a holder acquired a lock (issue 9, point 5; point 6's "locks it holds with where each
was acquired").

Debug mode keeps the stack of a thread's first acquisition of each lock class (and of each new
lock order). A thread's waits publish its list of held locks with those sites, so a deadlock
report says where the holder acquired what the other thread waits for, and a dump lists every
lock a waiting thread (or the dumping thread) holds. With debug mode off nothing is recorded on
the uncontended path, and the report says how to get the site.
"""

import json
import re
from textwrap import dedent

from _helpers_debug import PRELUDE, run_program

# The joiner holds `results` (and `spare`, which nobody waits for) across a join of a worker
# that waits for `results`: a deadlock (an RLock's owner is certain). With `twice`, the joiner
# took both, in the same order, once before at another line.
JOIN = """
results = threading.RLock(name="results")
spare = threading.Lock(name="spare")
out = []

def worker():
    with results:
        out.append("worker got results")

def joiner():
    {twice}
    with spare:
        with results:  # the acquisition the report names
            w.start()
            wait_until(lambda: waiting("worker"), "worker waits for results")
            if {dump}:
                snap = threadkit.snapshot()
                print(json.dumps([t for t in snap["threads"] if t["name"] == "joiner"]), flush=True)
                threadkit.dump()
            try:
                w.join()
            except threadkit.DeadlockError as e:
                out.append(json.dumps([t["acquired_at"] for t in e.report.threads]))

w = threading.Thread(target=worker, name="worker", daemon=True)
j = threading.Thread(target=joiner, name="joiner", daemon=True)
j.start()
if threadkit.get_deadlock_action() == "report":
    stays_blocked(j, w)
j.join()
w.join()
print("\\n".join(out))
"""


def program(twice=False, dump=False):
    code = JOIN.format(twice="with spare, results: pass" if twice else "pass", dump=dump)
    return code


def line_of(code, text):
    """The line of `text` in the program run_program makes of `code`, as Python numbers it."""
    source = PRELUDE + dedent(code)
    for n, line in enumerate(source.splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(text)


def test_report_says_where_the_holder_acquired_the_lock_in_debug_mode():
    code = program()
    at = "<string>:%d" % line_of(code, "# the acquisition the report names")
    r = run_program(code, "report", THREADKIT_DEBUG="1")
    assert r.returncode == 0 and r.stdout.startswith("still blocked"), (r.stdout, r.stderr)
    block = r.stderr.split("\nThread 'worker'")[1]
    assert re.search(r"^    waits for RLock 'results' created at <string>:\d+\n"
                     r"    held by 'joiner' \(ident \d+\)\n"
                     r"    acquired by it at %s\n" % re.escape(at), block, re.M), r.stderr
    # With raise, the report's data carries it too: the joiner waits for a thread (no lock).
    r = run_program(code, "raise", THREADKIT_DEBUG="1")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.splitlines() == [json.dumps([None, at]), "worker got results"], r.stdout


def test_without_debug_mode_the_report_says_how_to_get_the_site():
    r = run_program(program(), "report")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert ("    held by 'joiner'" in r.stderr
            and "\n    where it was acquired is not recorded: debug mode records it "
                "(THREADKIT_DEBUG=1)\n" in r.stderr), r.stderr
    r = run_program(program(), "raise")
    assert r.stdout.splitlines()[0] == json.dumps([None, None]), (r.stdout, r.stderr)


def test_a_holder_that_took_the_lock_before_elsewhere_is_not_given_a_wrong_site():
    # Debug mode keeps a thread's first acquisition of a class and of an order: the second one,
    # the one that holds, is neither, and the report says so rather than naming the first.
    r = run_program(program(twice=True), "report", THREADKIT_DEBUG="1")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "acquired by it at" not in r.stderr, r.stderr
    assert ("\n    where it was acquired is not recorded: its holder had taken locks created "
            "there before (debug mode records the first)\n") in r.stderr, r.stderr


def test_dump_lists_every_lock_held_with_where_it_was_acquired_in_debug_mode():
    code = program(dump=True)
    spare_at = "<string>:%d" % line_of(code, "with spare:")
    results_at = "<string>:%d" % line_of(code, "# the acquisition the report names")
    r = run_program(code, "raise", THREADKIT_DEBUG="1")
    assert r.returncode == 0, (r.stdout, r.stderr)
    [joiner] = json.loads(r.stdout.splitlines()[0])
    # `results` is revealed by the worker's wait, `spare` only by debug mode's list: the
    # dumping thread's own.
    held = sorted((h["name"], h["kind"], h["acquired_at"]) for h in joiner["holds"])
    assert held == [("results", "RLock", results_at), ("spare", "Lock", spare_at)], held
    dump = r.stderr
    assert re.search(r"^    holds RLock 'results' created at <string>:\d+, acquired at %s$"
                     % re.escape(results_at), dump, re.M), dump
    assert re.search(r"^    holds Lock 'spare' created at <string>:\d+, acquired at %s$"
                     % re.escape(spare_at), dump, re.M), dump


def test_a_waiting_thread_publishes_the_locks_it_holds():
    # The holder waits on an Event (nobody waits for its locks): a dump from another thread
    # lists them, from the list its wait published.
    code = """
        a = threading.Lock(name="a")
        go = threading.Event()
        def holder():
            with a:
                go.wait()
        t = threading.Thread(target=holder, name="holder", daemon=True)
        t.start()
        wait_until(lambda: waiting("holder", kind="Event"), "holder waits")
        [h] = [t for t in threadkit.snapshot()["threads"] if t["name"] == "holder"]
        print(json.dumps(h["holds"]))
        go.set()
        t.join()
    """
    at = "<string>:%d" % line_of(code, "with a:")
    r = run_program(code, "raise", THREADKIT_DEBUG="1")
    assert r.returncode == 0 and r.stderr == "", (r.stdout, r.stderr)
    holds = json.loads(r.stdout)
    assert [(h["name"], h["acquired_at"]) for h in holds] == [("a", at)], holds
    # Debug mode off: nobody waits for `a`, so nothing is known.
    r = run_program(code, "raise")
    assert r.returncode == 0 and json.loads(r.stdout) == [], (r.stdout, r.stderr)

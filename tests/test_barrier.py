"""Barrier: behaviour pinned against the standard library (every test with ``threading_mod``
runs on both). Its errors are the standard library's own ``threading.BrokenBarrierError``."""

import re
import sys
import threading
import weakref

import pytest

from _helpers_threading import (
    join_all,
    python_work,
    site_here,
    start_thread,
    timed,
    wait_until,
)
from conftest import outcome

BROKEN = (threading.BrokenBarrierError, "")


def run_parties(n, target, *args):
    threads = [start_thread(target, i, *args) for i in range(n)]
    join_all(threads)


def test_broken_barrier_error_is_the_stdlibs(threading_mod):
    assert threading_mod.BrokenBarrierError is threading.BrokenBarrierError
    assert issubclass(threading_mod.BrokenBarrierError, RuntimeError)
    b = threading_mod.Barrier(2)
    b.abort()
    with pytest.raises(threading.BrokenBarrierError) as info:
        b.wait()
    assert type(info.value) is threading.BrokenBarrierError


# ---------------------------------------------------------------------------------------------
# Construction and properties


def test_constructor_and_properties(threading_mod):
    b = threading_mod.Barrier(3)
    assert b.parties == 3
    assert b.n_waiting == 0
    assert b.broken is False
    b = threading_mod.Barrier(parties=2, action=None, timeout=None)
    assert (b.parties, b.n_waiting, b.broken) == (2, 0, False)
    b = threading_mod.Barrier(1, lambda: None, 5.0)
    assert b.parties == 1


@pytest.mark.parametrize("parties", [0, -1, -100])
def test_parties_must_be_positive(threading_mod, parties):
    # CPython checks this from 3.13 (before, Barrier(0).wait() hangs for ever); threadkit offers
    # the newest behaviour on every version.
    if threading_mod.Barrier is threading.Barrier and sys.version_info < (3, 13):
        pytest.skip("the stdlib checks parties from Python 3.13 (threadkit: still the stdlib's)")
    assert outcome(lambda: threading_mod.Barrier(parties)) == (ValueError, "parties must be > 0")


def test_properties_are_read_only(threading_mod):
    b = threading_mod.Barrier(2)
    for name in ("parties", "n_waiting", "broken"):
        with pytest.raises(AttributeError):
            setattr(b, name, 5)


# name -> (constructor, call)
CALLS = {
    "Barrier(1).wait()": (lambda m: m.Barrier(1), lambda b: b.wait()),
    "Barrier(1).wait(-1)": (lambda m: m.Barrier(1), lambda b: b.wait(-1)),
    "Barrier(1).wait(0)": (lambda m: m.Barrier(1), lambda b: b.wait(0)),
    "Barrier(1).wait(1e100)": (lambda m: m.Barrier(1), lambda b: b.wait(1e100)),
    "Barrier(1, timeout=-1).wait()": (lambda m: m.Barrier(1, timeout=-1), lambda b: b.wait()),
    "Barrier(2).wait(-1)": (lambda m: m.Barrier(2), lambda b: b.wait(-1)),
    "Barrier(2).wait(0)": (lambda m: m.Barrier(2), lambda b: b.wait(0)),
    "Barrier(2).wait(timeout=-0.5)": (lambda m: m.Barrier(2), lambda b: b.wait(timeout=-0.5)),
    "Barrier(2).wait(1e100)": (lambda m: m.Barrier(2), lambda b: b.wait(1e100)),
    "Barrier(2).wait(TIMEOUT_MAX*2)": (lambda m: m.Barrier(2), lambda b: b.wait(threading.TIMEOUT_MAX * 2)),
    "Barrier(2, timeout=0).wait()": (lambda m: m.Barrier(2, timeout=0), lambda b: b.wait()),
    "Barrier(2, timeout=-1).wait()": (lambda m: m.Barrier(2, timeout=-1), lambda b: b.wait()),
    "Barrier(2, timeout=0).wait(0)": (lambda m: m.Barrier(2, timeout=0), lambda b: b.wait(0)),
    "Barrier(1, action=5).wait()": (lambda m: m.Barrier(1, action=5), lambda b: b.wait()),
    "Barrier(1, action=1/0).wait()": (lambda m: m.Barrier(1, action=lambda: 1 / 0), lambda b: b.wait()),
    "Barrier(2).abort()": (lambda m: m.Barrier(2), lambda b: b.abort()),
    "Barrier(2).reset()": (lambda m: m.Barrier(2), lambda b: b.reset()),
    "aborted wait()": (lambda m: _aborted(m.Barrier(2)), lambda b: b.wait()),
    "aborted wait(0)": (lambda m: _aborted(m.Barrier(2)), lambda b: b.wait(0)),
    "aborted Barrier(1).wait()": (lambda m: _aborted(m.Barrier(1)), lambda b: b.wait()),
    "aborted abort()": (lambda m: _aborted(m.Barrier(2)), lambda b: b.abort()),
    "aborted reset()": (lambda m: _aborted(m.Barrier(2)), lambda b: b.reset()),
}


def _aborted(b):
    b.abort()
    return b


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_and_errors_match_stdlib(threading_mod, name):
    make, call = CALLS[name]

    def run(mod):
        b = make(mod)
        return outcome(lambda: call(b)), b.broken, b.n_waiting

    assert run(threading_mod) == run(threading)


def test_single_party_barrier_never_blocks(threading_mod):
    runs = []
    b = threading_mod.Barrier(1, action=lambda: runs.append(1))
    assert [b.wait() for _ in range(5)] == [0] * 5
    assert runs == [1] * 5
    assert (b.n_waiting, b.broken) == (0, False)


def test_repr(threading_mod):
    # threadkit's shows the name or creation site after the address (issue 9).
    b, site = threading_mod.Barrier(3), site_here(threading_mod)
    at = r"<\w+\.Barrier at 0x[0-9a-f]+%s: " % re.escape(site and " " + site)
    assert re.fullmatch(at + "waiters=0/3>", repr(b)), repr(b)
    assert hex(id(b)) in repr(b)
    threads = [start_thread(lambda: outcome(b.wait)) for _ in range(2)]
    wait_until(lambda: b.n_waiting == 2, message="two waiters")
    assert re.fullmatch(at + "waiters=2/3>", repr(b)), repr(b)
    b.abort()
    join_all(threads)
    assert re.fullmatch(at + "broken>", repr(b)), repr(b)


def test_weakref(threading_mod):
    b = threading_mod.Barrier(2)
    ref = weakref.ref(b)
    assert ref() is b
    del b
    assert ref() is None


# ---------------------------------------------------------------------------------------------
# Rounds


def test_n_waiting_counts_arrivals(threading_mod):
    b = threading_mod.Barrier(4)
    results = []
    threads = []
    for k in range(1, 4):
        threads.append(start_thread(lambda: results.append(b.wait(30))))
        wait_until(lambda: b.n_waiting == k, message=f"{k} waiters")
        assert b.broken is False
    assert b.wait(30) == 3  # the last to arrive gets parties - 1
    join_all(threads)
    assert sorted(results) == [0, 1, 2]
    assert b.n_waiting == 0
    assert b.broken is False


def test_indices_are_a_permutation_each_round_and_action_runs_once(threading_mod):
    parties, rounds = 5, 30
    guard = threading.Lock()
    arrived = [0] * rounds
    returned = [0] * rounds
    actions = []  # (round, thread ident, arrived in that round, returned in that round)
    idents = set()

    def action():
        k = len(actions)
        with guard:
            actions.append((k, threading.get_ident(), arrived[k], returned[k]))

    b = threading_mod.Barrier(parties, action=action)
    indices = [[None] * rounds for _ in range(parties)]

    def party(i):
        idents.add(threading.get_ident())
        for k in range(rounds):
            with guard:
                arrived[k] += 1
            indices[i][k] = b.wait(30)
            with guard:
                returned[k] += 1

    run_parties(parties, party)
    for k in range(rounds):
        assert sorted(indices[i][k] for i in range(parties)) == list(range(parties))
    assert len(actions) == rounds
    for k, (round_, ident, arrived_then, returned_then) in enumerate(actions):
        assert round_ == k
        assert ident in idents  # run by one of the parties
        assert arrived_then == parties  # after every party arrived
        assert returned_then == 0  # before any was released
    assert (b.n_waiting, b.broken) == (0, False)


def test_action_that_raises_breaks_the_barrier(threading_mod):
    parties = 4
    fail = [True]

    def action():
        if fail[0]:
            raise ZeroDivisionError("boom")

    b = threading_mod.Barrier(parties, action=action)
    results = []
    run_parties(parties, lambda i: results.append(outcome(lambda: b.wait(30))))
    # The thread that ran the action gets its exception; every other one BrokenBarrierError.
    assert sorted(results, key=repr).count((ZeroDivisionError, "boom")) == 1
    assert results.count(BROKEN) == parties - 1
    assert b.broken is True
    assert b.n_waiting == 0
    assert outcome(b.wait) == BROKEN
    # reset() makes it usable again.
    fail[0] = False
    assert b.reset() is None
    assert b.broken is False
    results.clear()
    run_parties(parties, lambda i: results.append(b.wait(30)))
    assert sorted(results) == list(range(parties))


def test_abort_breaks_waiters_and_later_calls(threading_mod):
    b = threading_mod.Barrier(4)
    results = []
    threads = [start_thread(lambda: results.append(outcome(lambda: b.wait(30)))) for _ in range(3)]
    wait_until(lambda: b.n_waiting == 3, message="three waiters")
    assert b.abort() is None
    join_all(threads)
    assert results == [BROKEN] * 3
    assert b.broken is True
    assert b.n_waiting == 0
    got, elapsed = timed(lambda: outcome(b.wait))
    assert got == BROKEN and elapsed < 5
    assert outcome(lambda: b.wait(0.01)) == BROKEN
    b.abort()  # again: no error
    assert b.broken is True
    b.reset()
    assert b.broken is False
    results.clear()
    run_parties(4, lambda i: results.append(b.wait(30)))
    assert sorted(results) == [0, 1, 2, 3]


def test_reset_breaks_current_waiters_but_not_the_barrier(threading_mod):
    b = threading_mod.Barrier(3)
    results = []
    threads = [start_thread(lambda: results.append(outcome(lambda: b.wait(30)))) for _ in range(2)]
    wait_until(lambda: b.n_waiting == 2, message="two waiters")
    assert b.reset() is None
    join_all(threads)
    assert results == [BROKEN] * 2
    assert b.broken is False
    assert b.n_waiting == 0
    results.clear()
    run_parties(3, lambda i: results.append(b.wait(30)))
    assert sorted(results) == [0, 1, 2]


def test_timeout_breaks_the_barrier(threading_mod):
    b = threading_mod.Barrier(3)
    other = []
    t = start_thread(lambda: other.append(outcome(lambda: b.wait(30))))
    wait_until(lambda: b.n_waiting == 1, message="one waiter")
    got, elapsed = timed(lambda: outcome(lambda: b.wait(0.1)))
    assert got == BROKEN
    assert 0.08 <= elapsed < 5
    join_all([t])
    assert other == [BROKEN]  # the waiter without a short timeout is broken out too
    assert b.broken is True
    assert b.n_waiting == 0


def test_default_timeout_applies_and_a_call_timeout_overrides_it(threading_mod):
    b = threading_mod.Barrier(2, timeout=0.1)
    got, elapsed = timed(lambda: outcome(b.wait))
    assert got == BROKEN and 0.08 <= elapsed < 5
    b = threading_mod.Barrier(2, timeout=0.1)
    got, elapsed = timed(lambda: outcome(lambda: b.wait(None)))
    assert got == BROKEN and 0.08 <= elapsed < 5
    b = threading_mod.Barrier(2, timeout=30)
    got, elapsed = timed(lambda: outcome(lambda: b.wait(0.05)))
    assert got == BROKEN and 0.04 <= elapsed < 5
    # A default timeout does not limit a round that completes.
    b = threading_mod.Barrier(2, timeout=30)
    results = []
    run_parties(2, lambda i: results.append(b.wait()))
    assert sorted(results) == [0, 1]


def test_overflowing_timeout_leaves_the_barrier_intact(threading_mod):
    b = threading_mod.Barrier(2)
    assert outcome(lambda: b.wait(1e100)) == (
        OverflowError,
        "timestamp out of range for platform time_t",
    )
    assert (b.broken, b.n_waiting) == (False, 0)
    results = []
    run_parties(2, lambda i: results.append(b.wait(30)))
    assert sorted(results) == [0, 1]


# ---------------------------------------------------------------------------------------------
# GIL and stress


def test_blocked_wait_releases_the_gil(threading_mod):
    b = threading_mod.Barrier(2)
    progress = []

    def other():
        for _ in range(20):
            progress.append(python_work(5_000))
        b.wait(30)

    t = start_thread(other)
    assert b.wait(30) in (0, 1)
    assert len(progress) == 20
    join_all([t])


def test_many_rounds_stress(threading_mod):
    parties, rounds = 8, 1000
    per_round = []
    guard = threading.Lock()
    b = threading_mod.Barrier(parties, action=lambda: per_round.append(0))
    indices = [[] for _ in range(parties)]

    def party(i):
        for _ in range(rounds):
            idx = b.wait(30)
            indices[i].append(idx)
            with guard:
                per_round[-1] += 1

    run_parties(parties, party)
    assert len(per_round) == rounds
    for k in range(rounds):
        assert sorted(indices[i][k] for i in range(parties)) == list(range(parties))
    assert (b.n_waiting, b.broken) == (0, False)


def test_abort_under_load_releases_everyone(threading_mod):
    # Threads loop on the barrier until it breaks; an abort at any moment must release all of
    # them with BrokenBarrierError, none stuck.
    parties = 8
    b = threading_mod.Barrier(parties)
    rounds_done = [0] * parties
    ends = []

    def party(i):
        while True:
            try:
                b.wait(30)
            except threading.BrokenBarrierError:
                ends.append(i)
                return
            rounds_done[i] += 1

    threads = [start_thread(party, i) for i in range(parties)]
    wait_until(lambda: min(rounds_done) >= 50, message="50 rounds")
    b.abort()
    join_all(threads)
    assert sorted(ends) == list(range(parties))
    assert max(rounds_done) - min(rounds_done) <= 1
    assert b.broken is True

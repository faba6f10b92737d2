"""threadkit.futures under load: many submitters, many tasks, cancellations and waiters racing
completions. Invariants: nothing is lost, every task runs at most once (exactly once unless its
future was cancelled), every future completes exactly once and its callbacks run exactly once.
Each test runs on the standard library's pool too, so it states CPython's behaviour."""

import collections
import concurrent.futures as cf
import random
import threading

import pytest

import threadkit.futures as tf
from _helpers_threading import JOIN_TIMEOUT, join_all, start_thread

T = JOIN_TIMEOUT


@pytest.fixture(params=["stdlib", "threadkit"])
def futures_mod(request):
    return cf if request.param == "stdlib" else tf


class Tally:
    """Counts, per key, how often something happened (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()

    def add(self, key):
        with self.lock:
            self.counts[key] += 1


def test_many_submitters_nothing_lost(futures_mod):
    submitters, per = 8, 2500
    ran, called_back = Tally(), Tally()
    futures = {}
    lock = threading.Lock()
    go = threading.Barrier(submitters)

    def task(key):
        ran.add(key)
        return key

    with futures_mod.ThreadPoolExecutor(6) as ex:
        def submit(s):
            go.wait(T)
            mine = {}
            for i in range(per):
                key = (s, i)
                f = ex.submit(task, key)
                f.add_done_callback(lambda f, key=key: called_back.add(key))
                mine[key] = f
            with lock:
                futures.update(mine)

        join_all([start_thread(submit, s) for s in range(submitters)])
    keys = [(s, i) for s in range(submitters) for i in range(per)]
    assert len(futures) == len(keys)
    assert all(futures[k].result(0) == k for k in keys)
    assert ran.counts == collections.Counter(keys)
    assert called_back.counts == collections.Counter(keys)


def test_cancel_racing_start(futures_mod):
    total = 6000
    ran, called_back = Tally(), Tally()
    ex = futures_mod.ThreadPoolExecutor(4)
    futures = [None] * total
    submitted = threading.Event()

    def submit(part):
        for i in range(part, total, 2):
            f = ex.submit(ran.add, i)
            f.add_done_callback(lambda f, i=i: called_back.add(i))
            futures[i] = f

    def cancel(seed):
        submitted.wait(T)
        rng = random.Random(seed)
        order = list(range(total))
        rng.shuffle(order)
        for i in order[: total // 2]:
            futures[i].cancel()

    cancellers = [start_thread(cancel, s) for s in range(4)]
    join_all([start_thread(submit, p) for p in range(2)])
    submitted.set()
    join_all(cancellers)
    ex.shutdown(wait=True)
    n_cancelled = 0
    for i, f in enumerate(futures):
        assert f.done()
        if f.cancelled():
            n_cancelled += 1
            assert ran.counts[i] == 0
            with pytest.raises(cf.CancelledError):
                f.result(0)
        else:
            assert ran.counts[i] == 1 and f.result(0) is None
        assert called_back.counts[i] == 1
    assert n_cancelled + sum(ran.counts.values()) == total


@pytest.mark.parametrize("wait_mod", [cf, tf], ids=["cf.wait", "tf.wait"])
def test_waiters_racing_completions(futures_mod, wait_mod):
    rounds = 30
    with futures_mod.ThreadPoolExecutor(4) as ex:
        for _ in range(rounds):
            release = threading.Event()
            fs = [ex.submit(release.wait, T) for _ in range(40)]
            fs += [ex.submit(pow, 2, i) for i in range(40)]
            results = []

            def waiter(kind, seed):
                mine = random.Random(seed).sample(fs, 30)
                if kind == 0:
                    done, not_done = wait_mod.wait(mine, timeout=T)
                    results.append(len(done) == 30 and not not_done)
                elif kind == 1:
                    seen = list(wait_mod.as_completed(mine, timeout=T))
                    results.append(len(seen) == len(set(seen)) == 30)
                else:
                    done, _ = wait_mod.wait(mine, timeout=T, return_when=cf.FIRST_COMPLETED)
                    results.append(len(done) >= 1)

            threads = [start_thread(waiter, k % 3, k) for k in range(9)]
            release.set()
            join_all(threads)
            assert results == [True] * 9
            assert all(f._waiters == [] for f in fs)


def test_many_threads_blocked_in_result(futures_mod):
    with futures_mod.ThreadPoolExecutor(2) as ex:
        release = threading.Event()
        f = ex.submit(lambda: release.wait(T) and "x")
        got = []
        threads = [start_thread(lambda: got.append(f.result(T))) for _ in range(16)]
        release.set()
        join_all(threads)
    assert got == ["x"] * 16


def test_racing_set_result_exactly_one_wins(futures_mod):
    for _ in range(200):
        f = futures_mod.Future()
        calls = []
        f.add_done_callback(calls.append)
        wins, losses = Tally(), Tally()
        go = threading.Barrier(8)

        def setter(i):
            go.wait(T)
            try:
                if i % 2:
                    f.set_result(i)
                else:
                    f.set_exception(KeyError(i))
                wins.add("win")
            except cf.InvalidStateError:
                losses.add("loss")

        join_all([start_thread(setter, i) for i in range(8)])
        assert wins.counts["win"] == 1 and losses.counts["loss"] == 7
        assert calls == [f]


@pytest.mark.parametrize("wait_mod", [cf, tf], ids=["cf.wait", "tf.wait"])
def test_cancel_racing_wait_notification(futures_mod, wait_mod):
    # A waiter installed by wait() must hear of a cancellation acknowledged by a worker.
    with futures_mod.ThreadPoolExecutor(1) as ex:
        for _ in range(100):
            release = threading.Event()
            blocker = ex.submit(release.wait, T)
            victims = [ex.submit(int) for _ in range(5)]
            for v in victims[::2]:
                v.cancel()
            t = start_thread(release.set)
            done, not_done = wait_mod.wait(victims + [blocker], timeout=T)
            join_all([t])
            assert not not_done
            assert [v.cancelled() for v in victims] == [True, False, True, False, True]

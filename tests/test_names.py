"""Names and creation sites (issue 9, point 1): every primitive takes a keyword-only ``name``,
records the Python line that created it (the user's line, also when a threadkit wrapper in
``queue.py`` or ``threading.py`` made it), and shows the name or the site in its repr, in the
shapes CPython's ``test.lock_tests`` match."""

import os
import queue
import re
import sys
import threading

import pytest

import threadkit
import threadkit.queue as tkq
import threadkit.threading as tk
from conftest import outcome


def here():
    """``file:line`` of the caller's line: ``obj, site = make(), here()``."""
    caller = sys._getframe(1)
    return f"{caller.f_code.co_filename}:{caller.f_lineno}"


class HookedQueue(tkq.Queue):
    """A Queue subclass with its own storage hooks: it runs the Python-level algorithm."""

    def _init(self, maxsize):
        self.queue = []

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        self.queue.append(item)

    def _get(self):
        return self.queue.pop(0)


class HookedWithInit(HookedQueue):
    """A hooked subclass whose own ``__init__`` calls the base's."""

    def __init__(self, maxsize=0, *, name=None):
        super().__init__(maxsize, name=name)


class PlainSubclass(tkq.Queue):
    pass


class OwnBarrier(tk.Barrier):
    pass


# name -> (constructor, extra positional arguments it needs)
PRIMITIVES = {
    "Lock": (threadkit.Lock, ()),
    "RLock": (threadkit.RLock, ()),
    "Condition": (threadkit.Condition, ()),
    "Condition over a Lock": (threadkit.Condition, (threadkit.Lock(),)),
    "Condition over a stdlib lock": (threadkit.Condition, (threading.Lock(),)),
    "Semaphore": (threadkit.Semaphore, ()),
    "BoundedSemaphore": (threadkit.BoundedSemaphore, (2,)),
    "Event": (threadkit.Event, ()),
    "Barrier": (threadkit.Barrier, (2,)),
    "Barrier subclass": (OwnBarrier, (2,)),
    "Queue": (tkq.Queue, ()),
    "LifoQueue": (tkq.LifoQueue, (3,)),
    "PriorityQueue": (tkq.PriorityQueue, ()),
    "SimpleQueue": (tkq.SimpleQueue, ()),
    "Queue subclass": (PlainSubclass, ()),
    "hooked Queue subclass": (HookedQueue, ()),
    "hooked subclass with its own __init__": (HookedWithInit, ()),
}

primitives = pytest.mark.parametrize("kind", PRIMITIVES)


def make(kind, **kwargs):
    cls, args = PRIMITIVES[kind]
    return cls(*args, **kwargs)


@primitives
def test_the_site_is_the_users_line(kind):
    cls, args = PRIMITIVES[kind]
    obj, site = cls(*args), here()
    label = obj._label
    assert label.name is None
    assert label.site == site
    assert "%s:%d" % (label.file, label.line) == site
    assert "site=%r" % site in repr(obj)
    assert "name=" not in repr(obj)


@primitives
def test_a_name_is_shown_instead_of_the_site(kind):
    obj = make(kind, name="inventory")
    assert obj._label.name == "inventory"
    assert obj._label.site.startswith(__file__ + ":")
    assert "name='inventory'" in repr(obj)
    if not kind.startswith("Condition"):  # its lock's repr shows the lock's own label
        assert "site=" not in repr(obj)


@primitives
def test_a_name_that_is_not_a_str_is_a_type_error(kind):
    cls, args = PRIMITIVES[kind]
    for bad in (5, b"bytes", ["x"]):
        with pytest.raises(TypeError) as e:
            cls(*args, name=bad)
        owner = cls.__name__
        assert str(e.value) == "%s() argument 'name' must be str or None, not %s" % (
            owner,
            type(bad).__name__,
        )
    assert make(kind, name=None)._label.name is None


def test_a_str_subclass_names_too():
    class S(str):
        pass

    assert threadkit.Lock(name=S("log"))._label.name == "log"


# Positional arguments keep the standard library's behaviour: `name` is keyword-only.
@pytest.mark.parametrize(
    "call",
    [
        lambda m, q: m.Lock("x"),
        lambda m, q: m.Lock(None),
        lambda m, q: m.Lock(a=1),
        lambda m, q: m.Lock(nam="x"),
        lambda m, q: m.RLock("x"),
        lambda m, q: m.Condition(None, "x"),
        lambda m, q: m.Semaphore(1, "x"),
        lambda m, q: m.BoundedSemaphore(1, "x"),
        lambda m, q: m.Event("x"),
        lambda m, q: m.Barrier(2, None, None, "x"),
        lambda m, q: q.Queue(0, "x"),
        lambda m, q: q.LifoQueue(0, "x"),
        lambda m, q: q.PriorityQueue(0, "x"),
        lambda m, q: q.SimpleQueue("x"),
        lambda m, q: q.SimpleQueue(a=1),
    ],
)
def test_positional_arguments_behave_as_the_standard_librarys(call):
    std_kind, _ = outcome(lambda: call(threading, queue))
    tk_kind, _ = outcome(lambda: call(tk, tkq))
    if std_kind == "returned":
        assert tk_kind == "returned"
        assert call(tk, tkq)._label.name is None
    else:
        assert std_kind is tk_kind is TypeError


def test_lock_keeps_the_standard_librarys_messages_for_other_arguments():
    # CPython 3.13's, on every version (tests/test_lock.py compares them with the stdlib's).
    assert outcome(lambda: threadkit.Lock(1)) == (TypeError, "Lock expected 0 arguments, got 1")
    assert outcome(lambda: threadkit.Lock(a=1)) == (TypeError, "Lock() takes no keyword arguments")
    assert outcome(lambda: threadkit.Lock(1, name="x")) == (
        TypeError,
        "Lock expected 0 arguments, got 1",
    )
    assert outcome(lambda: threadkit.Lock(name="x", a=1)) == (
        TypeError,
        "Lock() takes no keyword arguments",
    )
    assert outcome(lambda: tkq.SimpleQueue(a=1)) == (
        TypeError,
        "SimpleQueue() takes no keyword arguments",
    )


def test_a_subclass_may_mean_something_else_by_name():
    # A Queue or Barrier subclass whose own `name` parameter is not a str still constructs.
    class Tagged(tkq.Queue):
        def __init__(self, maxsize=0, name=None):
            super().__init__(maxsize)
            self.name = name

    q = Tagged(name=42)
    assert q.name == 42
    assert q._label.name is None

    class Phase(tk.Barrier):
        def __init__(self, parties, name):
            super().__init__(parties)
            self.name = name

    assert Phase(2, name=("a", 1))._label.name is None


# ---------------------------------------------------------------------------------------------
# The user's line, through threadkit's own Python frames


class HookedPriority(tkq.PriorityQueue):
    def _put(self, item):
        super()._put(item)


def test_a_priority_queue_carries_its_label():
    q, site = tkq.PriorityQueue(), here()
    assert q._label.site == site
    assert q._label.name is None
    named = tkq.PriorityQueue(3, name="jobs")
    assert named._label.name == "jobs"
    assert "name='jobs'" in repr(named)


def test_a_hooked_priority_queues_lock_and_conditions_carry_its_label():
    # A subclass that overrides a storage hook runs the Python algorithm over a Lock and
    # Conditions: they carry the queue's label.
    q, site = HookedPriority(), here()
    assert q._label.site == site
    for part in (q.mutex, q.not_empty, q.not_full, q.all_tasks_done):
        assert part._label.site == site
        assert part._label.name is None
    named = HookedPriority(3, name="jobs")
    for part in (named, named.mutex, named.not_empty, named.not_full, named.all_tasks_done):
        assert part._label.name == "jobs"
    assert "name='jobs'" in repr(named.mutex)


def test_a_hooked_subclass_with_its_own_init_labels_its_lock_with_the_users_line():
    q, site = HookedWithInit(name="work"), here()
    assert q._label.site == site
    assert q.mutex._label.site == site
    assert q.mutex._label.name == "work"
    hooked_lifo = type("HookedLifo", (tkq.LifoQueue,), {"_qsize": lambda self: len(self.queue)})
    lifo, site = hooked_lifo(), here()
    assert lifo.mutex._label.site == site


def test_a_condition_labels_its_own_rlock():
    c, site = threadkit.Condition(name="ready"), here()
    assert c._lock._label.name == "ready"
    assert c._lock._label.site == c._label.site == site
    given = threadkit.RLock(name="given")
    assert threadkit.Condition(given)._lock._label.name == "given"


def test_a_timers_event_has_the_users_line():
    t, site = threadkit.Timer(60, print), here()
    assert t.finished._label.site == site


def _waits_of(names, timeout=30):
    """The snapshot's waits of the threads called ``names``, once all of them wait."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waits = {t["name"]: t["waiting"] for t in threadkit.snapshot()["threads"]
                 if t["name"] in names and t["waiting"] is not None}
        if len(waits) == len(names):
            return waits
        time.sleep(0.001)
    raise AssertionError(f"{names} never all waited")


def test_a_thread_and_a_pools_future_have_the_users_line():
    from threadkit.futures import ThreadPoolExecutor

    release = threadkit.Event()
    ex = ThreadPoolExecutor(1)
    try:
        worker, thread_site = threadkit.Thread(target=release.wait, name="sleeper"), here()
        worker.start()
        future, future_site = ex.submit(release.wait), here()
        joiner = threadkit.Thread(target=worker.join, name="joiner")
        waiter = threadkit.Thread(target=future.result, name="waiter")
        joiner.start()
        waiter.start()
        waits = _waits_of({"joiner", "waiter"})
        assert waits["joiner"]["kind"] == "Thread.join"
        assert waits["joiner"]["site"] == thread_site
        assert waits["waiter"]["kind"] == "Future.result"
        assert waits["waiter"]["site"] == future_site
    finally:
        release.set()
        ex.shutdown()
    for t in (worker, joiner, waiter):
        t.join(30)


def test_a_primitive_made_in_a_function_has_the_functions_line():
    def make_lock():
        return threadkit.Lock(), here()

    lock, site = make_lock()
    assert lock._label.site == site


def test_far_into_a_long_function_the_line_is_right():
    # Past instruction offset 256 (ints no longer cached), and past many line-table entries.
    total = 0
    for i in range(3):
        total += i * 2 + 1
        total -= i
        total *= 1
        total += len(str(total)) + len(repr(total)) + len([total]) + len((total,))
        total -= len(str(total)) + len(repr(total)) + len([total]) + len((total,))
    values = [total, total + 1, total + 2, total + 3, total + 4, total + 5, total + 6]
    values = [v * 2 for v in values] + [v * 3 for v in values] + [v * 4 for v in values]
    values = sorted(set(values)) + sorted(set(values)) + sorted(set(values))
    assert values
    first, first_site = threadkit.Lock(), here()
    second, second_site = threadkit.Lock(), here()
    assert (first._label.site, second._label.site) == (first_site, second_site)


def test_one_line_repeated_and_two_lines():
    locks, site = [threadkit.Lock() for _ in range(100)], here()
    assert {lock._label.site for lock in locks} == {site}
    a, b, site = threadkit.Lock(), threadkit.Event(), here()
    assert a._label.site == b._label.site == site


def test_exec_and_lambda_sites():
    ns = {"threadkit": threadkit}
    exec("\n\nlock = threadkit.Lock()", ns)
    assert ns["lock"]._label.site == "<string>:3"
    make, site = (lambda: threadkit.Semaphore()), here()  # noqa: E731
    assert make()._label.site == site


def test_module_level_primitives_of_a_module_have_its_lines(tmp_path, monkeypatch):
    (tmp_path / "names_helper_mod.py").write_text(
        "import threadkit\n\nLOCK = threadkit.Lock()\nQ = threadkit.PriorityQueue()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import names_helper_mod as mod

    path = str(tmp_path / "names_helper_mod.py")
    assert mod.LOCK._label.site == path + ":3"
    assert mod.Q._label.site == path + ":4"


def test_sites_from_many_threads_at_once():
    results = {}
    start = threading.Barrier(8)
    expected = set()

    def worker(i):
        start.wait()
        got = set()
        for _ in range(2000):
            lock, lock_site = threadkit.Lock(), here()
            event, event_site = threadkit.Event(), here()
            got.update((lock._label.site, event._label.site))
            expected.update((lock_site, event_site))
        results[i] = got

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(expected) == 2
    assert all(got == expected for got in results.values()), results


def test_frames_of_threadkit_are_skipped_up_to_the_import_system():
    # Code whose file is in the threadkit package is skipped for the first frame further out;
    # if that is the import system's, a threadkit module is being imported: its line is kept.
    fake = os.path.join(os.path.dirname(threadkit.__file__), "fake_module.py")
    ns = {"threadkit": threadkit}
    inner = compile("\nLOCK = threadkit.Lock()\n", fake, "exec")
    _, site = exec(inner, ns), here()
    assert ns["LOCK"]._label.site == site
    importer = compile("exec(inner, ns)", "<frozen importlib._bootstrap>", "exec")
    exec(importer, {"inner": inner, "ns": ns})
    assert ns["LOCK"]._label.site == fake + ":2"


# ---------------------------------------------------------------------------------------------
# Reprs


ADDRESS = r"0x[0-9a-f]+"


def test_lock_repr():
    lock, site = threadkit.Lock(), repr(here())
    assert re.fullmatch(r"<unlocked threadkit.Lock object site=%s at %s>" % (re.escape(site), ADDRESS),
                        repr(lock))
    named = threadkit.Lock(name="inventory")
    assert re.fullmatch(r"<unlocked threadkit.Lock object name='inventory' at %s>" % ADDRESS,
                        repr(named))
    acquired = threading.Event()
    let_go = threading.Event()

    def restock():
        named.acquire()
        acquired.set()
        let_go.wait(30)
        named.release()

    t = threading.Thread(target=restock, name="Thread-1 (restock)")
    t.start()
    try:
        assert acquired.wait(30)
        assert re.fullmatch(
            r"<locked threadkit.Lock object name='inventory' owner='Thread-1 \(restock\)' at %s>"
            % ADDRESS,
            repr(named),
        )
    finally:
        let_go.set()
        t.join()


def test_lock_repr_when_the_owner_is_gone():
    # A plain Lock acquired by a thread that ended (the hand-off idiom): its ident is shown.
    lock = threadkit.Lock(name="handed")
    t = threading.Thread(target=lock.acquire)
    t.start()
    t.join()
    assert re.fullmatch(r"<locked threadkit.Lock object name='handed' owner=%d at %s>"
                        % (t.ident, ADDRESS), repr(lock))
    lock.release()


def test_rlock_repr():
    r = threadkit.RLock(name="cache")
    assert re.fullmatch(r"<unlocked threadkit.RLock object name='cache' owner=0 count=0 at %s>"
                        % ADDRESS, repr(r))
    with r, r:
        assert re.fullmatch(
            r"<locked threadkit.RLock object name='cache' owner='MainThread' count=2 at %s>"
            % ADDRESS,
            repr(r),
        )


def test_names_are_quoted_as_python_quotes_them():
    assert "name=\"it's\"" in repr(threadkit.Lock(name="it's"))
    assert "name='a\\nb'" in repr(threadkit.Event(name="a\nb"))


def test_other_reprs():
    cases = [
        (threadkit.Semaphore(2, name="s"), r"<threadkit.Semaphore at %s name='s': value=2>"),
        (threadkit.BoundedSemaphore(3, name="b"),
         r"<threadkit.BoundedSemaphore at %s name='b': value=3/3>"),
        (threadkit.Event(name="e"), r"<threadkit.Event at %s name='e': unset>"),
        (threadkit.Barrier(3, name="b"), r"<threadkit.Barrier at %s name='b': waiters=0/3>"),
        (tkq.Queue(name="q"), r"<threadkit.queue.Queue object name='q' at %s>"),
        (tkq.LifoQueue(name="q"), r"<threadkit.queue.LifoQueue object name='q' at %s>"),
        (tkq.PriorityQueue(name="q"), r"<threadkit.queue.PriorityQueue object name='q' at %s>"),
        (tkq.SimpleQueue(name="q"), r"<threadkit.queue.SimpleQueue object name='q' at %s>"),
    ]
    for obj, pattern in cases:
        assert re.fullmatch(pattern % ADDRESS, repr(obj)), repr(obj)
    c = threadkit.Condition(name="c")
    assert repr(c) == "<Condition(%r, 0) name='c'>" % c._lock
    assert repr(threadkit.Lock(name="x")._label) == "<threadkit._core.Label name='x'>"


@pytest.mark.parametrize("name", [None, "inventory"])
@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_cpythons_lock_tests_regexes_still_match(kind, name):
    lock = getattr(threadkit, kind)(name=name)
    assert re.search(r"<unlocked .* object (.*)?at .*>", repr(lock))
    lock.acquire()
    assert re.search(r"<locked .* object (.*)?at .*>", repr(lock))
    lock.release()
    for obj, pattern in [
        (threadkit.Event(name=name), r"<\w+\.Event at .*: unset>"),
        (threadkit.Semaphore(3, name=name), r"<\w+\.Semaphore at .*: value=3>"),
        (threadkit.BoundedSemaphore(3, name=name), r"<\w+\.BoundedSemaphore at .*: value=3/3>"),
        (threadkit.Barrier(3, name=name), r"<\w+\.Barrier at .*: waiters=0/3>"),
    ]:
        assert re.search(pattern, repr(obj)), repr(obj)

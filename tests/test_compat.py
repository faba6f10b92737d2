"""The standard library's internals that threadkit relies on (``threadkit._compat``) exist on
this CPython, and nothing else in the package reads such names.

`make py-test` runs this on every CPython 3.11+ on the machine: a release that renames or drops
one of these names fails here, naming it, before it fails some distant behaviour test.
"""

import ast
import concurrent.futures
import concurrent.futures._base as std_futures_base
import importlib
import pathlib
import sys
import threading

import pytest

import threadkit
import threadkit.futures as tk_futures
import threadkit.threading as tk_threading
from threadkit import _compat
from threadkit._compat import RELIED_ON, Name
from conftest import run_python

PACKAGE = pathlib.Path(threadkit.__file__).parent
THIS = sys.version_info[:2]


def resolve(entry):
    obj = importlib.import_module(entry.module)
    for part in entry.name.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_name_threadkit_relies_on_exists():
    missing = _compat.missing()
    assert [f"{entry} ({entry.use})" for entry in missing] == [], (
        f"CPython {THIS[0]}.{THIS[1]} lacks names threadkit relies on: see threadkit/_compat.py"
    )
    # The table is what _compat uses: on every version, most of it applies.
    assert sum(entry.applies() for entry in RELIED_ON) >= 20


def test_version_gates_match_this_python():
    # A name used from some version on (or up to some version) is absent outside that range:
    # the gate is where the standard library changed, not a guess.
    present_outside = []
    for entry in RELIED_ON:
        if entry.applies():
            continue
        try:
            resolve(entry)
        except AttributeError:
            continue
        present_outside.append(str(entry))
    assert present_outside == []


def test_the_check_reports_a_missing_name():
    gone = Name("threading", "_no_such_name", "test")
    gone_attribute = Name("threading", "Thread._no_such_method", "test")
    gated_out = Name("threading", "_no_such_name", "test", since=(99, 0))
    assert _compat.missing([gone, gone_attribute, gated_out]) == [gone, gone_attribute]
    assert _compat.missing([Name("threading", "_active", "test")]) == []


def test_gates():
    entry = Name("_thread", "x", "test", since=(3, 12), before=(3, 13))
    assert [entry.applies(v) for v in [(3, 11), (3, 12, 1), (3, 13), (3, 14)]] == [
        False, True, False, False]
    assert Name("m", "x", "test").applies((3, 11))
    assert str(entry) == "_thread.x"
    assert _compat.JOINABLE == (THIS >= (3, 13))


def test_threading_and_queue_do_not_import_concurrent_futures():
    # As with the standard library: _compat loads concurrent.futures' names only when
    # threadkit.futures asks for them.
    r = run_python(
        """
        import sys
        import threadkit.threading, threadkit.queue
        print(sorted(m for m in ("concurrent.futures", "logging") if m in sys.modules))
        import threadkit.futures
        print(sorted(m for m in ("concurrent.futures", "logging") if m in sys.modules))
        """
    )
    assert r.stdout.splitlines() == ["[]", "['concurrent.futures', 'logging']"], r.stderr
    with pytest.raises(AttributeError, match="_no_such_name"):
        _compat._no_such_name


# What _compat.py reads from each module it imports under these local names.
COMPAT_MODULES = {
    "_threading": "threading",
    "_thread": "_thread",
    "_futures_base": "concurrent.futures._base",
}


def test_the_table_lists_every_name_compat_reads():
    tree = ast.parse((PACKAGE / "_compat.py").read_text())
    read = {
        (COMPAT_MODULES[node.value.id], node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in COMPAT_MODULES
    }
    listed = {(entry.module, entry.name) for entry in RELIED_ON}
    assert len(read) >= 20
    assert sorted(read - listed) == []


# Modules whose private names only _compat reads; `_thread`'s documented functions are fine.
WATCHED = {"threading", "_thread", "queue", "concurrent.futures", "concurrent.futures.thread",
           "concurrent.futures._base"}
THREAD_DOCUMENTED = {"start_new_thread", "interrupt_main", "exit", "allocate_lock", "get_ident",
                     "get_native_id", "stack_size", "TIMEOUT_MAX", "LockType", "error", "lock"}


def private_reads(source):
    """(local name, attribute) pairs and imports by which ``source`` reads a private name of a
    watched standard-library module."""
    tree = ast.parse(source)
    aliases = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in WATCHED:
                    aliases[a.asname or a.name] = a.name
                if a.name.endswith("._base"):
                    found.append(f"import {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.module in WATCHED:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in WATCHED:
                    aliases[a.asname or a.name] = full
                if a.name.startswith("_") or node.module.endswith("._base"):
                    found.append(f"from {node.module} import {a.name}")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        module = aliases.get(node.value.id)
        name = node.attr
        if module is None or (name.startswith("__") and name.endswith("__")):
            continue
        if (name.startswith("_") or module.endswith("._base")
                or (module == "_thread" and name not in THREAD_DOCUMENTED)):
            found.append(f"{node.value.id}.{name} ({module})")
    return found


def test_only_compat_reads_private_names_of_the_standard_library():
    files = sorted(p for p in PACKAGE.glob("*.py") if p.name != "_compat.py")
    assert {"threading.py", "queue.py", "futures.py"} <= {p.name for p in files}
    found = {p.name: private_reads(p.read_text()) for p in files}
    assert {name: reads for name, reads in found.items() if reads} == {}


def test_the_scan_finds_private_reads():
    source = (
        "import threading as _std\nimport _thread\nfrom concurrent.futures import _base\n"
        "from concurrent.futures._base import FINISHED\nimport concurrent.futures._base\n"
        "x = _std._active\ny = _thread._set_sentinel\nz = _thread.start_new_thread\n"
        "w = _std.__all__\nv = _base.FINISHED\n"
    )
    assert private_reads(source) == [
        "from concurrent.futures import _base",
        "from concurrent.futures._base import FINISHED",
        "import concurrent.futures._base",
        "_std._active (threading)",
        "_thread._set_sentinel (_thread)",
        "_base.FINISHED (concurrent.futures._base)",
    ]


def test_threadkit_thread_overrides_the_hooks_the_standard_library_calls():
    # Entries `Thread.x` are methods the standard library calls on each thread in its registry
    # (after fork, at exit): threadkit's Thread must have its own.
    hooks = [e for e in RELIED_ON if e.module == "threading" and e.name.startswith("Thread.")]
    assert hooks
    for entry in hooks:
        if entry.applies():
            name = entry.name.split(".", 1)[1]
            assert getattr(tk_threading.Thread, name) is not getattr(threading.Thread, name), name


# Attributes the standard library's Thread.__init__ sets that threadkit's Thread does not have:
# only the standard library's own bootstrap reads this one (threadkit's reports an escaped
# exception from a module function).
THREAD_ATTRIBUTES_NOT_NEEDED = {"_invoke_excepthook"}


def test_thread_has_every_attribute_the_standard_library_sets():
    # The standard library's fork and exit code read these on every thread in its registry,
    # threadkit's included; a new one in a new CPython needs a look.
    theirs = set(vars(threading.Thread()))
    ours = tk_threading.Thread()
    assert sorted(n for n in theirs - THREAD_ATTRIBUTES_NOT_NEEDED if not hasattr(ours, n)) == []


@pytest.mark.parametrize("name, args", [
    ("_Waiter", ()),
    ("_AsCompletedWaiter", ()),
    ("_FirstCompletedWaiter", ()),
    ("_AllCompletedWaiter", (2, True)),
])
def test_waiters_set_what_the_standard_librarys_set(name, args):
    # threadkit's waiters replace the standard library's __init__ (their event blocks in Rust)
    # and inherit the rest, which reads these attributes.
    theirs = getattr(std_futures_base, name)(*args)
    ours = getattr(tk_futures, name)(*args)
    assert isinstance(ours, type(theirs))
    assert set(vars(ours)) == set(vars(theirs))


def test_future_has_what_the_standard_librarys_wait_reads():
    theirs = set(vars(concurrent.futures.Future()))
    ours = tk_futures.Future()
    assert {"_condition", "_state", "_waiters"} <= theirs
    assert sorted(n for n in theirs if not hasattr(ours, n)) == []


def test_future_states_are_the_standard_librarys():
    states = []
    f = tk_futures.Future()
    states.append(f._state)
    f.set_running_or_notify_cancel()
    states.append(f._state)
    f.set_result(1)
    states.append(f._state)
    g = tk_futures.Future()
    g.cancel()
    states.append(g._state)
    g.set_running_or_notify_cancel()
    states.append(g._state)
    b = std_futures_base
    assert states == [b.PENDING, b.RUNNING, b.FINISHED, b.CANCELLED, b.CANCELLED_AND_NOTIFIED]

"""`python -m threadkit [options] program args...` (issue 12 item 2): the program runs on
threadkit from its first line, and as `python` would run it. Each case runs the same program
plainly and under the runner, in subprocesses, and compares what they print, their stderr and
their exit status."""

import os
import pathlib
import re
import signal
import subprocess
import sys
import textwrap

import pytest

import threadkit
from threadkit import _runner

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADKIT_")}
    env.update(extra)
    return env


def python(*args, cwd, timeout=120, env=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=clean_env() if env is None else env)


def runner(*args, cwd, timeout=120, env=None):
    return python("-m", "threadkit", *args, cwd=cwd, timeout=timeout, env=env)


def both(*args, cwd):
    """The same command line run plainly and under the runner: (plain, threadkit)."""
    return python(*args, cwd=cwd), runner(*args, cwd=cwd)


def same_outcome(plain, ours, drop_runpy_frames=False):
    expected = plain.stderr
    if drop_runpy_frames:
        # `python -m` shows runpy's frames above the module's; the runner hides its own.
        expected = re.sub(r'  File "<frozen runpy>", line \d+, in \w+\n', "", expected)
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout,
                                                           expected)


# What a program sees of how it was run.
SHOW = """\
import sys, threading, threadkit
print(__name__, sys.argv, sys.path[0], __package__, type(__loader__).__name__,
      getattr(__spec__, "name", None), globals().get("__file__"), globals().get("__cached__"),
      sorted(globals()))
print(sys.modules["__main__"].__dict__ is globals())
import atexit
atexit.register(lambda: print("at exit, __main__ is still the program:",
                              sys.modules["__main__"].__dict__ is globals()))
"""

ON_THREADKIT = "import threading, threadkit; print('on threadkit:', threading.Lock is threadkit.Lock)\n"


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "prog.py").write_text(SHOW)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(SHOW)
    (pkg / "__main__.py").write_text(SHOW)
    app = tmp_path / "app"
    app.mkdir()
    (app / "__main__.py").write_text(SHOW)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "link.py").symlink_to(tmp_path / "prog.py")
    return tmp_path


@pytest.mark.parametrize("args", [
    ["prog.py"],
    ["prog.py", "a", "-b", "--c"],
    ["sub/link.py", "x"],   # sys.path[0] is the directory of the file the link points to
    ["./sub/../prog.py"],
    ["app", "y"],           # a directory with __main__.py
    ["-m", "pkg.mod", "z"],
    ["-m", "pkg", "-m", "w"],  # a package's __main__; the program's own -m is an argument
    ["-mpkg.mod"],
    ["-c", SHOW, "v"],
])
def test_runs_as_python_does(tree, args):
    plain, ours = both(*args, cwd=tree)
    assert plain.returncode == 0, plain.stderr
    same_outcome(plain, ours)


def test_absolute_script_path(tree):
    plain, ours = both(str(tree / "prog.py"), "q", cwd=tree / "sub")
    same_outcome(plain, ours)


def test_program_runs_on_threadkit_from_its_first_line(tmp_path):
    (tmp_path / "prog.py").write_text(ON_THREADKIT)
    assert runner("prog.py", cwd=tmp_path).stdout == "on threadkit: True\n"
    assert python("prog.py", cwd=tmp_path).stdout == "on threadkit: False\n"
    assert runner("-c", ON_THREADKIT, cwd=tmp_path).stdout == "on threadkit: True\n"


def test_unchanged_example_program(tmp_path):
    from test_examples import UNCHANGED_PROGRAM_TYPES

    script = str(EXAMPLES / "unchanged_program.py")
    for run, impl in ((python, "stdlib"), (runner, "threadkit")):
        r = run(script, cwd=tmp_path)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert r.stdout.splitlines() == ["MainThread: 5 lines, 60 words, reader done: True"] \
            + UNCHANGED_PROGRAM_TYPES[impl]


@pytest.mark.parametrize("body", [
    "pass",
    "import sys; sys.exit(3)",
    "import sys; sys.exit('a message')",
    "raise SystemExit(None)",
    "import sys; sys.exit(0)",
    "import os, sys; sys.stdout.flush(); os._exit(7)",
])
def test_exit_status(tmp_path, body):
    (tmp_path / "prog.py").write_text(body + "\n")
    same_outcome(*both("prog.py", cwd=tmp_path))


UNCAUGHT = """\
import threading
def inner():
    raise ValueError("boom")
def outer():
    try:
        {}["key"]
    except KeyError:
        inner()
print("before", flush=True)
outer()
"""


def test_uncaught_exception_prints_the_same_traceback(tmp_path):
    (tmp_path / "prog.py").write_text(UNCAUGHT)
    plain, ours = both("prog.py", cwd=tmp_path)
    assert plain.returncode == 1 and "Traceback (most recent call last)" in plain.stderr
    same_outcome(plain, ours)


def test_uncaught_exception_in_a_module(tmp_path):
    (tmp_path / "mod.py").write_text(UNCAUGHT)
    plain, ours = both("-m", "mod", cwd=tmp_path)
    assert '"<frozen runpy>"' in plain.stderr
    same_outcome(plain, ours, drop_runpy_frames=True)


def test_uncaught_exception_in_code(tmp_path):
    same_outcome(*both("-c", UNCAUGHT, cwd=tmp_path))


@pytest.mark.parametrize("source", ["x = (\n", "def f(:\n    pass\n"])
def test_syntax_error_is_printed_without_a_traceback(tmp_path, source):
    (tmp_path / "prog.py").write_text(source)
    plain, ours = both("prog.py", cwd=tmp_path)
    assert "SyntaxError" in plain.stderr and "Traceback" not in plain.stderr
    same_outcome(plain, ours)
    same_outcome(*both("-c", source, cwd=tmp_path))


def test_uncaught_keyboard_interrupt_exits_by_sigint(tmp_path):
    (tmp_path / "prog.py").write_text("raise KeyboardInterrupt\n")
    plain, ours = both("prog.py", cwd=tmp_path)
    assert plain.returncode == -signal.SIGINT
    same_outcome(plain, ours)


def test_programs_excepthook_gets_the_programs_traceback(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent("""\
        import sys, traceback
        def hook(typ, value, tb):
            names = [f.name for f in traceback.extract_tb(tb)]
            print("hook:", typ.__name__, names, value.__traceback__ is tb)
        sys.excepthook = hook
        def f():
            1 / 0
        f()
    """))
    plain, ours = both("prog.py", cwd=tmp_path)
    assert plain.stdout == "hook: ZeroDivisionError ['<module>', 'f'] True\n"
    same_outcome(plain, ours)


def test_threads_outliving_the_main_program(tmp_path):
    # A non-daemon thread still running after the program's last line keeps the process
    # alive, and still sees the program as __main__ (pickle looks classes up there).
    (tmp_path / "prog.py").write_text(textwrap.dedent("""\
        import pickle, threading
        class Point:
            pass
        started = threading.Event()
        def late():
            threading.main_thread().join()
            print("after main:", type(pickle.loads(pickle.dumps(Point()))).__name__)
        threading.Thread(target=late).start()
        print("main done")
    """))
    plain, ours = both("prog.py", cwd=tmp_path)
    assert plain.stdout == "main done\nafter main: Point\n"
    same_outcome(plain, ours)


@pytest.mark.parametrize("args, status", [
    (["missing.py"], 2),
    (["-m", "missing_module"], 1),
    (["-m", "pkg"], 1),  # a package without __main__
    (["-m", ".relative"], 1),
    (["-m", "prog.py"], 1),
    (["emptydir"], 1),  # a directory without __main__.py
])
def test_missing_program_is_reported_as_python_does(tmp_path, args, status):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "prog.py").write_text("")
    (tmp_path / "emptydir").mkdir()
    plain, ours = both(*args, cwd=tmp_path)
    assert plain.returncode == status, plain.stderr
    same_outcome(plain, ours)


# -- The runner's own command line ----------------------------------------------------------------


def test_help(tmp_path):
    r = runner("--help", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("usage: python -m threadkit [options] (script.py | -m module | -c code)")
    for option in ("--no-subprocesses", "--deadlock {report,raise,ignore}", "--dump-on SIGNAL",
                   "--contention", "--debug"):
        assert "\n  " + option in r.stdout, option
    assert runner("-h", cwd=tmp_path).stdout == r.stdout


@pytest.mark.parametrize("option", sorted(_runner.DIAGNOSTICS))
def test_diagnostics_options_say_when_they_are_not_available(tmp_path, option):
    # The options work only with a build that has the diagnostics: otherwise --help marks
    # them and using one is an error, rather than an option silently doing nothing.
    (tmp_path / "prog.py").write_text("print('ran')\n")
    args = {"--deadlock": ["--deadlock", "raise"], "--dump-on": ["--dump-on", "SIGUSR1"]}
    available = _runner._diagnostic_function(option) is not None
    help_text = runner("--help", cwd=tmp_path).stdout
    entry = help_text[help_text.index("\n  " + option):]
    entry = entry[:entry.index("\n  -", 1)] if "\n  -" in entry[1:] else entry
    missing = "not available in this build: threadkit.%s is missing" % _runner.DIAGNOSTICS[option][0]
    assert (missing in " ".join(entry.split())) is not available
    r = runner(*args.get(option, [option]), "prog.py", cwd=tmp_path)
    if available:
        assert r.returncode == 0 and r.stdout == "ran\n", r.stderr
    else:
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.endswith("python -m threadkit: error: %s is not available in this build "
                                 "of threadkit (threadkit.%s is missing)\n"
                                 % (option, _runner.DIAGNOSTICS[option][0]))


@pytest.mark.parametrize("args, message", [
    ([], "no program given"),
    (["--deadlock"], "--deadlock needs a value"),
    (["--deadlock", "panic", "prog.py"], "--deadlock: 'panic' is not one of report, raise, ignore"),
    (["--dump-on", "SIGNOPE", "prog.py"], "--dump-on: unknown signal 'SIGNOPE'"),
    (["--frobnicate", "prog.py"], "unknown option '--frobnicate' (options come before the program)"),
    (["-m"], "argument expected for the -m option"),
    (["-"], "reading the program from stdin is not supported"),
])
def test_usage_errors(tmp_path, args, message):
    r = runner(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == _runner.USAGE + "\npython -m threadkit: error: " + message + "\n"


def test_options_end_at_the_program(tmp_path):
    (tmp_path / "prog.py").write_text("import sys; print(sys.argv)\n")
    r = runner("--no-subprocesses", "--", "prog.py", "--help", "--deadlock", cwd=tmp_path)
    assert r.stdout == "['prog.py', '--help', '--deadlock']\n", r.stderr


def test_signal_names(tmp_path):
    for value in ("SIGUSR1", "usr1", str(int(signal.SIGUSR1))):
        assert _runner._parse_signal(value) is signal.SIGUSR1


# -- Child processes ---------------------------------------------------------------------------


CHILD_PROGRAM = """\
import os, subprocess, sys
print("env:", os.environ.get("THREADKIT_INSTALL"))
child = "import threading, threadkit; print('child on threadkit:', threading.Lock is threadkit.Lock)"
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout, end="")
"""

SPAWN_PROGRAM = """\
import multiprocessing

def probe():
    import threading, threadkit
    return threading.Lock is threadkit.Lock, threadkit.installed()

if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        print("spawn worker on threadkit:", pool.apply(probe))
"""

needs_pth = pytest.mark.skipif(
    not __import__("test_install").pth_installed(),
    reason="threadkit_install.pth is not in site-packages (not installed from the wheel)",
)


@needs_pth
def test_children_run_on_threadkit(tmp_path):
    (tmp_path / "prog.py").write_text(CHILD_PROGRAM)
    assert runner("prog.py", cwd=tmp_path).stdout == "env: 1\nchild on threadkit: True\n"


def test_no_subprocesses(tmp_path):
    (tmp_path / "prog.py").write_text(CHILD_PROGRAM)
    r = runner("--no-subprocesses", "prog.py", cwd=tmp_path,
               env=clean_env(THREADKIT_INSTALL="1"))  # removed for the children
    assert r.stdout == "env: None\nchild on threadkit: False\n", r.stderr


@needs_pth
def test_multiprocessing_spawn_workers_run_on_threadkit(tmp_path):
    (tmp_path / "prog.py").write_text(SPAWN_PROGRAM)
    r = runner("prog.py", cwd=tmp_path)
    assert r.stdout == "spawn worker on threadkit: (True, True)\n", r.stderr
    r = runner("--no-subprocesses", "prog.py", cwd=tmp_path)
    assert r.stdout == "spawn worker on threadkit: (False, False)\n", r.stderr


def test_runner_module_is_importable_without_running():
    # `import threadkit.__main__` (pydoc, tools) must not run anything.
    import importlib

    mod = importlib.import_module("threadkit.__main__")
    assert mod.main is _runner.main and not threadkit.installed()


INVERSION = """\
import threading
a = threading.Lock()
b = threading.Lock()
with a:
    with b:
        pass
with b:
    with a:
        pass
print("ran")
"""


def test_debug_option_reports_lock_order_inversions(tmp_path):
    (tmp_path / "prog.py").write_text(INVERSION)
    plain = runner("prog.py", cwd=tmp_path)
    assert plain.returncode == 0 and plain.stdout == "ran\n" and plain.stderr == ""
    r = runner("--debug", "prog.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "ran\n", r.stderr
    assert "Potential deadlock (lock order inversion)" in r.stderr
    assert re.search(r"acquire Lock created at .*prog\.py:3, then Lock created at .*prog\.py:2",
                     r.stderr), r.stderr
    # One thread, both orders: its second hold of `b` was not its first, so that stack is the
    # one left out (stacks are taken on a thread's first acquisition of a class).
    assert r.stderr.count('prog.py", line') == 3, r.stderr
    assert r.stderr.count("(earlier in this thread;") == 1, r.stderr


def test_debug_option_reaches_child_processes(tmp_path):
    (tmp_path / "prog.py").write_text(
        "import os, subprocess, sys\n"
        "print(os.environ.get('THREADKIT_DEBUG'))\n"
        "subprocess.run([sys.executable, '-c', 'import threadkit; print(threadkit.debug.is_enabled())'])\n")
    r = runner("--debug", "prog.py", cwd=tmp_path)
    assert r.stdout == "1\nTrue\n", r.stderr


def test_deadlock_option_sets_the_action(tmp_path):
    (tmp_path / "prog.py").write_text(
        "import threadkit\nprint(threadkit.get_deadlock_action())\n")
    assert runner("--deadlock", "raise", "prog.py", cwd=tmp_path).stdout == "raise\n"
    assert runner("prog.py", cwd=tmp_path).stdout == "report\n"


def test_contention_option_prints_the_table_at_exit(tmp_path):
    (tmp_path / "prog.py").write_text(
        "import threading\n"
        "lock = threading.Lock()\n"
        "held = threading.Event()\n"
        "def holder():\n"
        "    with lock:\n"
        "        held.set()\n"
        "        while not lock_waited():\n"
        "            pass\n"
        "def lock_waited():\n"
        "    import threadkit\n"
        "    return any(r.waiters for r in threadkit.contention(top=None))\n"
        "t = threading.Thread(target=holder)\n"
        "t.start()\n"
        "held.wait()\n"
        "with lock:\n"
        "    pass\n"
        "t.join()\n")
    r = runner("--contention", "prog.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "prog.py:2" in r.stderr, r.stderr


def test_the_main_thread_is_a_thread_under_the_runner(tmp_path):
    (tmp_path / "prog.py").write_text(
        "import threading\n"
        "print(isinstance(threading.main_thread(), threading.Thread),\n"
        "      isinstance(threading.current_thread(), threading.Thread))\n")
    plain, ours = both("prog.py", cwd=tmp_path)
    assert plain.stdout == ours.stdout == "True True\n", ours.stderr

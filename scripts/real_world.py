#!/usr/bin/env python3
"""Run well-known libraries' own test suites plainly and on threadkit, and compare.

For each library in ``LIBRARIES`` (pinned versions), this script

1. downloads its sdist from PyPI (``pip download --no-binary NAME --no-deps NAME==VERSION``)
   and unpacks it: the sdists chosen ship their tests;
2. makes a venv for it under the work directory (``~/.cache/threadkit-real-world`` unless
   ``--workdir`` says otherwise), installs the library from the sdist, its test dependencies
   and the threadkit wheel (``--wheel``, or one built from this checkout with ``maturin build
   --release``);
3. runs the suite twice from the unpacked sdist, ``python -m pytest ...`` and
   ``python -m threadkit -m pytest ...``, each with ``--junitxml`` for per-test outcomes and its
   wall time;
4. lists every test that passes plainly and does not pass on threadkit. Such a test is run
   once more on threadkit by itself (a flaky test passes then); the ones in ``KNOWN`` are
   expected, with their reason (the README's "What differs" has them).

It prints the README's table (``--markdown`` also writes it to a file) and exits 1 if a test
that passes plainly failed on threadkit and is not in ``KNOWN``. It downloads, so it is not
part of ``make test``: ``make real-world`` runs it. ``--only NAME`` runs a subset;
``--offline`` reuses the venvs and sdists already in the work directory.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIP = ["-m", "pip", "--disable-pip-version-check", "-q"]
# Each test has this long (pytest-timeout) before it counts as failed; each run of a suite
# has SUITE_TIMEOUT seconds.
TEST_TIMEOUT = 120
SUITE_TIMEOUT = 1800


@dataclass
class Library:
    """One library: its pinned version, what its tests need, and how pytest runs them."""

    name: str
    version: str
    what: str  # what it does with threads (for the table)
    deps: list  # test dependencies, pinned
    args: list  # pytest arguments: test paths, --ignore, --deselect...
    extras: list = field(default_factory=list)  # the library's own extras, pip-installed
    # pytest node ids that hang on threadkit (a known difference, see KNOWN): deselected from
    # the threadkit run and counted as failed there
    hangs: list = field(default_factory=list)
    note: str = ""  # what the table says about the arguments (tests left out...)

    @property
    def key(self):
        return "%s-%s" % (self.name, self.version)


LIBRARIES = [
    Library(
        "filelock",
        "3.16.1",
        "file locks: a reentrant, thread-local lock per path; threads contend",
        ["pytest==8.3.5", "pytest-asyncio==0.24.0", "pytest-mock==3.14.0", "virtualenv==20.26.6"],
        ["tests"],
    ),
    Library(
        "janus",
        "2.0.0",
        "a queue with a thread side and an asyncio side",
        ["pytest==8.3.5", "pytest-asyncio==0.24.0"],
        ["tests", "--ignore=tests/test_benchmarks.py"],
    ),
    Library(
        "pykka",
        "4.5.0",
        "actors, each on its own thread, with futures and queues",
        ["pytest==8.3.5", "pytest-mock==3.14.0"],
        ["tests"],
    ),
    Library(
        "fasteners",
        "0.20",
        "reader-writer locks, inter-process locks, from threads",
        ["pytest==8.3.5", "diskcache==5.6.3", "more-itertools==10.5.0", "eventlet==0.38.2"],
        ["tests"],
        hangs=["tests/test_eventlet.py::test_eventlet_spawn_n_bugfix"],
    ),
    Library(
        "readerwriterlock",
        "1.0.10",
        "reader-writer locks built on `threading.Lock`/`Condition`",
        ["pytest==8.3.5"],
        # test_multi_thread/test_multi_async each run for 6 x 30 s by the clock
        ["tests", "-k", "not test_multi_thread and not test_multi_async"],
        note="without the two 3-minute clock-driven stress tests",
    ),
    Library(
        "pebble",
        "5.2.3",
        "thread and process pools, each with a manager thread",
        ["pytest==8.3.5"],
        # TestSigHandler's two tests send SIGALRM, which is pytest-timeout's signal: they
        # fail plainly too under this script's --timeout
        ["test", "-k", "not test_sighandler and not test_sigalarm_sighandler"],
        note="without 2 SIGALRM tests (pytest-timeout's signal)",
    ),
    Library(
        "portalocker",
        "4.4.2",
        "file locks and semaphores, from threads and processes",
        ["pytest==8.3.5", "pytest-rerunfailures==15.1", "fakeredis==2.31.0", "redis==6.2.0",
         "typing_extensions==4.15.0"],
        ["portalocker_tests"],
    ),
    Library(
        "APScheduler",
        "3.11.0",
        "schedulers: a background scheduler thread, thread/process pool executors, job stores",
        ["pytest==8.3.5", "pytz==2024.2", "tornado==6.4.2", "anyio==4.7.0", "SQLAlchemy==2.0.36",
         "tzlocal==5.2"],
        ["tests"],
    ),
    Library(
        "cachetools",
        "8.0.2",
        "caches whose decorators take a `Lock`/`RLock`/`Condition`",
        ["pytest==8.3.5"],
        ["tests"],
    ),
]

# Tests that pass plainly and cannot pass on threadkit, with the reason: "library::test id"
# (as the junit report names it) -> why. The README's "What differs" lists each reason.
KNOWN = {
    # eventlet.monkey_patch() in a child process (which runs on threadkit through
    # THREADKIT_INSTALL) makes threading.Lock green but not threadkit's Condition, which
    # blocks the OS thread and so every green thread: the child deadlocks
    "fasteners::tests.test_eventlet::test_eventlet_spawn_n_bugfix":
        "eventlet's green threads (monkey_patch) cannot wait on threadkit's Condition",
}


def log(msg):
    print(msg, flush=True)


def run(cmd, **kw):
    log("  $ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def build_wheel(workdir):
    """Build threadkit's wheel from this checkout with maturin (the Makefile's .venv has it)."""
    out = os.path.join(workdir, "wheel")
    shutil.rmtree(out, ignore_errors=True)
    maturin = shutil.which("maturin") or os.path.join(REPO, ".venv", "bin", "maturin")
    if not os.path.exists(maturin):
        sys.exit("maturin not found: run `make develop` first, or pass --wheel")
    run([maturin, "build", "--release", "-q", "-o", out], cwd=REPO)
    wheels = glob.glob(os.path.join(out, "*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def fetch_sdist(lib, python, workdir):
    """Download and unpack the library's sdist; returns the unpacked directory."""
    dl = os.path.join(workdir, "sdists")
    os.makedirs(dl, exist_ok=True)
    def find():
        # sdist names are normalised differently by each backend: Name, name, name_with_underscores
        want = "%s-%s.tar.gz" % (lib.name.lower().replace("-", "_"), lib.version)
        return [os.path.join(dl, f) for f in os.listdir(dl)
                if f.lower().replace("-", "_", f.count("-") - 1) == want]

    found = find()
    if not found:
        run([python, *PIP, "download", "--no-deps", "--no-binary", lib.name,
             "%s==%s" % (lib.name, lib.version), "-d", dl])
        found = find()
    assert len(found) == 1, found
    src = os.path.join(workdir, "src")
    os.makedirs(src, exist_ok=True)
    with tarfile.open(found[0]) as tar:
        top = tar.getnames()[0].split("/")[0]
        dest = os.path.join(src, top)
        if not os.path.isdir(dest):
            tar.extractall(src, filter="data")
    return dest


def make_venv(lib, python, workdir, srcdir, wheel, offline):
    venv = os.path.join(workdir, "venvs", lib.key)
    py = os.path.join(venv, "bin", "python")
    if offline and os.path.exists(py):
        return py
    if not os.path.exists(py):
        run([python, "-m", "venv", venv])
    spec = srcdir + ("[%s]" % ",".join(lib.extras) if lib.extras else "")
    run([py, *PIP, "install", spec, "pytest-timeout==2.3.1", *lib.deps])
    run([py, *PIP, "install", "--force-reinstall", "--no-deps", wheel])
    # the runner really switches: the suite's `import threading` will be threadkit's
    check = "import threading, queue; assert threading.Lock.__module__ == 'threadkit', threading.Lock"
    run([py, "-m", "threadkit", "-c", check])
    return py


def outcomes(junit):
    """test id -> 'passed' | 'failed' | 'error' | 'skipped', from a junit XML report."""
    result = {}
    if not os.path.exists(junit):
        return result
    for case in ET.parse(junit).iter("testcase"):
        tid = "%s::%s" % (case.get("classname"), case.get("name"))
        state = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                state = {"failure": "failed"}.get(child.tag, child.tag)
                break
        # a test that fails in teardown appears twice: keep the worse outcome
        if result.get(tid) in (None, "passed", "skipped") or state in ("failed", "error"):
            result[tid] = state
    return result


def pytest_cmd(py, lib, on_threadkit, junit, tests=None):
    runner = [py, "-m", "threadkit", "-m", "pytest"] if on_threadkit else [py, "-m", "pytest"]
    return [
        *runner,
        *(tests or lib.args),
        "-p", "no:cacheprovider",
        "-o", "addopts=",  # the projects' own addopts want coverage plugins
        "--timeout=%d" % TEST_TIMEOUT,
        "-q", "-rfE",
        "--junitxml=" + junit,
    ]


def run_suite(py, lib, srcdir, on_threadkit, outdir, tests=None, tag=""):
    """Run the suite (or some tests of it); returns (outcomes, seconds, exit status)."""
    which = "threadkit" if on_threadkit else "plain"
    junit = os.path.join(outdir, "%s%s.xml" % (which, tag))
    logfile = os.path.join(outdir, "%s%s.log" % (which, tag))
    if os.path.exists(junit):
        os.remove(junit)
    cmd = pytest_cmd(py, lib, on_threadkit, junit, tests)
    if on_threadkit and tests is None:
        cmd += ["--deselect=" + node for node in lib.hangs]
    env = dict(os.environ)
    env.pop("THREADKIT_INSTALL", None)
    env.pop("PYTEST_ADDOPTS", None)
    start = time.monotonic()
    with open(logfile, "w") as out:
        try:
            status = subprocess.run(cmd, cwd=srcdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    timeout=SUITE_TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            status = "timeout"
    took = time.monotonic() - start
    result = outcomes(junit)
    if on_threadkit and tests is None:
        for node in lib.hangs:
            result[node_to_tid(node)] = "failed"
    return result, took, status, logfile


def summary(res):
    counts = {}
    for state in res.values():
        counts[state] = counts.get(state, 0) + 1
    return counts


def fmt_counts(counts):
    parts = ["%d passed" % counts.get("passed", 0)]
    for key in ("failed", "error", "skipped"):
        if counts.get(key):
            parts.append("%d %s" % (counts[key], key))
    return ", ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", default=os.path.expanduser("~/.cache/threadkit-real-world"))
    ap.add_argument("--wheel", help="threadkit wheel to install (default: build one)")
    ap.add_argument("--python", default=sys.executable, help="the CPython for the venvs")
    ap.add_argument("--only", action="append", help="run only this library (repeatable)")
    ap.add_argument("--offline", action="store_true", help="reuse the venvs already made")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--json", help="write every outcome to this file")
    opts = ap.parse_args()

    workdir = os.path.abspath(opts.workdir)
    os.makedirs(workdir, exist_ok=True)
    wheel = os.path.abspath(opts.wheel) if opts.wheel else None
    if not wheel and not opts.offline:
        wheel = build_wheel(workdir)
    libs = [lib for lib in LIBRARIES if not opts.only or lib.name in opts.only]
    pyver = subprocess.run([opts.python, "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True, check=True).stdout.strip()

    rows, unexpected, report = [], [], {}
    for lib in libs:
        log("=== %s %s" % (lib.name, lib.version))
        srcdir = fetch_sdist(lib, opts.python, workdir)
        py = make_venv(lib, opts.python, workdir, srcdir, wheel, opts.offline)
        outdir = os.path.join(workdir, "results", lib.key)
        os.makedirs(outdir, exist_ok=True)
        plain, t_plain, s_plain, _ = run_suite(py, lib, srcdir, False, outdir)
        log("  plain:     %s in %.1f s (exit %s)" % (fmt_counts(summary(plain)), t_plain, s_plain))
        tk, t_tk, s_tk, tk_log = run_suite(py, lib, srcdir, True, outdir)
        log("  threadkit: %s in %.1f s (exit %s)" % (fmt_counts(summary(tk)), t_tk, s_tk))
        lost = sorted(t for t, s in plain.items() if s == "passed" and tk.get(t) != "passed")
        known = [t for t in lost if known_reason(lib, t)]
        retry = [t for t in lost if t not in known]
        flaky, bad = [], []
        if retry:
            # once more, by themselves: a test that passes now is flaky, not a difference
            nodes = [tid_to_node(t, srcdir) for t in retry]
            again = run_suite(py, lib, srcdir, True, outdir, [n for n in nodes if n],
                              tag="-again")[0]
            for tid in retry:
                (flaky if again.get(tid) == "passed" else bad).append(tid)
        for tid in known:
            log("  known:     %s (%s)" % (tid, known_reason(lib, tid)))
        for tid in flaky:
            log("  flaky:     %s (failed in the suite on threadkit, passed alone)" % tid)
        for tid in bad:
            log("  FAILED:    %s (passes plainly; threadkit: %s; log %s)" % (tid, tk.get(tid), tk_log))
        unexpected += ["%s::%s" % (lib.name, t) for t in bad]
        rows.append((lib, summary(plain), t_plain, summary(tk), t_tk, known, flaky, bad))
        report[lib.key] = {"plain": plain, "threadkit": tk, "plain_seconds": t_plain,
                           "threadkit_seconds": t_tk, "known": known, "flaky": flaky,
                           "failed": bad}

    table = markdown(rows, pyver)
    print()
    print(table)
    if opts.markdown:
        with open(opts.markdown, "w") as f:
            f.write(table + "\n")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
    if unexpected:
        log("\n%d test(s) pass plainly and fail on threadkit:" % len(unexpected))
        for tid in unexpected:
            log("  " + tid)
        return 1
    return 0


def known_reason(lib, tid):
    """The reason a test is expected to fail on threadkit (KNOWN: the test or its class)."""
    name = "%s::%s" % (lib.name, tid)
    for key, reason in KNOWN.items():
        if name == key or name.startswith(key + "::"):
            return reason
    return None


def node_to_tid(node):
    """'tests/test_x.py::TestY::test_z' -> junit's 'tests.test_x.TestY::test_z'."""
    path, *rest = node.split("::")
    return "::".join([".".join([path[:-3].replace("/", "."), *rest[:-1]]), rest[-1]])


def tid_to_node(tid, srcdir):
    """'tests.test_x.TestY::test_z' (junit's classname::name) -> a pytest node id."""
    classname, name = tid.split("::", 1)
    parts = classname.split(".")
    # the longest prefix that is a file: the rest are classes
    for i in range(len(parts), 0, -1):
        path = os.path.join(*parts[:i]) + ".py"
        if os.path.exists(os.path.join(srcdir, path)):
            return "::".join([path, *parts[i:], name])
    return None


def markdown(rows, pyver):
    """The README's table, then one line per library that has notes."""
    lines = [
        "| library | version | what its tests exercise | tests | `python -m pytest` | wall time "
        "| `python -m threadkit -m pytest` | wall time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes = []
    for lib, plain, t_plain, tk, t_tk, known, flaky, bad in rows:
        lines.append("| %s | %s | %s | %d | %s | %.1f s | %s | %.1f s |" % (
            lib.name, lib.version, lib.what, sum(plain.values()), fmt_counts(plain), t_plain,
            fmt_counts(tk), t_tk))
        mine = [lib.note] if lib.note else []
        if known:
            mine.append("%d known: %s" % (len(known), ", ".join(
                sorted({known_reason(lib, t) for t in known}))))
        if flaky:
            mine.append("%d flaky (passed when run again)" % len(flaky))
        if bad:
            mine.append("**%d fail on threadkit only**: %s" % (len(bad), ", ".join(bad)))
        if mine:
            notes.append("- %s: %s." % (lib.name, "; ".join(mine)))
    lines += ["", "CPython %s." % pyver, *notes]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

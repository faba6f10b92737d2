"""The program runner behind ``python -m threadkit``.

``python -m threadkit [options] script.py args...`` (also ``-m module`` and ``-c code``) calls
``threadkit.install()`` and then runs the program as ``python script.py args...`` would: the same
``sys.argv``, a fresh ``__main__`` module with the same attributes, the same ``sys.path[0]``,
exit status, traceback on stderr (without the runner's own frames), ``SystemExit`` handling and
exit by SIGINT on an uncaught ``KeyboardInterrupt``. Child processes inherit
``THREADKIT_INSTALL=1`` unless ``--no-subprocesses`` is given.

The program runs in a new module installed for good as ``sys.modules["__main__"]``, as
coverage.py's ``coverage run`` does, rather than through ``runpy.run_path``/``run_module``:
those put the program's module in ``sys.modules`` only while its top-level code runs and then
restore the runner's, so threads still running after it, ``atexit`` handlers, pickling of
classes defined in the program and multiprocessing's spawn would see the runner as
``__main__``. The module lookup for ``-m`` follows ``runpy`` (same rules and messages).
"""

import atexit
import builtins
import importlib.machinery
import importlib.util
import io
import marshal
import os
import signal
import sys
import types

import threadkit
from threadkit._install import ENV_VAR

PROG = "python -m threadkit"

USAGE = "usage: %s [options] (script.py | -m module | -c code) [args...]" % PROG

# The diagnostics options, each used only if this build of threadkit has the function it
# needs (they come with the diagnostics work); otherwise --help marks the option and using it
# is an error. Option -> (the attribute of the threadkit package, its help text).
DIAGNOSTICS = {
    "--deadlock": (
        "set_deadlock_action",
        "{report,raise,ignore}",
        "what a detected deadlock does: print a report, raise threadkit.DeadlockError in the "
        "blocked thread, or nothing (child processes too, through THREADKIT_DEADLOCK)",
    ),
    "--dump-on": (
        "dump_on_signal",
        "SIGNAL",
        "print every thread's state and stack when the process receives SIGNAL (a name such "
        "as SIGUSR1 or USR1, or a number)",
    ),
    "--contention": (
        "contention_report",
        "",
        "print the table of contended locks, queues... on stderr at exit",
    ),
    "--debug": (
        "debug.enable",
        "",
        "debug mode: report lock-order inversions (potential deadlocks) and a process whose "
        "every thread is asleep (child processes too, through THREADKIT_DEBUG)",
    ),
}

DEADLOCK_ACTIONS = ("report", "raise", "ignore")

_HELP = """\
{usage}

Run a Python program on threadkit, unchanged: threadkit.install() is called before its first
line, so its `import threading`, `import queue` and concurrent.futures.ThreadPoolExecutor, and
those of every library it imports, are threadkit's. The program then runs as `python` would run
it: the same sys.argv, __main__, sys.path[0], exit status and tracebacks.

program (the first argument that is not an option; what follows is the program's):
  script.py             a Python file, a directory or a zip file with __main__.py
  -m module             a module, as `python -m module`
  -c code               a string of code, as `python -c code`

options (before the program):
{options}
What is switched, and what is not (_thread, C extensions' own locks, objects created before
install()): see help(threadkit._install).
"""


class UsageError(Exception):
    """A wrong command line: reported with the usage line, exit status 2."""


class ProgramNotFound(Exception):
    """The program to run does not exist: reported as `python` reports it."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def _diagnostic_function(option):
    """The function an option needs, or None if this build of threadkit lacks it."""
    path = DIAGNOSTICS[option][0]
    obj = threadkit
    parts = path.split(".")
    for i, part in enumerate(parts):
        value = getattr(obj, part, None)
        if value is None and i < len(parts) - 1:
            name = "threadkit." + ".".join(parts[: i + 1])
            try:
                if importlib.util.find_spec(name) is None:
                    return None
            except ImportError:
                return None
            value = importlib.import_module(name)
        if value is None:
            return None
        obj = value
    return obj


def help_text():
    entries = [
        ("-h, --help", "show this help and exit"),
        ("--version", "show threadkit's version and exit"),
        (
            "--no-subprocesses",
            "do not run child processes on threadkit. By default %s=1 is set in the "
            "environment, so child Python processes (subprocess, multiprocessing workers, test "
            "runners' workers) install threadkit at start-up too" % ENV_VAR,
        ),
    ]
    for option, (path, metavar, text) in DIAGNOSTICS.items():
        if _diagnostic_function(option) is None:
            text += " [not available in this build: threadkit.%s is missing]" % path
        entries.append((("%s %s" % (option, metavar)).rstrip(), text))
    lines = []
    for left, text in entries:
        body = _wrap(text, 24, 92)
        if len(left) <= 20:
            lines.append("  %-22s%s" % (left, body[0].lstrip()))
            lines.extend(body[1:])
        else:
            lines.append("  " + left)
            lines.extend(body)
    return _HELP.format(usage=USAGE, options="\n".join(lines) + "\n")


def _wrap(text, indent, width):
    out, line = [], ""
    for word in text.split():
        if line and indent + len(line) + 1 + len(word) > width:
            out.append(" " * indent + line)
            line = word
        else:
            line = (line + " " + word) if line else word
    if line:
        out.append(" " * indent + line)
    return out


class Options:
    def __init__(self):
        self.subprocesses = True
        self.deadlock = None
        self.dump_on = None
        self.contention = False
        self.debug = False
        self.kind = None  # "script", "module" or "code"
        self.target = None
        self.args = []


def parse(argv):
    """Parse the runner's arguments (``sys.argv[1:]``). Returns ``Options``, or a string to
    print and exit with status 0 (``--help``, ``--version``). Raises ``UsageError``."""
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg in ("-h", "--help"):
            return help_text()
        if arg == "--version":
            from importlib.metadata import PackageNotFoundError, version

            try:
                return "threadkit %s" % version("threadkit")
            except PackageNotFoundError:
                return "threadkit (version unknown: not installed as a distribution)"
        if arg == "--no-subprocesses":
            opts.subprocesses = False
            continue
        if arg in ("--contention", "--debug"):
            setattr(opts, arg[2:], True)
            continue
        name, eq, value = arg.partition("=")
        if name in ("--deadlock", "--dump-on"):
            if not eq:
                if i == len(argv):
                    raise UsageError("%s needs a value" % name)
                value = argv[i]
                i += 1
            if name == "--deadlock":
                if value not in DEADLOCK_ACTIONS:
                    raise UsageError(
                        "--deadlock: %r is not one of %s" % (value, ", ".join(DEADLOCK_ACTIONS))
                    )
                opts.deadlock = value
            else:
                opts.dump_on = _parse_signal(value)
            continue
        if arg.startswith("-m") or arg.startswith("-c"):
            kind = "module" if arg[1] == "m" else "code"
            if len(arg) > 2:
                target = arg[2:]
            elif i < len(argv):
                target = argv[i]
                i += 1
            else:
                raise UsageError("argument expected for the %s option" % arg)
            opts.kind, opts.target, opts.args = kind, target, argv[i:]
            return opts
        if arg == "--":
            if i == len(argv):
                break
            arg = argv[i]
            i += 1
        elif arg.startswith("-") and arg != "-":
            raise UsageError("unknown option %r (options come before the program)" % arg)
        if arg == "-":
            raise UsageError("reading the program from stdin is not supported")
        opts.kind, opts.target, opts.args = "script", arg, argv[i:]
        return opts
    raise UsageError("no program given")


def _parse_signal(value):
    try:
        return signal.Signals(int(value))
    except ValueError:
        pass
    name = value.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return signal.Signals[name]
    except KeyError:
        raise UsageError("--dump-on: unknown signal %r" % value) from None


def _check_available(opts):
    wanted = [
        ("--deadlock", opts.deadlock is not None),
        ("--dump-on", opts.dump_on is not None),
        ("--contention", opts.contention),
        ("--debug", opts.debug),
    ]
    for option, used in wanted:
        if used and _diagnostic_function(option) is None:
            raise UsageError(
                "%s is not available in this build of threadkit (threadkit.%s is missing)"
                % (option, DIAGNOSTICS[option][0])
            )


def _apply_diagnostics(opts):
    if opts.debug:
        _diagnostic_function("--debug")()
        if opts.subprocesses:
            os.environ["THREADKIT_DEBUG"] = "1"
    if opts.deadlock is not None:
        _diagnostic_function("--deadlock")(opts.deadlock)
        if opts.subprocesses:
            os.environ["THREADKIT_DEADLOCK"] = opts.deadlock
    if opts.dump_on is not None:
        _diagnostic_function("--dump-on")(opts.dump_on)
    if opts.contention:
        report = _diagnostic_function("--contention")

        def print_contention():
            text = report()
            if text is not None:
                print(text, file=sys.stderr, flush=True)

        # atexit runs after the interpreter has waited for non-daemon threads.
        atexit.register(print_contention)


def main(argv=None):
    """Entry point of ``python -m threadkit``. Returns an exit status for the runner's own
    errors; the program's own exit (return, ``sys.exit``, an uncaught exception) is the
    process's, as under ``python``."""
    if argv is None:
        argv = sys.argv[1:]
    try:
        opts = parse(argv)
        if isinstance(opts, str):
            print(opts)
            return 0
        _check_available(opts)
    except UsageError as e:
        print(USAGE, file=sys.stderr)
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2
    if opts.subprocesses:
        os.environ[ENV_VAR] = "1"
    else:
        os.environ.pop(ENV_VAR, None)
    threadkit.install()
    _apply_diagnostics(opts)
    try:
        run(opts.kind, opts.target, opts.args)
    except ProgramNotFound as e:
        # `python` names itself as invoked when it cannot open a file, and runpy, which
        # reports the other cases, as sys.executable.
        name = sys.executable
        if e.status == 2 and sys.orig_argv:
            name = sys.orig_argv[0]
        print("%s: %s" % (name, e), file=sys.stderr)
        return e.status
    return None


# ---------------------------------------------------------------------------------------------
# Running the program as `python` does.


def _new_main(**attrs):
    """A fresh ``__main__`` module as the interpreter makes it, with ``attrs``."""
    main = types.ModuleType("__main__")
    ns = main.__dict__
    ns["__loader__"] = importlib.machinery.BuiltinImporter
    if "__annotations__" in vars(sys.modules["__main__"]):
        ns["__annotations__"] = {}
    ns["__builtins__"] = builtins
    ns.update(attrs)
    return main


def _script(path):
    """``python path``: (code, ``__main__``'s attributes, ``sys.path[0]``), for a Python file,
    or for a directory or zip file holding ``__main__.py``."""
    abspath = path if os.path.isabs(path) else os.path.join(os.getcwd(), path)
    for hook in sys.path_hooks:
        try:
            hook(abspath)
        except ImportError:
            continue
        # A directory or zip file: its __main__ module, with it as sys.path[0].
        spec = importlib.machinery.PathFinder.find_spec("__main__", [abspath])
        if spec is None or spec.loader is None:
            raise ProgramNotFound("can't find '__main__' module in %r" % abspath, 1)
        code = spec.loader.get_code("__main__")
        return code, _module_attrs(spec), abspath
    try:
        with io.open_code(abspath) as f:
            source = f.read()
    except OSError as e:
        raise ProgramNotFound(
            "can't open file %r: [Errno %d] %s" % (abspath, e.errno, e.strerror), 2
        ) from None
    if source[:4] == importlib.util.MAGIC_NUMBER:
        code = marshal.loads(memoryview(source)[16:])
        loader = importlib.machinery.SourcelessFileLoader("__main__", abspath)
    else:
        code = _compile(source, abspath)
        loader = importlib.machinery.SourceFileLoader("__main__", abspath)
    attrs = {"__loader__": loader, "__file__": abspath, "__cached__": None}
    return code, attrs, os.path.dirname(os.path.realpath(abspath))


def _compile(source, filename):
    # Inside a function of this module, so a SyntaxError's traceback is only this frame, which
    # the report drops: `python` prints a SyntaxError with no traceback.
    return compile(source, filename, "exec", dont_inherit=True)


def _module_attrs(spec):
    attrs = {
        "__spec__": spec,
        "__loader__": spec.loader,
        "__package__": spec.parent,
    }
    if spec.has_location:
        attrs["__file__"] = spec.origin
        attrs["__cached__"] = spec.cached
    return attrs


def _module(name):
    """``python -m name``: (code, spec), looked up as ``runpy`` does, with its messages."""
    if name.startswith("."):
        raise ProgramNotFound("Relative module names not supported", 1)
    parent = name.rpartition(".")[0]
    if parent:
        try:
            __import__(parent)
        except ImportError as e:
            # A missing parent is reported below by find_spec(); any other error is the
            # program's, with its traceback.
            if e.name is None or (e.name != parent and not parent.startswith(e.name + ".")):
                raise
        existing = sys.modules.get(name)
        if existing is not None and not hasattr(existing, "__path__"):
            import warnings

            warnings.warn(
                RuntimeWarning(
                    "%r found in sys.modules after import of package %r, but prior to "
                    "execution of %r; this may result in unpredictable behaviour"
                    % (name, parent, name)
                )
            )
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, AttributeError, TypeError, ValueError) as e:
        msg = "Error while finding module specification for %r (%s: %s)" % (
            name,
            type(e).__name__,
            e,
        )
        if name.endswith(".py"):
            msg += ". Try using '%s' instead of '%s' as the module name." % (name[:-3], name)
        raise ProgramNotFound(msg, 1) from e
    if spec is None:
        raise ProgramNotFound("No module named %s" % name, 1)
    if spec.submodule_search_locations is not None:
        if name == "__main__" or name.endswith(".__main__"):
            raise ProgramNotFound("Cannot use package as __main__ module", 1)
        try:
            return _module(name + ".__main__")
        except ProgramNotFound as e:
            if name not in sys.modules:
                raise
            raise ProgramNotFound(
                "%s; %r is a package and cannot be directly executed" % (e, name), 1
            ) from None
    if spec.loader is None:
        raise ProgramNotFound("%r is a namespace package and cannot be executed" % name, 1)
    try:
        code = spec.loader.get_code(name)
    except ImportError as e:
        raise ProgramNotFound(str(e), 1) from e
    if code is None:
        raise ProgramNotFound("No code object available for %s" % name, 1)
    return code, spec


def run(kind, target, args):
    """Run the program (``kind``: "script", "module" or "code") in a new ``__main__``, with
    ``sys.argv`` = [its name, *args]. Returns when it returns; its exceptions propagate, with
    the runner's frames left out of the traceback ``sys.excepthook`` is given."""
    safe_path = getattr(sys.flags, "safe_path", False)
    try:
        if kind == "script":
            code, attrs, path0 = _script(target)
            sys.argv = [target, *args]
        elif kind == "module":
            # As `python -m`: argv[0] is "-m" while the module is looked up (its parent
            # packages are imported), then its file. sys.path[0] is already the current
            # directory, as for `python -m threadkit`.
            sys.argv = ["-m", *args]
            code, spec = _module(target)
            attrs = _module_attrs(spec)
            path0 = None
            sys.argv[0] = spec.origin
        else:
            code = _compile(target, "<string>")
            if sys.version_info >= (3, 13):
                # As `python -c` from 3.13: tracebacks show the lines of the code.
                import linecache

                lines = [line + "\n" for line in target.splitlines()]
                linecache.cache["<string>"] = (len(target), None, lines, "<string>")
            attrs = {}
            path0 = ""
            sys.argv = ["-c", *args]
        if path0 is not None and not safe_path and sys.path:
            sys.path[0] = path0
        main = _new_main(**attrs)
        sys.modules["__main__"] = main
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except ProgramNotFound:
        raise
    except BaseException as exc:
        _report_without_runner(exc)
        raise


def _report_without_runner(exc):
    """Make the interpreter's report of ``exc`` (about to propagate to the top) leave out the
    runner's frames: the next ``sys.excepthook`` call for ``exc`` gets the traceback from the
    program's first frame (None for a SyntaxError in the program itself, as `python` prints
    it). The interpreter's own handling of the uncaught exception is unchanged (exit status 1,
    exit by SIGINT for KeyboardInterrupt, ``sys.last_exc``...)."""
    tb = exc.__traceback__
    ours = globals()
    while tb is not None and tb.tb_frame.f_globals is ours:
        tb = tb.tb_next
    hook = sys.excepthook

    def excepthook(typ, value, traceback):
        if sys.excepthook is excepthook:
            sys.excepthook = hook
        if value is exc:
            # The interpreter's default hook prints the exception's own __traceback__.
            traceback = value.__traceback__ = tb
        hook(typ, value, traceback)

    sys.excepthook = excepthook

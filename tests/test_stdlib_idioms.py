"""Idioms real code uses on the standard library's internals, run on threadkit.

Each test states what the standard library does (it runs on both) and checks that threadkit
does the same, or, where it cannot, fails with a message that names the alternative.
"""



from _helpers_queue import JOIN_TIMEOUT
from conftest import run_python


# --- replacing threading.get_ident to observe thread start and exit --------------------------


def spy_get_ident(threading_mod, mod_to_patch, monkeypatch):
    """Replaces ``mod_to_patch.get_ident`` by a spy; returns the list of thread names whose
    calls it saw, as ``threading.current_thread`` would name them at that moment."""
    real = mod_to_patch.get_ident
    seen = []

    def spy():
        ident = real()
        seen.append(ident)
        return ident

    monkeypatch.setattr(mod_to_patch, "get_ident", spy)
    return seen


def test_a_replaced_get_ident_sees_thread_start_and_exit(threading_mod, monkeypatch):
    # The standard library's Thread calls get_ident() through its module's globals when it
    # starts (`_set_ident`) and when it ends (`_delete`): tools replace it to watch threads.
    seen = spy_get_ident(threading_mod, threading_mod, monkeypatch)
    idents = []
    t = threading_mod.Thread(target=lambda: idents.append(threading_mod.get_ident()))
    t.start()
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive()
    # Called in the new thread: once by the target itself, and at least at start and exit.
    assert seen.count(t.ident) >= 3, (seen, t.ident)
    assert idents == [t.ident]


def test_a_replaced_get_ident_is_seen_by_current_thread(threading_mod, monkeypatch):
    seen = spy_get_ident(threading_mod, threading_mod, monkeypatch)
    assert threading_mod.current_thread() is threading_mod.main_thread()
    assert seen, "current_thread() did not call the module's get_ident"


def test_a_get_ident_replaced_on_the_standard_library_module_is_seen_when_installed():
    # Under `python -m threadkit`, `threading` is a stand-in whose assignments reach the
    # standard library's module; threadkit's Thread must see the replacement there too.
    code = """
        import threadkit
        threadkit.install()
        import threading
        real = threading.get_ident
        seen = []
        def spy():
            seen.append(real())
            return seen[-1]
        threading.get_ident = spy
        t = threading.Thread(target=lambda: None)
        assert type(t).__module__ == "threadkit.threading", type(t)
        t.start()
        t.join(30)
        print(seen.count(t.ident) >= 2)
    """
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"

"""Daemon versus non-daemon threads at exit. The interpreter waits for non-daemon threads
before it exits; daemon threads are simply abandoned. Here the non-daemon thread waits for the
main program to end and then prints; the daemon thread waits forever and never prints."""

import threadkit.threading as threading

never = threading.Event()


def non_daemon():
    threading.main_thread().join()  # returns once the main program has finished
    print("non-daemon: the main program ended, and the interpreter waited for me")


def daemon():
    never.wait()
    print("daemon: this line is never printed")


threading.Thread(target=non_daemon, name="non-daemon").start()
d = threading.Thread(target=daemon, name="daemon", daemon=True)
d.start()
print(f"main: started a non-daemon thread and a daemon thread (daemon={d.daemon})")
print("main: done; the process exits when the non-daemon thread ends, daemon or not")

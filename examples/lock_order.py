"""Finding a deadlock before it happens: debug mode's lock-order checking.

`restock` takes the inventory lock, then the log lock; `write_log` takes them the other way
round. An Event makes `write_log` wait until `restock` is done, so this run never hangs, but
two such threads running at the same time would each hold one lock and wait for the other
forever. Debug mode reports the inversion the first time both orders have been seen.

Run it as is, or any program with `THREADKIT_DEBUG=1` or `python -m threadkit --debug`.
"""

import threadkit

threadkit.debug.enable()  # before the locks are created: only those are checked
threadkit.set_deadlock_action("report")  # report and go on ("raise": PotentialDeadlockError)
threadkit.deadlock_hook = print  # the report on stdout here (the default is stderr)

import threadkit.threading as threading  # noqa: E402

inventory = threading.Lock(name="inventory")
log = threading.Lock(name="log")
restocked = threading.Event()


def restock():
    with inventory:
        with log:
            pass
    restocked.set()


def write_log():
    restocked.wait()  # one after the other: this run cannot hang
    with log:
        with inventory:  # the opposite order: reported here
            pass


threads = [threading.Thread(target=restock, name="restock"),
           threading.Thread(target=write_log, name="write_log")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("finished without hanging, and the inversion is reported above")

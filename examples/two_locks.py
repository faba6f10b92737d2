"""Two locks, each guarding one part of an application (the inventory and the audit log):
a thread that holds the inventory lock does not block a thread that only needs the log."""

import threadkit.threading as threading

inventory_lock = threading.Lock()
log_lock = threading.Lock()
inventory = {"apples": 3}
log = []

holding = threading.Event()
logged = threading.Event()


def restock():
    with inventory_lock:
        holding.set()
        # Keep the inventory lock until the logger has finished: if the two parts shared one
        # lock, this would deadlock; with a lock each, it cannot.
        logged.wait()
        inventory["apples"] += 10


def write_log():
    holding.wait()
    with log_lock:
        log.append(f"log written while the inventory lock was held: {inventory_lock.locked()}")
    logged.set()


threads = [threading.Thread(target=restock), threading.Thread(target=write_log)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(log[0])
print(f"inventory after restock: {inventory}")

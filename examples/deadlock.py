"""The two-locks program with the classic bug: two threads take the same two locks in opposite
orders. 'restock' holds the inventory lock and wants the log lock; 'write_log' holds the log
lock and wants the inventory lock. On the standard library this program hangs forever, silently.

threadkit finds the deadlock the moment it forms. With the deadlock action "raise", the wait
that would close the cycle raises threadkit.DeadlockError (its message is the report: who waits
for what, held by whom, each thread's stack, the cycle) instead of blocking, having changed
nothing: the thread releases what it holds, and the other thread goes on. With the default
action, "report", the same report is printed on stderr and the threads keep waiting, as on the
standard library.
"""

import time

import threadkit
import threadkit.threading as threading

threadkit.set_deadlock_action("raise")

inventory_lock = threading.Lock(name="inventory")
log_lock = threading.Lock(name="log")
inventory = {"apples": 3}
log = []
both_hold_one = threading.Barrier(2)


def recovered(thread, error):
    print(f"{thread}: DeadlockError instead of waiting forever:")
    print(error)
    print(f"{thread}: gives up this step; leaving its 'with' block releases its lock")


def restock():
    with inventory_lock:
        both_hold_one.wait()
        time.sleep(0.1)  # restocking takes a while: write_log now waits for the inventory lock
        try:
            with log_lock:  # ...and holds the log lock: a deadlock
                log.append("restocked")
        except threadkit.DeadlockError as e:
            recovered("restock", e)
        inventory["apples"] += 10


def write_log():
    with log_lock:
        both_hold_one.wait()
        try:
            with inventory_lock:
                log.append(f"inventory: {inventory}")
        except threadkit.DeadlockError as e:
            recovered("write_log", e)


threads = [threading.Thread(target=restock, name="restock"),
           threading.Thread(target=write_log, name="write_log")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print()
print(f"log: {log}")
print(f"inventory after restock: {inventory}")

"""Two threads increment a shared counter. Without a lock, a read-modify-write of one thread
can be interleaved with the other's, and increments are lost. With a Lock around each
increment the result is always exact."""

import time

import threadkit.threading as threading

N = 2000


class Counter:
    def __init__(self):
        self.value = 0


def unsafe_increment(counter, start):
    start.wait()
    for _ in range(N):
        v = counter.value  # read
        time.sleep(0)  # let the other thread run between the read and the write
        counter.value = v + 1  # write: may overwrite the other thread's increment


def safe_increment(counter, lock, start):
    start.wait()
    for _ in range(N):
        with lock:
            v = counter.value
            time.sleep(0)  # the same pause, but no one else may touch the counter now
            counter.value = v + 1


def run(target, *extra):
    counter = Counter()
    start = threading.Barrier(2)  # both threads begin together
    threads = [threading.Thread(target=target, args=(counter, *extra, start)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counter.value


# The interleaving is up to the scheduler: try a few rounds until it shows.
for _ in range(5):
    unsafe = run(unsafe_increment)
    if unsafe < 2 * N:
        break
print(f"without a lock: {2 * N} increments, counter = {unsafe} ({2 * N - unsafe} lost)")
safe = run(safe_increment, threading.Lock())
print(f"with a lock:    {2 * N} increments, counter = {safe} ({2 * N - safe} lost)")

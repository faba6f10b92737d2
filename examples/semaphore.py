"""A Semaphore limits concurrency: ten workers want a resource that at most three may use at
the same time. Each records how many are inside while it is; the maximum is 3."""

import threadkit.threading as threading

LIMIT = 3
slots = threading.Semaphore(LIMIT)
state_lock = threading.Lock()
inside = 0
max_inside = 0
# Make the first LIMIT workers stay inside until LIMIT are in, so the limit is really reached.
full = threading.Barrier(LIMIT)
served = []


def worker(i):
    global inside, max_inside
    with slots:
        with state_lock:
            inside += 1
            max_inside = max(max_inside, inside)
            first_wave = len(served) < LIMIT
            served.append(i)
        if first_wave:
            full.wait()
        with state_lock:
            inside -= 1


threads = [threading.Thread(target=worker, args=(i,)) for i in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{len(served)} workers served, at most {max_inside} at a time (limit {LIMIT})")

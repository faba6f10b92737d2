"""Event signalling: three workers wait for a start signal; the main thread sets the Event
once everything is ready, and all of them go."""

import threadkit.threading as threading

go = threading.Event()
ready = threading.Semaphore(0)
lock = threading.Lock()
log = []


def worker(i):
    ready.release()  # "I am waiting"
    go.wait()
    with lock:
        log.append(f"worker {i} got the signal")


threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
for t in threads:
    t.start()
for _ in threads:
    ready.acquire()
print(f"all waiting; before set(): is_set={go.is_set()}, {len(log)} workers ran")
go.set()
for t in threads:
    t.join()
print(f"after set(): is_set={go.is_set()}")
for line in sorted(log):
    print(line)

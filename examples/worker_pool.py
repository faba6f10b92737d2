"""A pool of worker threads over a task list: four workers take tasks from a shared queue
until it is empty; each result records which worker computed it."""

import time

import threadkit.queue as queue
import threadkit.threading as threading

tasks = queue.Queue()
for n in range(1, 21):
    tasks.put(n)

results = {}
results_lock = threading.Lock()


def worker():
    me = threading.current_thread().name
    while True:
        try:
            n = tasks.get_nowait()
        except queue.Empty:
            return
        time.sleep(0.01)  # stands in for real work that waits (I/O)
        square = n * n
        with results_lock:
            results[n] = (square, me)


workers = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(4)]
for w in workers:
    w.start()
for w in workers:
    w.join()

used = sorted({w for _, w in results.values()})
print(f"{len(results)} tasks done, each exactly once, shared among {len(used)} workers: {used}")
print("squares:", [results[n][0] for n in sorted(results)])
print("sum of squares:", sum(sq for sq, _ in results.values()))

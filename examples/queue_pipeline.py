"""A Queue pipeline: stage 1 parses numbers, stage 2 squares them; each stage is a worker
thread reading one queue and writing the next. task_done()/join() tell the main thread when
every item has passed each stage."""

import threadkit.queue as queue
import threadkit.threading as threading

raw = queue.Queue()
parsed = queue.Queue()
results = []


def parse():
    while True:
        text = raw.get()
        parsed.put(int(text))
        raw.task_done()


def square():
    while True:
        n = parsed.get()
        results.append(n * n)
        parsed.task_done()


for stage in (parse, square):
    threading.Thread(target=stage, name=stage.__name__, daemon=True).start()

for text in ["1", "2", "3", "4", "5"]:
    raw.put(text)
raw.join()  # every item parsed...
parsed.join()  # ...and squared
print(f"all items through both stages: {results}")
print(f"unfinished tasks: raw={raw.unfinished_tasks}, parsed={parsed.unfinished_tasks}")

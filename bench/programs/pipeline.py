"""A 4-stage pipeline: threads connected by bounded queues move 200,000 items.

parse -> enrich -> aggregate -> sink, each stage a thread, each link a Queue(maxsize=1000);
a sentinel ends each stage. Only the standard library's names: run it plainly or under
``python -m threadkit`` (bench/programs/run.py does both).
"""

import queue
import sys
import threading

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
DONE = object()


def stage(inbox, outbox, work):
    get, put = inbox.get, outbox.put
    while True:
        item = get()
        if item is DONE:
            put(DONE)
            return
        put(work(item))


def main():
    links = [queue.Queue(maxsize=1000) for _ in range(4)]
    works = [
        lambda line: line.split(","),
        lambda fields: (fields[0], int(fields[1]) * 3),
        lambda pair: (pair[0], pair[1] % 97),
    ]
    threads = [
        threading.Thread(target=stage, args=(links[i], links[i + 1], works[i]), name="stage-%d" % i)
        for i in range(3)
    ]
    totals = {}

    def sink():
        get = links[3].get
        while True:
            item = get()
            if item is DONE:
                return
            key, value = item
            totals[key] = totals.get(key, 0) + value

    threads.append(threading.Thread(target=sink, name="sink"))
    for t in threads:
        t.start()
    put = links[0].put
    for i in range(ITEMS):
        put("key%d,%d" % (i % 10, i))
    put(DONE)
    for t in threads:
        t.join()
    assert len(totals) == 10, totals
    print("pipeline: %d items, checksum %d" % (ITEMS, sum(totals.values())))


if __name__ == "__main__":
    main()

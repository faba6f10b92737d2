"""An ordinary threaded program, written for the standard library alone: it imports threading,
queue, logging and concurrent.futures, and nothing of threadkit. Run it as it is:

    python examples/unchanged_program.py

then on threadkit, without changing a line (its libraries, logging here, switch too):

    python -m threadkit examples/unchanged_program.py

A reader thread feeds lines into a bounded queue; two workers take them and have a thread pool
count their words; a lock guards the totals; an event says when the reader is done.
"""

import concurrent.futures
import logging
import queue
import sys
import threading

TEXT = """\
It was the best of times, it was the worst of times,
it was the age of wisdom, it was the age of foolishness,
it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness,
it was the spring of hope, it was the winter of despair.
""".splitlines()


def main():
    logging.basicConfig(stream=sys.stdout, format="%(threadName)s: %(message)s",
                        level=logging.INFO)
    lines = queue.Queue(maxsize=2)
    reader_done = threading.Event()
    totals_lock = threading.Lock()
    totals = {"lines": 0, "words": 0}

    def reader():
        for line in TEXT:
            lines.put(line)
        reader_done.set()
        for _ in range(2):
            lines.put(None)  # one stop marker per worker

    def worker(pool):
        while (line := lines.get()) is not None:
            words = pool.submit(lambda s: len(s.split()), line).result()
            with totals_lock:
                totals["lines"] += 1
                totals["words"] += words

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        threads = [threading.Thread(target=reader, name="reader")]
        threads += [threading.Thread(target=worker, args=(pool,), name="worker-%d" % i)
                    for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    logging.info("%d lines, %d words, reader done: %s", totals["lines"], totals["words"],
                 reader_done.is_set())
    for what, obj in [("threading.Lock()", totals_lock), ("queue.Queue", lines),
                      ("ThreadPoolExecutor", pool), ("logging's handler lock",
                                                     logging.getLogger().handlers[0].lock)]:
        print("%-24s %s.%s" % (what, type(obj).__module__, type(obj).__qualname__))


if __name__ == "__main__":
    main()

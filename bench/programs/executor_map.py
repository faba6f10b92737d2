"""``executor.map`` over 200,000 small calls, every worker logging each call.

A ThreadPoolExecutor of 8 workers maps a small function over 200,000 numbers; each call logs a
line with ``logging`` (``%(threadName)s`` in the format) to a file. Only the standard
library's names: run it plainly or under ``python -m threadkit`` (bench/programs/run.py does
both).
"""

import concurrent.futures
import logging
import os
import sys
import tempfile

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
log = logging.getLogger("work")


def work(n):
    value = (n * 2654435761) % 1000003
    log.info("item %d -> %d", n, value)
    return value


def main():
    fd, path = tempfile.mkstemp(prefix="threadkit-bench-", suffix=".log")
    os.close(fd)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            total = sum(pool.map(work, range(CALLS)))
        handler.close()
        with open(path, "rb") as f:
            lines = sum(1 for _ in f)
    finally:
        os.unlink(path)
    assert lines == CALLS, lines
    print("executor_map: %d calls, %d log lines, checksum %d" % (CALLS, lines, total))


if __name__ == "__main__":
    main()

"""Condition producer/consumer: a producer puts items into a bounded buffer and a consumer
takes them out; each waits on the Condition when the buffer is full or empty, and notifies
the other side after changing it."""

import collections

import threadkit.threading as threading

CAPACITY = 3
ITEMS = 10
buffer = collections.deque()
cond = threading.Condition()
consumed = []
max_len = 0


def producer():
    global max_len
    for i in range(ITEMS):
        with cond:
            cond.wait_for(lambda: len(buffer) < CAPACITY)
            buffer.append(i)
            max_len = max(max_len, len(buffer))
            cond.notify_all()
    with cond:
        cond.wait_for(lambda: len(buffer) < CAPACITY)
        buffer.append(None)  # end of stream
        cond.notify_all()


def consumer():
    while True:
        with cond:
            cond.wait_for(lambda: buffer)
            item = buffer.popleft()
            cond.notify_all()
        if item is None:
            return
        consumed.append(item)


threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"consumed in order: {consumed}")
print(f"buffer never held more than {max_len} items (capacity {CAPACITY})")

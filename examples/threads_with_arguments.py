"""Threads with arguments: each thread runs a function with its own positional and keyword
arguments, and results come back through a shared dict (one key per thread, so no lock)."""

import threadkit.threading as threading


def greet(name, times, punctuation="!"):
    results[name] = " ".join([f"hello {name}{punctuation}"] * times)


results = {}
threads = [
    threading.Thread(target=greet, args=("ada", 1)),
    threading.Thread(target=greet, args=("bob", 2), kwargs={"punctuation": "?"}),
    threading.Thread(target=greet, args=("cy",), kwargs={"times": 3, "punctuation": "."}),
]
for t in threads:
    t.start()
for t in threads:
    t.join()
for t in threads:
    print(f"{t.name}: finished, alive={t.is_alive()}")
for name in sorted(results):
    print(f"{name}: {results[name]}")

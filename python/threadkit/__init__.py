"""threadkit: Python's threading, queue and thread pool, implemented in Rust.

Switch with one changed import::

    import threadkit.threading as threading
    import threadkit.queue as queue
    from threadkit.futures import ThreadPoolExecutor
"""

from threadkit import _core

__all__: list[str] = []

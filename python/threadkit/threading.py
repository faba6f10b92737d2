"""Drop-in replacement for the standard library's :mod:`threading`.

``import threadkit.threading as threading`` and change nothing else. Every public name of the
standard library's module is here. The synchronization primitives are threadkit's, implemented
in Rust; names not yet reimplemented are the standard library's own objects, so the namespace
is complete and behaves the same.
"""

import threading as _std
from threading import *  # noqa: F401,F403  (the whole namespace; ours replace names below)

from threadkit._core import Lock

__all__ = list(_std.__all__)

# CPython's aliases of the lock factory.
_allocate_lock = Lock

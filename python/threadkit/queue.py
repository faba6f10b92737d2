"""Drop-in replacement for the standard library's :mod:`queue` (in progress: names not yet
reimplemented are the standard library's own)."""

import queue as _std
from queue import *  # noqa: F401,F403

__all__ = list(_std.__all__)

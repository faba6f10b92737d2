"""``python -m threadkit [options] (script.py | -m module | -c code) [args...]``: run a program
on threadkit without changing it. ``python -m threadkit --help`` for the options; the runner
is ``threadkit._runner``."""

import sys

from threadkit._runner import main

if __name__ == "__main__":
    sys.exit(main())

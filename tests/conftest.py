import os
import subprocess
import sys
import textwrap

import pytest


def run_python(code: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter (the one running the tests); returns the result."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


@pytest.fixture
def python():
    return run_python


requires_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

"""File locks that keep two runs of the same results from writing over each other."""
from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock: Path):
    """Hold an exclusive lock on the file `lock` while the block runs: a second run of the same
    results waits for the first (without it, one would delete the checkpoints the other writes)."""
    with open(lock, "a") as fh:
        if not _try_lock(fh):
            print(f"waiting for another run of the same results to finish (lock: {lock})", file=sys.stderr)
            while not _try_lock(fh):
                time.sleep(1)
        try:
            yield
        finally:
            _try_lock(fh, release=True)


def _try_lock(fh, release: bool = False) -> bool:
    """Take (or release) the lock on an open file without waiting; whether it was taken."""
    try:
        if os.name == "nt":
            import msvcrt
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK if release else msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(fh, fcntl.LOCK_UN if release else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True

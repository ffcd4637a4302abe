"""Files and directories only their owner may read, private from the first byte.

The state dir holds keys, the dev token, the read model and a kubeconfig. A
file written and then ``chmod``-ed is readable by others in between (and for
good, if the process dies in between); so files here are *created* 0600 and
directories 0700 (``os.open`` with the mode, whatever the umask), and a file
that is replaced is written to a fresh private file first and renamed over,
so no reader ever sees half of it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """``path`` (and any missing parents) as a directory only the owner may enter.

    An existing ``path`` is tightened to 0700; existing parents are left alone
    (they may be shared, like ``/var/lib``).
    """
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(directory, DIR_MODE)
        os.chmod(directory, DIR_MODE)  # mkdir's mode passed through the umask
    tighten(path, DIR_MODE)
    return path


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Take group and other permissions off an existing ``path`` (an older install's)."""
    current = stat.S_IMODE(os.stat(path).st_mode)
    if current & 0o077:
        os.chmod(path, current & mode)


def create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data``, owner-only; ``False`` if it exists already.

    Written under a temporary name and linked into place, so the name only ever
    names a complete file, and two processes racing leave the first one's.
    """
    private_dir(path.parent)
    partial = _write_partial(path, data)
    try:
        os.link(partial, path)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: create it in place, still 0600
        return _create_in_place(path, data)
    finally:
        partial.unlink()
    return True


def _create_in_place(path: Path, data: bytes) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return True


def replace_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, owner-only, replacing any old file atomically."""
    private_dir(path.parent)
    partial = _write_partial(path, data)
    try:
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def touch_private(path: Path) -> Path:
    """``path`` as an owner-only file, created empty if missing (before a library opens it)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    tighten(path)
    return path


def _write_partial(path: Path, data: bytes) -> Path:
    partial = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial

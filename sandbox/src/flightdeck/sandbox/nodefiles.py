"""The sandbox's node: its containers' output as log files, the way a real node keeps them.

Every container run writes ``<root>/<namespace>_<pod>_<uid>/<container>/<restart>.log``
in the CRI format containerd uses (``<RFC 3339 nano> <stdout|stderr> <P|F> <text>``,
a line longer than ``max_record_bytes`` cut into ``P`` records closed by an ``F``),
and each file is rotated as the kubelet's container log manager does: renamed to
``<n>.log.<YYYYmmdd-HHMMSS>`` once it passes ``max_file_bytes``, a new ``<n>.log``
opened, the rotated files but the newest gzip-compressed, the oldest removed
beyond ``max_files``. A removed pod's directory goes ``removal_delay_s`` later,
as the kubelet removes a deleted pod's logs. A node agent (the log relay in node
mode) tails these files; nothing here knows it exists.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flightdeck.sandbox import clock

STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class NodeFileLimits:
    """Kubelet's ``containerLogMaxSize`` and ``containerLogMaxFiles``, containerd's line buffer."""

    max_file_bytes: int = 10 * 1024 * 1024
    max_files: int = 5
    max_record_bytes: int = 16 * 1024
    removal_delay_s: float = 10.0


def cri_records(at: datetime, stream: str, text: str, max_record_bytes: int) -> bytes:
    """``text`` as the runtime writes it: a record a line, long lines in fragments."""
    stamp = clock.rfc3339_nano(at).encode()
    head_full, head_part = stamp + f" {stream} F ".encode(), stamp + f" {stream} P ".encode()
    out = bytearray()
    for line in text.encode().split(b"\n"):
        while len(line) > max_record_bytes:
            out += head_part + line[:max_record_bytes] + b"\n"
            line = line[max_record_bytes:]
        out += head_full + line + b"\n"
    return bytes(out)


class ContainerFile:
    """One container run's log file, appended to and rotated."""

    def __init__(self, directory: Path, run: int, limits: NodeFileLimits) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory, self.run, self.limits = directory, run, limits
        self.path = directory / f"{run}.log"
        self._fd: int | None = self._open()
        self._size = os.fstat(self._fd).st_size
        self._buffer = bytearray()

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def write(self, at: datetime, stream: str, text: str) -> None:
        if self._fd is not None:
            self._buffer += cri_records(at, stream, text, self.limits.max_record_bytes)

    def flush(self) -> None:
        """Write what was buffered (whole records only), then rotate if it is due."""
        if self._fd is None or not self._buffer:
            return
        data, self._buffer = bytes(self._buffer), bytearray()
        done = 0
        while done < len(data):
            done += os.write(self._fd, data[done:])
        self._size += len(data)
        if self._size >= self.limits.max_file_bytes:
            self.rotate()

    def rotate(self) -> bool:
        """Kubelet's rotation: rename, reopen, compress the older rotated, drop the oldest.
        At most one per second (the rotated name has second precision)."""
        rotated = self.directory / f"{self.path.name}.{time.strftime(STAMP, time.gmtime())}"
        if self._fd is None or rotated.exists():
            return False
        os.rename(self.path, rotated)
        os.close(self._fd)
        self._fd, self._size = self._open(), 0
        self._tidy()
        return True

    def _tidy(self) -> None:
        prefix = f"{self.path.name}."
        rotated = sorted(p for p in self.directory.iterdir() if p.name.startswith(prefix))
        for path in rotated[:-1]:  # the newest rotated stays plain: a reader may still be on it
            if path.suffix != ".gz":
                with path.open("rb") as plain, gzip.open(f"{path}.gz", "wb") as packed:
                    shutil.copyfileobj(plain, packed)
                os.chmod(f"{path}.gz", 0o600)
                path.unlink()
        rotated = sorted(p for p in self.directory.iterdir() if p.name.startswith(prefix))
        for path in rotated[: max(0, len(rotated) - (self.limits.max_files - 1))]:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class NodeFiles:
    """Every pod's log directory under ``root``, and the removal of deleted pods' ones."""

    def __init__(self, root: Path, limits: NodeFileLimits | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.limits = limits or NodeFileLimits()
        self._pods: dict[tuple[str, str], Path] = {}
        self._doomed: dict[Path, float] = {}

    def open(self, namespace: str, pod: str, uid: str, container: str, run: int) -> ContainerFile:
        pod_dir = self.root / f"{namespace}_{pod}_{uid}"
        self._pods[(namespace, pod)] = pod_dir
        self._doomed.pop(pod_dir, None)
        return ContainerFile(pod_dir / container, run, self.limits)

    def forget(self, namespace: str, pod: str) -> None:
        """The pod is gone: its logs go after the removal delay."""
        pod_dir = self._pods.pop((namespace, pod), None)
        if pod_dir is not None:
            self._doomed[pod_dir] = time.monotonic() + self.limits.removal_delay_s

    def remove_due(self) -> None:
        now = time.monotonic()
        for pod_dir, at in list(self._doomed.items()):
            if at <= now:
                del self._doomed[pod_dir]
                with contextlib.suppress(OSError):
                    shutil.rmtree(pod_dir)

"""The sandbox's node keeps its containers' output as a real node does: CRI log files in the
kubelet's layout, long lines in fragments, rotation by rename, a new file per restart."""

from __future__ import annotations

import gzip
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from flightdeck.sandbox import Sandbox
from flightdeck.sandbox.nodefiles import ContainerFile, NodeFileLimits, NodeFiles, cri_records
from tests.support import manifests
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 7, 8, 0, 0, 123456, tzinfo=UTC)


def test_records_are_the_runtimes_format_and_long_lines_come_in_fragments() -> None:
    assert cri_records(AT, "stderr", "boom", 16) == (
        b"2026-12-07T08:00:00.123456000Z stderr F boom\n"
    )
    assert cri_records(AT, "stdout", "abcdefghij", 4).splitlines() == [
        b"2026-12-07T08:00:00.123456000Z stdout P abcd",
        b"2026-12-07T08:00:00.123456000Z stdout P efgh",
        b"2026-12-07T08:00:00.123456000Z stdout F ij",
    ]


def test_a_full_file_is_rotated_as_the_kubelet_does(tmp_path: Path) -> None:
    limits = NodeFileLimits(max_file_bytes=200, max_files=3, max_record_bytes=1024)
    run = ContainerFile(tmp_path / "ns_pod_uid" / "app", 0, limits)
    run.write(AT, "stdout", "x" * 300)
    run.flush()  # past the limit: renamed, and a new 0.log

    (rotated,) = [p for p in run.directory.iterdir() if p.name != "0.log"]
    assert rotated.name.startswith("0.log.") and len(rotated.name) == len("0.log.20261207-080000")
    assert rotated.read_bytes().endswith(b"stdout F " + b"x" * 300 + b"\n")
    assert run.path.read_bytes() == b""
    run.write(AT, "stderr", "after")
    run.close()
    assert run.path.read_bytes().endswith(b"stderr F after\n")
    assert stat.S_IMODE(run.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(run.directory.stat().st_mode) == 0o700


def test_older_rotated_files_are_compressed_and_the_oldest_removed(tmp_path: Path) -> None:
    limits = NodeFileLimits(max_file_bytes=10, max_files=3)
    run = ContainerFile(tmp_path / "app", 0, limits)
    for stamp in ("20261207-070000", "20261207-070001", "20261207-070002"):
        (tmp_path / "app" / f"0.log.{stamp}").write_bytes(stamp.encode())
    run.write(AT, "stdout", "now")
    run.flush()

    names = sorted(p.name for p in run.directory.iterdir())
    newest = [n for n in names if n.startswith("0.log.") and not n.endswith(".gz")]
    packed = [n for n in names if n.endswith(".gz")]
    assert "0.log" in names and len(newest) == 1  # the newest rotated stays plain
    assert len(names) == 3  # max_files, the live one included
    assert packed == ["0.log.20261207-070002.gz"]
    assert gzip.decompress((run.directory / packed[0]).read_bytes()) == b"20261207-070002"


def test_a_deleted_pods_logs_go_after_the_delay(tmp_path: Path) -> None:
    node = NodeFiles(tmp_path, NodeFileLimits(removal_delay_s=0.0))
    node.open("ns", "web-1", "uid-1", "app", 0).close()
    node.forget("ns", "web-1")
    node.remove_due()

    assert list(tmp_path.iterdir()) == []


async def test_the_sandbox_writes_each_run_of_its_pods_to_the_nodes_files(
    sandbox: Sandbox, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(
        namespace, manifests.deployment("crashy", "shop/c:v1-crash", replicas=1)
    )
    root = sandbox.node_log_dir
    assert root is not None

    def two_runs() -> list[Path] | None:
        found = sorted(root.glob(f"{namespace}_crashy-*_*/app/*.log"))
        return found if len(found) >= 2 else None

    first, second = (await eventually(two_runs, within=30, what="two runs' log files"))[:2]
    pods = (await core.list_namespaced_pod(namespace)).items
    (pod,) = pods
    assert first.parent.parent.name == f"{namespace}_{pod.metadata.name}_{pod.metadata.uid}"
    assert (first.name, second.name) == ("0.log", "1.log")

    def crashed() -> list[bytes] | None:
        lines = first.read_bytes().splitlines()
        return lines if any(b" stderr F panic:" in ln for ln in lines) else None

    lines = await eventually(crashed, within=30, what="the first run's crash on stderr")
    assert lines[0].split(b" ", 3)[1:3] == [b"stdout", b"F"]
    assert lines[0].split(b" ", 3)[3].startswith(b"INFO starting app")
    assert b" stderr F INFO diagnostics go to stderr" in b"\n".join(lines)

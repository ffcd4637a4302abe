"""The people CLI's own parsing: images, durations, env pairs, pod colours (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer

from flightdeck.cli.applogs import POD_COLOURS, pod_colour, since_time
from flightdeck.cli.deploying import parse_env, split_image
from flightdeck.cli.fresh import fresh_paths

NOW = datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC)
ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("hello:v1", ("hello", "v1")),
        ("team/web:2026.12.07-rc_1", ("team/web", "2026.12.07-rc_1")),
        ("registry.local:5000/team/web:v2", ("registry.local:5000/team/web", "v2")),
    ],
)
def test_an_image_is_split_at_its_tag(image: str, expected: tuple[str, str]) -> None:
    assert split_image(image) == expected


@pytest.mark.parametrize("image", ["hello", "hello:", ":v1", "registry.local:5000/web", "a:b c"])
def test_an_image_without_a_proper_tag_is_refused(image: str) -> None:
    with pytest.raises(typer.Exit) as refused:
        split_image(image)
    assert refused.value.exit_code == 2


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("90s", "2026-12-07T08:58:30Z"),
        ("5m", "2026-12-07T08:55:00Z"),
        ("1h30m", "2026-12-07T07:30:00Z"),
        ("2d", "2026-12-05T09:00:00Z"),
        ("2026-12-07T08:00:00Z", "2026-12-07T08:00:00Z"),
        ("2026-12-07T10:00:00+02:00", "2026-12-07T08:00:00Z"),
        ("2026-12-07T08:00:00", "2026-12-07T08:00:00Z"),
    ],
)
def test_since_takes_a_duration_or_a_time(since: str, expected: str) -> None:
    assert since_time(since, NOW) == expected


@pytest.mark.parametrize("since", ["", "yesterday", "5x", "m"])
def test_a_bad_since_is_refused(since: str) -> None:
    with pytest.raises(typer.Exit) as refused:
        since_time(since, NOW)
    assert refused.value.exit_code == 2


def test_env_pairs_are_names_and_values() -> None:
    assert parse_env(["A=1", "B_2=x=y", "EMPTY="]) == {"A": "1", "B_2": "x=y", "EMPTY": ""}
    assert parse_env([]) is None
    for bad in (["NOPE"], ["1A=x"], ["=x"]):
        with pytest.raises(typer.Exit):
            parse_env(bad)


def test_a_pod_keeps_its_colour_and_pods_get_different_ones() -> None:
    pods = [f"shop-blue-7d9f-{n}" for n in range(40)]
    assert [pod_colour(p) for p in pods] == [pod_colour(p) for p in pods]
    assert (
        pod_colour("shop-blue-7d9f-x2")
        == POD_COLOURS[__import__("zlib").crc32(b"shop-blue-7d9f-x2") % len(POD_COLOURS)]
    )
    assert len({pod_colour(p) for p in pods}) > 5


def test_fresh_deletes_the_history_the_read_model_and_the_cluster_but_no_key() -> None:
    state = Path("/state")
    paths = {p.relative_to(state).as_posix() for p in fresh_paths(state)}
    assert {"nats", "readmodel.db", "sandbox"} <= paths
    assert not paths & {"secrets.key", "dev-token", "nats-auth", "logs"}


def test_no_readme_or_doc_command_needs_uv_on_the_path() -> None:
    """`uv run …` fails where ./dev installed uv privately: the docs say `./dev run …`."""
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, line in enumerate(doc.read_text().splitlines(), start=1):
            stripped = line.strip().strip("`")
            assert not stripped.startswith("uv run "), f"{doc.name}:{number}: {line}"
            assert "`uv run flightdeck" not in line, f"{doc.name}:{number}: {line}"

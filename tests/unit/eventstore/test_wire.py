"""The fast header code must agree with nats-py's own, byte for byte."""

import nats.aio.client as nats_client
import nats.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightdeck.eventstore.jetstream import wire

pytestmark = pytest.mark.unit

nats_parse = nats_client.Client._parse_header_lines
name_chars = st.sampled_from("!#$%&'*+-.^_`|~0123456789abcdefXYZ")
names = st.text(name_chars, min_size=1, max_size=12)
values = st.text(st.characters(blacklist_categories=["Cs"]), max_size=20)


def nats_encode(headers: dict[str, str]) -> bytes:
    """nats-py's own header encoding (from Client._send_publish)."""
    out = bytearray(b"NATS/1.0\r\n")
    for k, v in headers.items():
        key = k.strip()
        if not key:
            continue
        if not nats_client._HEADER_KEY_RE.fullmatch(key):
            raise nats.errors.BadHeaderError(key)
        out += (
            key.encode() + b": " + v.strip().translate(nats_client._HEADER_VALUE_NEWLINES).encode()
        )
        out += b"\r\n"
    return bytes(out + b"\r\n")


@given(st.dictionaries(names, values, max_size=8))
def test_encoding_matches_nats_py(headers: dict[str, str]) -> None:
    assert wire.encode_headers(headers) == nats_encode(headers)


@pytest.mark.parametrize("bad", ["bad name", "colon:", "naïve"])
def test_bad_header_names_are_refused_like_nats_py(bad: str) -> None:
    with pytest.raises(nats.errors.BadHeaderError):
        wire.encode_headers({bad: "x"})


@given(st.dictionaries(names, values, max_size=8))
def test_parsing_what_nats_py_sends_matches_nats_py(headers: dict[str, str]) -> None:
    block = nats_encode(headers)[len(b"NATS/1.0") :]
    assert wire.parse_headers(block) == nats_parse(block)


fragments = st.sampled_from(
    [
        b"\r\n",
        b":",
        b" ",
        b"\t",
        b"\r",
        b"\n",
        b"\x1c",
        b"\x0b",
        b"a",
        b"Key",
        b"\xc3\xa9",
        b"\xff",
        b"\x00",
    ]
)


@given(st.lists(st.one_of(fragments, st.binary(max_size=4)), max_size=30).map(b"".join))
def test_parsing_arbitrary_bytes_matches_nats_py(raw: bytes) -> None:
    assert wire.parse_headers(raw) == nats_parse(raw)


def test_odd_but_legal_lines_match_nats_py() -> None:
    raw = b"\r\nA:1\r\n  B :\t two words \r\nno colon\r\nbad key: x\r\nA: 3\r\n\xff: y\r\n\r\n"
    assert wire.parse_headers(raw) == nats_parse(raw) == {"A": "3", "B": "two words"}


@given(st.lists(st.one_of(fragments, st.binary(max_size=4)), max_size=30).map(b"".join))
def test_a_parser_keeps_only_the_names_it_wants(raw: bytes) -> None:
    parse = wire.HeaderParser(frozenset({"A", "Key", "a"}))
    expected = {k: v for k, v in nats_parse(raw).items() if k in {"A", "Key", "a"}}
    assert parse(raw) == expected


def test_well_formed_and_odd_blocks_agree_with_nats_py() -> None:
    well_formed = b"\r\nce-id: 1\r\nce-type:  x \r\nNats-Sequence: 7\r\n\r\n"
    lone_newline = b"X: a\nB: c\r\n\r\n"  # one line to nats-py, not two
    for raw in (well_formed, lone_newline):
        assert wire.parse_headers(raw) == nats_parse(raw)
    assert wire.parse_headers(lone_newline) == {"X": "a\nB: c"}

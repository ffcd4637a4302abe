"""Levels from real-world log lines: JSON loggers, klog, access logs, and text formats."""

from __future__ import annotations

import pytest

from flightdeck.events.logs import LogLevel
from flightdeck.log_relay.domain.levels import level_name, parse_level

pytestmark = pytest.mark.unit

T, D, I, W, E, F, U = (  # noqa: E741
    LogLevel.TRACE,
    LogLevel.DEBUG,
    LogLevel.INFO,
    LogLevel.WARN,
    LogLevel.ERROR,
    LogLevel.FATAL,
    LogLevel.UNKNOWN,
)

SAMPLES = [
    # JSON: logrus, zap, pino/bunyan, python-json-logger, GCP, ECS, Serilog
    ('{"level":"error","msg":"upstream request failed","time":"2026-11-25T10:00:00Z"}', E),
    ('{"level":"warning","msg":"slow","time":"2026-11-25T10:00:00Z"}', W),
    ('{"level":"info","ts":1732528800.1,"caller":"main.go:42","msg":"started"}', I),
    ('{"level":"debug","ts":1732528800.1,"msg":"cache lookup"}', D),
    ('{"level":"dpanic","msg":"x"}', E),
    ('{"level":30,"time":1732528800000,"pid":1,"hostname":"h","msg":"hi"}', I),
    ('{"level":50,"time":1732528800000,"msg":"boom"}', E),
    ('{"level":60,"msg":"dead"}', F),
    ('{"level":10,"msg":"tracing"}', T),
    ('{"name":"app","hostname":"h","pid":1,"level":40,"msg":"careful","v":0}', W),
    ('{"levelname": "ERROR", "name": "app", "message": "failed"}', E),
    ('{"severity":"WARNING","message":"disk","logging.googleapis.com/trace":"t"}', W),
    ('{"severity":"CRITICAL","message":"down"}', F),
    ('{"severity":"NOTICE","message":"ok"}', I),
    ('{"@timestamp":"2026-11-25T10:00:00.000Z","log.level":"warn","message":"x"}', W),
    ('{"@timestamp":"2026-11-25T10:00:00.000Z","log":{"level":"error"},"message":"x"}', E),
    ('{"@t":"2026-11-25T10:00:00Z","@mt":"Hello {Name}","@l":"Error","Name":"x"}', E),
    ('{"lvl":"eror","t":"2026-11-25T10:00:00Z","msg":"x"}', E),
    ('{"level":"I","msg":"x"}', I),
    ('{"level":3,"short_message":"gelf error"}', E),
    ('{"msg":"no level here","status":500}', U),
    ('{"log":"plain docker json log line\\n","stream":"stderr"}', U),
    ('{"level":"fancy","msg":"unknown name"}', U),
    # klog (Kubernetes components)
    ('I1125 10:00:00.123456       1 controller.go:123] "Starting workers" count=2', I),
    ("W1125 10:00:00.123456       1 reflector.go:424] watch of *v1.Pod ended", W),
    ("E1125 10:00:00.123456       1 leaderelection.go:330] error retrieving lease", E),
    ("F1125 10:00:00.123456       1 server.go:77] failed to start: address in use", F),
    # logfmt
    ('time="2026-11-25T10:00:00Z" level=warning msg="ERROR in the message text"', W),
    ("ts=2026-11-25T10:00:00Z caller=main.go:10 level=error msg=failed err=timeout", E),
    ("t=2026-11-25T10:00:00+0000 lvl=info msg=started logger=server", I),
    ("time=2026 lvl=eror msg=x", E),
    ("level=debug msg=tick", D),
    # common text forms
    ("2026-11-25T10:00:00.123456Z INFO  [web] request served path=/ seq=1", I),
    ("2026-11-25T10:00:00.123456Z ERROR [web] database timeout path=/ seq=2", E),
    ("2026-11-25T10:00:00.123456Z WARN  [web] slow query", W),
    ("2026-11-25 10:00:00.000  INFO 1 --- [           main] o.s.b.w.e.tomcat.TomcatWebServer", I),
    ("2026-11-25 10:00:00,000 - myapp.db - ERROR - connection refused", E),
    ("WARNING:root:disk almost full", W),
    ('ERROR:  relation "orders" does not exist at character 15', E),
    ("[2026-11-25T10:00:00Z ERROR my_crate::server] bind failed", E),
    ("W, [2026-11-25T10:00:00.000000 #1]  WARN -- : deprecated call", W),
    ("[warn] slow query (/api/cart, seq 3)", W),
    ("[error] failed to decode payload", E),
    ("[INFO] listening", I),
    ('2026/11/25 10:00:00 [error] 7#7: *1 open() "/usr/share/nginx/html/x" failed', E),
    ("2026/11/25 10:00:00 [notice] 1#1: start worker processes", I),
    ("[Wed Nov 25 10:00:00.123 2026] [core:error] [pid 1] AH00037: Symbolic link", E),
    ("[Wed Nov 25 10:00:00.123 2026] [mpm_event:notice] [pid 1] resuming normal operations", I),
    ('2026-11-25T10:00:00.000Z\tinfo\tserver started\t{"port": 8080}', I),
    ('2026-11-25T10:00:00.000Z\terror\trequest failed\t{"error": "x"}', E),
    ("INFO starting app image=shop/app:v1 container=abc", I),
    ("TRACE entering handler", T),
    ("CRITICAL: out of memory", F),
    ('time="x" level=fatal msg="cannot start"', F),
    # Go and Python crashes
    ("panic: runtime error: invalid memory address or nil pointer dereference", F),
    ("fatal error: all goroutines are asleep - deadlock!", F),
    ("Traceback (most recent call last):", E),
    # access logs (status decides)
    ('10.244.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8"', I),
    ('10.244.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /x HTTP/1.1" 404 0 "-" "curl/8"', W),
    ('10.244.0.1 - - [25/Nov/2026:10:00:00 +0000] "POST /api HTTP/1.1" 503 0 "-" "-"', E),
    # no level
    ("hello world", U),
    ("", U),
    ("ERROR_CODE=5 happened", U),
    ("GET /api/errors 200", U),
    ("saved to some/path/ERROR.txt", U),
    ("[app] started", U),
    ("[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]", U),
    ("the word error in lowercase prose is not a level", U),
    ("INFORMATION_SCHEMA query ran", U),
]


@pytest.mark.parametrize(("text", "expected"), SAMPLES)
def test_level_of_real_world_lines(text: str, expected: LogLevel) -> None:
    assert parse_level(text) == expected


def test_the_leftmost_level_statement_wins() -> None:
    assert parse_level('level=info msg="retrying after ERROR"') == I
    assert parse_level("2026-11-25 WARN [error-handler] retry") == W
    assert parse_level("[debug] saw ERROR from upstream") == D


def test_a_continuation_keeps_the_level_of_its_head_line() -> None:
    head = parse_level("2026-11-25 ERROR java.lang.IllegalStateException: boom")
    frame = parse_level("\tat com.example.Orders.place(Orders.java:42)", head)
    python_frame = parse_level('  File "/app/main.py", line 3, in <module>', E)

    assert (head, frame, python_frame) == (E, E, E)
    assert parse_level("    indented but alone", U) == U
    assert parse_level("   ", E) == U
    assert parse_level("not indented", E) == U


def test_level_names_letters_and_numbers() -> None:
    assert [level_name(v) for v in ("WARN", " Warning ", "e", "30", 7, 0, 45, 61)] == [
        W,
        W,
        E,
        I,
        D,
        F,
        E,
        F,
    ]
    assert level_name(True) is None and level_name(None) is None and level_name(8) is None

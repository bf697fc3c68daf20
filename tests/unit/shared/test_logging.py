"""JSON log lines: UTF-8, zone-aware timestamps, bound ids, levels, redaction, standard logging."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
import structlog

from services.shared.logging import configure_logging, get_logger

TOKEN = "chiso_0a1b2c3d4e5f_Zm9vYmFyYmF6cXV4LXNlY3JldA"  # noqa: S105 - a fake, to be redacted


@pytest.fixture
def capture() -> Iterator[Callable[[], list[dict]]]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    configure_logging("ingest", "INFO", stream=out)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


def test_one_json_line_per_event_with_vietnamese_unescaped(capture):
    out = io.StringIO()
    configure_logging("ingest", stream=out)
    get_logger("chiso.test").info("đã nhận lô", unit="Sở Tư pháp", count=3)
    text = out.getvalue()
    assert text.count("\n") == 1 and "Sở Tư pháp" in text and "\\u" not in text
    line = json.loads(text)
    assert line["event"] == "đã nhận lô" and line["unit"] == "Sở Tư pháp" and line["count"] == 3
    assert (line["level"], line["service"], line["logger"]) == ("info", "ingest", "chiso.test")
    stamp = datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == timedelta(0)


def test_bound_context_variables_appear_until_unbound(capture):
    log = get_logger("t")
    structlog.contextvars.bind_contextvars(request_id="r-1", batch_id="b-9", source="igate-phu", unit="H25")
    log.info("inside")
    structlog.contextvars.unbind_contextvars("batch_id")
    log.info("after")
    inside, after = capture()
    assert {k: inside[k] for k in ("request_id", "batch_id", "source", "unit")} == {
        "request_id": "r-1", "batch_id": "b-9", "source": "igate-phu", "unit": "H25"}
    assert "batch_id" not in after and after["request_id"] == "r-1"


def test_level_filtering(capture):
    log = get_logger("t")
    log.debug("hidden")
    log.warning("shown")
    assert [(e["event"], e["level"]) for e in capture()] == [("shown", "warning")]


def test_secret_keys_are_redacted_at_any_depth_without_touching_the_callers_data(capture):
    nested = {"password": "pw1", "ok": "visible", "inner": [{"api_token": "t2"}]}
    get_logger("t").info(
        "secrets",
        token=TOKEN,
        Authorization="Bearer abc",
        database_url="postgresql://chiso:pw3@db/chiso",
        client_secret="cs",  # noqa: S106
        private_key="pk",
        dsn="x",
        token_id="0a1b2c3d4e5f",  # noqa: S106
        nested=nested,
    )
    [line] = capture()
    for key in ("token", "Authorization", "database_url", "client_secret", "private_key", "dsn"):
        assert line[key] == "[redacted]", key
    assert line["token_id"] == "0a1b2c3d4e5f"  # noqa: S105 - the public half of a token, for audit
    hidden = "[redacted]"
    assert line["nested"] == {"password": hidden, "ok": "visible", "inner": [{"api_token": hidden}]}
    assert nested["password"] == "pw1"  # noqa: S105 - the caller's dict is left alone


def test_secrets_inside_strings_are_scrubbed(capture):
    get_logger("t").info(
        f"calling with Authorization: Bearer {TOKEN} now",
        url="postgresql+psycopg://chiso:p%40ss@db:5432/chiso",
        note=f"pasted {TOKEN}, oops",
        header="authorization=bearer eyJhbGciOi.payload.sig",
        plain="https://example.gov.vn/path",
    )
    [line] = capture()
    text = json.dumps(line)
    for secret in ("Zm9vYmFy", "p%40ss", "eyJhbGciOi"):
        assert secret not in text
    assert line["event"] == "calling with Authorization: Bearer [redacted] now"
    assert line["url"] == "postgresql+psycopg://chiso:[redacted]@db:5432/chiso"
    assert line["note"] == "pasted chiso_0a1b2c3d4e5f_[redacted], oops"
    assert line["plain"] == "https://example.gov.vn/path"


def test_exceptions_are_rendered_and_scrubbed(capture):
    try:
        raise ConnectionError("cannot reach postgresql://chiso:hunter2@db/chiso")
    except ConnectionError:
        get_logger("t").exception("database down")
    [line] = capture()
    assert line["level"] == "error" and "ConnectionError" in line["exception"]
    assert "hunter2" not in line["exception"]


def test_standard_logging_goes_through_the_same_pipeline(capture):
    structlog.contextvars.bind_contextvars(request_id="r-2")
    logging.getLogger("sqlalchemy.engine").warning("pool at %d%%, dsn postgresql://u:pw@h/d", 95)
    logging.getLogger("noisy").debug("hidden")
    [line] = capture()
    assert line["event"] == "pool at 95%, dsn postgresql://u:[redacted]@h/d"
    assert (line["logger"], line["level"], line["request_id"], line["service"]) == (
        "sqlalchemy.engine", "warning", "r-2", "ingest")


def test_configuring_twice_keeps_one_handler_and_the_last_stream(capture):
    first, second = io.StringIO(), io.StringIO()
    configure_logging("a", stream=first)
    log = get_logger("t")  # a logger made before the next configure follows it
    configure_logging("b", stream=second)
    log.info("structlog")
    logging.getLogger("lib").warning("stdlib")
    assert first.getvalue() == ""
    assert [(e["event"], e["service"]) for e in map(json.loads, second.getvalue().splitlines())] == [
        ("structlog", "b"), ("stdlib", "b")]


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging("x", "LOUD", stream=io.StringIO())


def test_a_background_loop_logs_an_unavailable_database_as_a_warning_and_anything_else_with_its_trace():
    import sqlite3

    import structlog
    from sqlalchemy.exc import OperationalError

    from services.shared.db import log_failure

    down = OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
    with structlog.testing.capture_logs() as logs:
        log_failure(structlog.get_logger("t"), "consumer failed; retrying", down, subscription="portal-phú-thọ")
        try:
            raise KeyError("bug")
        except KeyError as bug:
            log_failure(structlog.get_logger("t"), "consumer failed; retrying", bug)
    assert logs[0] == {"event": "consumer failed; retrying", "log_level": "warning", "cause": "database unavailable",
                       "error_type": "OperationalError", "subscription": "portal-phú-thọ"}
    assert logs[1]["log_level"] == "error" and isinstance(logs[1]["exc_info"], KeyError)

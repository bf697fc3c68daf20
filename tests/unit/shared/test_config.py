"""Settings from environment variables: precedence, conversion, validation, secrecy, docs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from services.shared.config import (
    CommonSettings,
    ConfigError,
    SettingDoc,
    check_setting,
    describe_settings,
    load_settings,
)

P = "CHISO_TEST_"


@dataclass(frozen=True)
class SvcSettings(CommonSettings):
    port: int = field(default=50051, metadata={"doc": "gRPC port"})
    max_batch_records: int = field(default=5000, metadata={"doc": "records per batch, at most"})
    auto_migrate: bool = field(default=True, metadata={"doc": "apply migrations at start"})
    token_cache_seconds: float = field(default=5.0, metadata={"doc": "token check cache"})
    operator_units: tuple[str, ...] = field(default=("H01",), metadata={"doc": "units"})
    webhook_url: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_setting(self.max_batch_records >= 1, "max_batch_records", "must be at least 1")


def test_defaults_without_environment():
    s = load_settings(CommonSettings, P, {})
    assert s == CommonSettings()
    assert (s.database_url, s.host, s.port, s.metrics_port) == ("sqlite:///var/chiso.db", "127.0.0.1", 0, 0)
    assert (s.log_level, s.max_message_bytes, s.grace_seconds) == ("INFO", 16 * 1024 * 1024, 10.0)
    assert (s.max_workers, s.max_concurrent_rpcs) == (16, 256)


def test_service_prefix_then_shared_prefix_then_default():
    env = {
        "CHISO_DATABASE_URL": "postgresql+psycopg://chiso:pw@db/chiso",
        "CHISO_LOG_LEVEL": "DEBUG",
        "CHISO_TEST_LOG_LEVEL": "WARNING",
        "CHISO_MAX_BATCH_RECORDS": "7",  # not a common field: no shared fallback
    }
    s = load_settings(SvcSettings, P, env)
    assert s.database_url == "postgresql+psycopg://chiso:pw@db/chiso"
    assert s.log_level == "WARNING"
    assert s.max_batch_records == 5000
    assert s.port == 50051


def test_conversion_by_annotation():
    env = {
        "CHISO_TEST_PORT": " 6000 ",
        "CHISO_TEST_METRICS_PORT": "-1",
        "CHISO_TEST_GRACE_SECONDS": "2.5",
        "CHISO_TEST_AUTO_MIGRATE": "No",
        "CHISO_TEST_OPERATOR_UNITS": "H25, H01 ,,H44",
        "CHISO_TEST_WEBHOOK_URL": "",
    }
    s = load_settings(SvcSettings, P, env)
    assert (s.port, s.metrics_port, s.grace_seconds) == (6000, -1, 2.5)
    assert s.auto_migrate is False
    assert s.operator_units == ("H25", "H01", "H44")
    assert s.webhook_url is None
    assert load_settings(SvcSettings, P, {"CHISO_TEST_WEBHOOK_URL": "https://x"}).webhook_url == "https://x"


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("YES", True), ("on", True),
                                               ("0", False), ("False", False), ("no", False), ("off", False)])
def test_booleans(raw, expected):
    assert load_settings(SvcSettings, P, {"CHISO_TEST_AUTO_MIGRATE": raw}).auto_migrate is expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CHISO_TEST_PORT": "fifty"}, "CHISO_TEST_PORT: expected an integer (got 'fifty')"),
        ({"CHISO_TEST_AUTO_MIGRATE": "maybe"}, "CHISO_TEST_AUTO_MIGRATE: expected one of"),
        ({"CHISO_TEST_GRACE_SECONDS": "soon"}, "CHISO_TEST_GRACE_SECONDS: expected a number"),
        ({"CHISO_TEST_PORT": "70000"}, "CHISO_TEST_PORT: must be 0–65535"),
        ({"CHISO_PORT": "70000"}, "CHISO_PORT: must be 0–65535"),  # names the variable actually read
        ({"CHISO_TEST_METRICS_PORT": "-2"}, "CHISO_TEST_METRICS_PORT: must be -1–65535"),
        ({"CHISO_LOG_LEVEL": "LOUD"}, "CHISO_LOG_LEVEL: must be one of"),
        ({"CHISO_TEST_MAX_WORKERS": "0"}, "CHISO_TEST_MAX_WORKERS: must be at least 1"),
        ({"CHISO_TEST_GRACE_SECONDS": "-1"}, "CHISO_TEST_GRACE_SECONDS: must not be negative"),
        ({"CHISO_TEST_MAX_BATCH_RECORDS": "0"}, "CHISO_TEST_MAX_BATCH_RECORDS: must be at least 1"),
    ],
)
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(ConfigError) as err:
        load_settings(SvcSettings, P, env)
    assert str(err.value).startswith(message)
    assert isinstance(err.value, ValueError)


def test_secret_looking_values_are_never_echoed():
    with pytest.raises(ConfigError) as err:
        load_settings(SvcSettings, P, {"CHISO_TEST_TOKEN_CACHE_SECONDS": "hunter2"})
    assert str(err.value) == "CHISO_TEST_TOKEN_CACHE_SECONDS: expected a number"

    @dataclass(frozen=True)
    class WithSecrets:
        database_url_pool_size: int = 5
        signing_key_bits: int = 256

    for var in ("CHISO_TEST_DATABASE_URL_POOL_SIZE", "CHISO_TEST_SIGNING_KEY_BITS"):
        with pytest.raises(ConfigError) as err:
            load_settings(WithSecrets, P, {var: "postgresql://u:s3cret@h/db"})
        assert var in str(err.value) and "s3cret" not in str(err.value)


def test_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("CHISO_TEST_MAX_WORKERS", "3")
    assert load_settings(CommonSettings, P).max_workers == 3


def test_direct_construction_is_validated_too():
    with pytest.raises(ConfigError, match="^port: must be"):
        CommonSettings(port=-5)


def test_describe_settings_rows_for_the_readme():
    rows = {r.variable: r for r in describe_settings(SvcSettings, P)}
    port = SettingDoc("CHISO_TEST_PORT", "int", "50051", "gRPC port (or CHISO_PORT)")
    assert rows["CHISO_TEST_PORT"] == port
    assert rows["CHISO_TEST_DATABASE_URL"].doc.endswith("(or CHISO_DATABASE_URL)")
    assert rows["CHISO_TEST_DATABASE_URL"].default == "sqlite:///var/chiso.db"
    assert rows["CHISO_TEST_MAX_BATCH_RECORDS"] == SettingDoc(
        "CHISO_TEST_MAX_BATCH_RECORDS", "int", "5000", "records per batch, at most")
    assert rows["CHISO_TEST_AUTO_MIGRATE"][1:3] == ("bool", "true")
    assert rows["CHISO_TEST_OPERATOR_UNITS"][1:3] == ("tuple[str, ...]", "H01")
    assert rows["CHISO_TEST_WEBHOOK_URL"][1:4] == ("str | None", "", "")
    assert len(rows) == 18

"""Every secret setting also reads ``<SETTING>_FILE`` (mounted secrets, not the environment)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.sealing import SecretsSettings
from flightdeck.runtime.settings import ConfigError, Settings, load_section

pytestmark = pytest.mark.unit

KEY = "qxOoGvYl4ePz3/J8uY0tYpiHk0QzEhr6n1T1X3Yqk5o="  # base64 of 32 bytes

# (section, field, a valid value): every setting that holds a secret.
SECRET_SETTINGS: list[tuple[type[BaseSettings], str, str]] = [
    (SecretsSettings, "key", KEY),
    (SecretsSettings, "keys", KEY),
    (AwsSettings, "secret_access_key", "aws-secret-from-a-file"),
    (AwsSettings, "access_key_id", "AKIAFROMAFILE0000001"),
    (Settings, "database_url", "postgresql+asyncpg://flightdeck:pw-from-a-file@db/flightdeck"),
]


def env_name(section: type[BaseSettings], field: str) -> str:
    return f"{section.model_config.get('env_prefix')}{field.upper()}"


@pytest.mark.parametrize(("section", "field", "value"), SECRET_SETTINGS)
def test_the_file_variant_is_read_and_trimmed(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    section: type[BaseSettings],
    field: str,
    value: str,
) -> None:
    if field == "keys":
        monkeypatch.setenv("FLIGHTDECK_SECRETS__KEY", KEY)
    secret = tmp_path / "secret"
    secret.write_text(f"  {value}\n\n")
    monkeypatch.setenv(f"{env_name(section, field)}_FILE", str(secret))
    assert getattr(load_section(section), field) == value


@pytest.mark.parametrize(("section", "field", "value"), SECRET_SETTINGS)
def test_the_value_and_its_file_both_set_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    section: type[BaseSettings],
    field: str,
    value: str,
) -> None:
    secret = tmp_path / "secret"
    secret.write_text(value)
    name = env_name(section, field)
    monkeypatch.setenv(name, value)
    monkeypatch.setenv(f"{name}_FILE", str(secret))
    with pytest.raises(ConfigError) as caught:
        load_section(section)
    message = str(caught.value)
    assert name in message and f"{name}_FILE" in message and "\n" not in message
    assert value not in message


def test_a_file_in_the_toml_table_and_the_environment_is_an_error_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "flightdeck.toml"
    config.write_text(f'[secrets]\nkey = "{KEY}"\n')
    secret = tmp_path / "secret"
    secret.write_text(KEY)
    monkeypatch.setenv("FLIGHTDECK_CONFIG", str(config))
    monkeypatch.setenv("FLIGHTDECK_SECRETS__KEY_FILE", str(secret))
    with pytest.raises(ConfigError, match="FLIGHTDECK_SECRETS__KEY_FILE"):
        load_section(SecretsSettings)


def test_an_unreadable_file_names_the_setting_and_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("FLIGHTDECK_SECRETS__KEY_FILE", str(missing))
    with pytest.raises(ConfigError) as caught:
        load_section(SecretsSettings)
    assert str(caught.value).startswith("FLIGHTDECK_SECRETS__KEY_FILE:")
    assert str(missing) in str(caught.value)


def test_a_file_holding_a_short_key_is_refused_like_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("MTIzNDU=\n")  # 5 bytes
    monkeypatch.setenv("FLIGHTDECK_SECRETS__KEY_FILE", str(secret))
    with pytest.raises(ConfigError, match=r"^FLIGHTDECK_SECRETS__KEY: .*32 bytes"):
        load_section(SecretsSettings)

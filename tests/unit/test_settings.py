import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.runtime.settings import ConfigError, load_section, load_settings

pytestmark = pytest.mark.unit


class Sample(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLIGHTDECK_SAMPLE__")
    port: int = Field(8080, ge=1)


def test_a_wrong_value_is_one_line_naming_the_setting(monkeypatch) -> None:
    monkeypatch.setenv("FLIGHTDECK_SAMPLE__PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_section(Sample)
    assert str(caught.value).startswith("FLIGHTDECK_SAMPLE__PORT: Input should be a valid integer")
    assert "\n" not in str(caught.value)


def test_nested_central_settings_name_their_path(monkeypatch) -> None:
    monkeypatch.setenv("FLIGHTDECK_STREAMS__REPLICAS", "9")
    with pytest.raises(
        ConfigError, match=r"^FLIGHTDECK_STREAMS__REPLICAS: Input should be less than or equal to 5"
    ):
        load_settings()


def test_toml_file_under_environment(monkeypatch, tmp_path) -> None:
    config = tmp_path / "flightdeck.toml"
    config.write_text('log_level = "debug"\nnats_port = 15000\n')
    monkeypatch.setenv("FLIGHTDECK_CONFIG", str(config))
    monkeypatch.setenv("FLIGHTDECK_NATS_PORT", "16000")
    settings = load_settings()
    assert (settings.log_level, settings.nats_port) == ("debug", 16000)


def test_sections_read_their_toml_table_and_the_environment_wins(monkeypatch, tmp_path) -> None:
    config = tmp_path / "flightdeck.toml"
    config.write_text("[sample]\nport = 9000\n")
    monkeypatch.setenv("FLIGHTDECK_CONFIG", str(config))
    assert load_section(Sample).port == 9000
    monkeypatch.setenv("FLIGHTDECK_SAMPLE__PORT", "9100")
    assert load_section(Sample).port == 9100


def test_a_broken_toml_file_is_one_line(monkeypatch, tmp_path) -> None:
    config = tmp_path / "flightdeck.toml"
    config.write_text("[sample\nport = ")
    monkeypatch.setenv("FLIGHTDECK_CONFIG", str(config))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_section(Sample)

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
    config.write_text('log_level = "debug"\n[nats]\nport = 15000\n')
    monkeypatch.setenv("FLIGHTDECK_CONFIG", str(config))
    assert load_settings().nats.port == 15000
    monkeypatch.setenv("FLIGHTDECK_NATS__PORT", "16000")
    settings = load_settings()
    assert (settings.log_level, settings.nats.port) == ("debug", 16000)


def test_the_old_flat_nats_variables_are_named_not_ignored(monkeypatch) -> None:
    monkeypatch.setenv("FLIGHTDECK_NATS_URL", "nats://elsewhere:4222")
    with pytest.raises(ConfigError, match=r"^FLIGHTDECK_NATS_URL is now FLIGHTDECK_NATS__URL"):
        load_settings()


def test_nats_credentials_and_tls_files_must_exist_and_pair(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FLIGHTDECK_NATS__CREDS", str(tmp_path / "missing.creds"))
    with pytest.raises(
        ConfigError, match=r"^FLIGHTDECK_NATS__CREDS: Value error, no readable file at "
    ):
        load_settings()
    monkeypatch.delenv("FLIGHTDECK_NATS__CREDS")
    cert = tmp_path / "client.pem"
    cert.write_text("x")
    monkeypatch.setenv("FLIGHTDECK_NATS__TLS_CERT", str(cert))
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        load_settings()


def test_a_process_defaults_to_its_own_generated_seed(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FLIGHTDECK_STATE_DIR", str(tmp_path))
    assert load_settings().nats_for("prober").creds is None  # nothing generated: none
    (tmp_path / "nats-auth").mkdir()
    seed = tmp_path / "nats-auth" / "prober.nk"
    seed.write_text("SU…")
    assert load_settings().nats_for("prober").creds == seed
    chosen = tmp_path / "operator.creds"
    chosen.write_text("x")
    monkeypatch.setenv("FLIGHTDECK_NATS__CREDS", str(chosen))
    assert load_settings().nats_for("prober").creds == chosen  # the setting wins


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

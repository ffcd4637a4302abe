"""Configuration, in one place: ``FLIGHTDECK_*`` environment variables over a TOML file.

Every setting has a default that works for the embedded default on one machine.
Nested sections read from ``FLIGHTDECK_<SECTION>__<NAME>`` (for example
``FLIGHTDECK_STREAMS__REPLICAS=3``). A wrong value stops the process with one
line naming the setting, never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from flightdeck.events.streams import StreamSettings

ENV_PREFIX = "FLIGHTDECK_"
DEFAULT_NATS_PORT = 14222  # not 4222: a system nats-server may already live there


class ConfigError(Exception):
    """A setting has a value Flightdeck cannot use; the message names it."""


class StreamsConfig(BaseModel):
    """JetStream retention and replication (ADR 0002)."""

    model_config = {"use_attribute_docstrings": True}

    replicas: int = Field(1, ge=1, le=5)
    """Replicas of every stream (3 in a NATS cluster)."""
    cluster_max_age_s: float = Field(7 * 86_400.0, gt=0)
    """How long Kubernetes observations and image events are kept."""
    probes_max_age_s: float = Field(30 * 86_400.0, gt=0)
    """How long health-check results are kept."""
    logs_max_age_s: float = Field(3 * 86_400.0, gt=0)
    """How long pod log lines are kept."""
    logs_max_bytes: int = Field(1 << 30, gt=0)
    """The logs stream's size bound; the oldest lines go first."""
    commands_max_age_s: float = Field(86_400.0, gt=0)
    """How long commands to services are kept."""

    def to_stream_settings(self) -> StreamSettings:
        return StreamSettings(**self.model_dump())


NATS_CREDENTIALS_DIR = "nats-auth"
"""Where ``flightdeck up`` keeps the embedded server's NKey seeds, under the state dir."""

_RENAMED = {
    "FLIGHTDECK_NATS_URL": "FLIGHTDECK_NATS__URL",
    "FLIGHTDECK_NATS_PORT": "FLIGHTDECK_NATS__PORT",
}


class NatsConfig(BaseModel):
    """How this process reaches NATS and proves who it is (ADR 0013)."""

    model_config = {"use_attribute_docstrings": True}

    url: str | None = None
    """Use this NATS server (nats://host:port, tls://host:port) and start none."""
    port: int = Field(DEFAULT_NATS_PORT, ge=0, le=65535)
    """Port of the embedded nats-server (not 4222, where a system one may run)."""
    creds: Path | None = None
    """This process's credentials: a .creds file (JWT + seed) or an NKey seed file
    (default: the one flightdeck up generated in the state dir for this process)."""
    tls_ca: Path | None = None
    """CA bundle that signed the server's certificate (production: TLS to NATS)."""
    tls_cert: Path | None = None
    """Client certificate, when the server asks for one (with tls_key)."""
    tls_key: Path | None = None
    """The client certificate's private key (with tls_cert)."""

    @field_validator("creds", "tls_ca", "tls_cert", "tls_key")
    @classmethod
    def _readable(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"no readable file at {path}")
        return path

    @model_validator(mode="after")
    def _pair(self) -> NatsConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        return self

    @property
    def client_url(self) -> str:
        """The configured server, or the embedded one a running ``flightdeck up`` started."""
        return self.url or f"nats://127.0.0.1:{self.port or DEFAULT_NATS_PORT}"


class Settings(BaseSettings):
    """All of Flightdeck's settings. Services read the parts they need."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
        use_attribute_docstrings=True,
    )

    state_dir: Path = Path(".flightdeck")
    """Where the embedded NATS store, the SQLite read model, keys and logs live."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """debug, info, warning or error."""
    log_format: Literal["console", "json"] = "console"
    """console (for people) or json (for log collectors)."""
    database_url: str | None = None
    """The read model: sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db
    (default: SQLite in the state dir)."""
    secret_fields: ClassVar[tuple[str, ...]] = ("database_url",)  # may hold a password
    nats: NatsConfig = NatsConfig()
    streams: StreamsConfig = StreamsConfig()

    @property
    def nats_credentials_dir(self) -> Path:
        """Where ``flightdeck up`` generates the embedded server's credentials."""
        return self.state_dir / NATS_CREDENTIALS_DIR

    def nats_for(self, user: str) -> NatsConfig:
        """The NATS settings for a process acting as ``user`` (a service, ``cli``, ``admin``).

        ``FLIGHTDECK_NATS__CREDS`` wins; without it, the seed ``flightdeck up`` generated
        for ``user`` in the state dir, when there is one; else no credentials.
        """
        if self.nats.creds is not None:
            return self.nats
        seed = self.nats_credentials_dir / f"{user}.nk"
        if not seed.is_file():
            return self.nats
        return self.nats.model_copy(update={"creds": seed})

    @property
    def read_model_url(self) -> str:
        """``FLIGHTDECK_DATABASE_URL``, or the embedded default: SQLite in the state dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.state_dir / 'readmodel.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from flightdeck.runtime.secretfiles import SecretFileSource  # it imports ConfigError

        return (
            init_settings,
            SecretFileSource(settings_cls, cls.secret_fields),
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )


def _describe(error: ValidationError, prefix: str) -> str:
    first = error.errors()[0]
    name = "__".join(str(part) for part in first["loc"]).upper()
    return f"{prefix}{name}: {first['msg']} (got {first.get('input')!r})"


S = TypeVar("S", bound=BaseSettings)


def config_file() -> Path:
    """The TOML file: ``FLIGHTDECK_CONFIG``, else ``flightdeck.toml`` here (optional)."""
    return Path(os.environ.get(f"{ENV_PREFIX}CONFIG", "flightdeck.toml"))


def section_name(section: type[BaseSettings]) -> str:
    """``FLIGHTDECK_GATEWAY__`` → ``gateway``: the section's table in the TOML file."""
    prefix = str(section.model_config.get("env_prefix") or "")
    return prefix.removeprefix(ENV_PREFIX).rstrip("_").lower()


def _from_file(section: type[BaseSettings]) -> dict[str, Any]:
    """The section's TOML table, minus what the environment sets (env wins)."""
    path = config_file()
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text()).get(section_name(section), {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    prefix = str(section.model_config.get("env_prefix") or "")
    return {k: v for k, v in table.items() if f"{prefix}{k.upper()}" not in os.environ}


def load_section(section: type[S], **overrides: Any) -> S:
    """A service's own settings section, validated; :class:`ConfigError` names the setting.

    Every section is a pydantic-settings class with an ``env_prefix`` under
    ``FLIGHTDECK_`` (``FLIGHTDECK_GATEWAY__PORT`` …), also read from the TOML
    file's matching table (``[gateway] port = 8080``); the environment wins. A
    wrong value becomes one line such as
    ``FLIGHTDECK_GATEWAY__PORT: Input should be a valid integer (got 'x')``.
    """
    try:
        if section is Settings:
            _refuse_renamed()
            return section(**overrides)
        return section(**{**_from_file(section), **overrides})
    except ValidationError as exc:
        prefix = str(section.model_config.get("env_prefix") or "")
        raise ConfigError(_describe(exc, prefix)) from None


def _refuse_renamed() -> None:
    """An old variable left set would be ignored silently: say what it is called now."""
    for old, new in _RENAMED.items():
        if old in os.environ:
            raise ConfigError(f"{old} is now {new}: rename it")


def load_settings(**overrides: Any) -> Settings:
    """The settings of this process; raises :class:`ConfigError` with one clear line."""
    return load_section(Settings, **overrides)

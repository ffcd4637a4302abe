"""Secret settings from files: ``<SETTING>_FILE`` beside every ``<SETTING>`` that holds a secret.

An environment variable is readable by anything that can read the process's
environment (``/proc/<pid>/environ``, ``docker inspect``, a crash report); a
file mounted from a secret store (Docker or Kubernetes secrets) is not. So each
secret setting also reads ``<SETTING>_FILE``: the file's content, trimmed.
Setting both, or the file and the TOML key, is an error: which one was meant?
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from flightdeck.runtime.settings import ConfigError


def file_variable(section: type[BaseSettings], field: str) -> str:
    """``FLIGHTDECK_SECRETS__KEY_FILE`` for ``SecretsSettings.key``."""
    return f"{section.model_config.get('env_prefix') or ''}{field.upper()}_FILE"


class SecretFileSource(PydanticBaseSettingsSource):
    """Reads ``<PREFIX><FIELD>_FILE`` for each of the section's ``secret_fields``."""

    def __init__(self, settings_cls: type[BaseSettings], fields: tuple[str, ...]) -> None:
        super().__init__(settings_cls)
        self._fields = fields

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ does the work

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self._fields:
            variable = file_variable(self.settings_cls, name)
            path = os.environ.get(variable)
            if not path:
                continue
            direct = variable.removesuffix("_FILE")
            if os.environ.get(direct) or name in self.current_state:
                raise ConfigError(f"{direct} and {variable} are both set: set one of them")
            try:
                out[name] = Path(path).read_text().strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                raise ConfigError(f"{variable}: cannot read {path}: {reason}") from None
        return out


class SecretFileSettings(BaseSettings):
    """A settings section whose ``secret_fields`` may also come from ``<SETTING>_FILE``."""

    secret_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # After the init values (which hold the TOML table), so a clash with them shows.
        return (
            init_settings,
            SecretFileSource(settings_cls, cls.secret_fields),
            env_settings,
            dotenv_settings,
            file_secret_settings,
        )

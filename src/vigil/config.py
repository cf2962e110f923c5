"""Settings from the environment (prefix `VIGIL_`), validated once at start-up.

Only plain values live here: no executable configuration. The domains receive what they
need as arguments; only the CLI and the server read `Settings`.
"""

import os
import pathlib
import typing as t

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "vigil"
DATABASE_FILENAME = "vigil.sqlite3"


def default_home() -> pathlib.Path:
    """The platform data directory for Vigil's state (overridable with VIGIL_HOME)."""
    return pathlib.Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    """Vigil settings. Every field can be set as `VIGIL_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    home: pathlib.Path = Field(default_factory=default_home)
    database_url: str | None = None
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # options of configurable plugins, by plugin name, as JSON in the environment:
    # VIGIL_PLUGIN_OPTIONS='{"pdq": {"pipeline": "full"}}'
    plugin_options: dict[str, dict[str, t.Any]] = Field(default_factory=dict)

    # the console (vigil serve)
    # dev mode: plain-HTTP cookies, and refuses to serve anywhere but loopback
    dev_mode: bool = False
    # the organisation's welfare defaults; each user may change their own
    # (Coop's defaults: blur 2 of 6, greyscale on; the budget is Vigil's own:
    # graders work about four hours a day with a break every hour)
    blur_level: int = Field(default=2, ge=0, le=6)
    greyscale: bool = True
    sepia: bool = False
    hash_only: bool = False
    daily_view_minutes: int = Field(default=240, ge=1)
    break_every_minutes: int = Field(default=60, ge=1)
    # failed sign-ins per user name or client within 15 minutes before refusing
    max_login_failures: int = Field(default=5, ge=1)

    # the reporting person on CyberTipline report files (vigil cybertip)
    reporter_first_name: str | None = None
    reporter_last_name: str | None = None
    reporter_email: str | None = None
    reporter_organisation: str | None = None
    reporter_phone: str | None = None

    @property
    def resolved_database_url(self) -> str:
        """`VIGIL_DATABASE_URL`, or the SQLite file in `VIGIL_HOME`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / DATABASE_FILENAME}"

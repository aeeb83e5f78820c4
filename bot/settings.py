"""Runtime settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.quick_version import sqlite_file

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/skillbot.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    bot_token: str | None = None
    telegram_api_url: str | None = None
    # Webhook mode: Telegram sends it in X-Telegram-Bot-Api-Secret-Token; anything without it is refused.
    webhook_secret: str | None = None
    # Comma-separated Telegram user ids allowed to run admin actions from chat.
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    log_level: str = "INFO"
    # Certificate lookups: per chat user within the window, and for everyone per minute.
    cert_lookups_per_user: int = 10
    cert_lookup_window_minutes: int = 10
    cert_lookups_per_minute: int = 600
    # Where built indexes are saved and loaded from (knowledge.snapshots). Empty: `index/`
    # beside the SQLite database file, or var/index for other databases; "off": never saved.
    index_dir: str = ""

    def snapshot_dir(self) -> Path | None:
        if self.index_dir.strip().lower() == "off":
            return None
        if self.index_dir.strip():
            return Path(self.index_dir.strip())
        database = sqlite_file(self.database_url)
        return Path(database).parent / "index" if database else Path("var/index")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        return value

    @field_validator("bot_token", "telegram_api_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]

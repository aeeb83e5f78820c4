"""The web console's own settings (WEB_* in the environment or `.env`), beside bot.settings."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Signs session cookies and forms. Empty: a random key kept in the database, so every
    # instance on that database shares it and sessions survive restarts.
    secret_key: str = ""
    # A session ends after this long without a request, and in any case this long after sign-in.
    session_idle_minutes: int = 120
    session_max_hours: int = 12
    # Secure cookies: None follows the request (HTTPS, also behind a proxy that says so).
    cookie_secure: bool | None = None
    # Sign-in failures allowed per user name and per address within the window.
    sign_in_failures_per_user: int = 5
    sign_in_failures_per_ip: int = 20
    sign_in_window_minutes: int = 15
    max_notice_mb: float = 4.0
    max_roster_mb: float = 200.0
    # How often the console looks for notices or bank questions changed by another process.
    knowledge_check_s: float = 30.0
    # Times are shown, and date filters read, in this zone (the hotline's).
    timezone: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def max_age(self) -> timedelta:
        return timedelta(hours=self.session_max_hours)

    @property
    def sign_in_window(self) -> timedelta:
        return timedelta(minutes=self.sign_in_window_minutes)

"""Dashboard settings, read from the environment beside the service's `Settings`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.config import Settings


class DashboardSettings(BaseSettings):
    """Cookie, session and login-limit settings; `DASHBOARD_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="DASHBOARD_", case_sensitive=False, extra="ignore")

    # None: Secure in production, plain http allowed in development (localhost has no TLS).
    cookie_secure: bool | None = None
    idle_minutes: float = Field(default=30.0, gt=0)
    max_session_hours: float = Field(default=12.0, gt=0)
    login_window_minutes: float = Field(default=15.0, gt=0)
    login_failures_per_name: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    refresh_seconds: int = Field(default=5, ge=1, le=300)

    def secure_cookies(self, settings: Settings) -> bool:
        """Whether cookies carry the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return settings.triage_env == "production"

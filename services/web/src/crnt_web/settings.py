"""The web's settings: where the services answer, the session's secret, its port.

The web keeps no database and reads no Kafka topic: it is a backend-for-frontend that calls
the services' HTTP APIs on behalf of the signed-in person.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from crnt_shared.settings import ProcessSettings
from pydantic import AliasChoices, AnyHttpUrl, Field, PositiveInt, SecretStr
from pydantic_settings import SettingsConfigDict

DEV_SESSION_SECRET = "dev-web-session-secret"  # noqa: S105 - refused in production


def _default_assets() -> Path:
    """``node_modules`` at the repository root, where ``make install`` runs ``npm ci``."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "package.json").is_file():
            return parent / "node_modules"
    return Path.cwd() / "node_modules"


class WebSettings(ProcessSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_")
    development_secrets: ClassVar[Mapping[str, str]] = {"session_secret": DEV_SESSION_SECRET}

    registry_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8001"), validation_alias="CRNT_REGISTRY_URL"
    )
    programme_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8002"), validation_alias="CRNT_PROGRAMME_URL"
    )
    budget_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8003"), validation_alias="CRNT_BUDGET_URL"
    )
    notifications_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8004"), validation_alias="CRNT_NOTIFICATIONS_URL"
    )
    identity_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8005"), validation_alias="CRNT_IDENTITY_URL"
    )
    session_secret: SecretStr = SecretStr(DEV_SESSION_SECRET)
    session_max_age_seconds: PositiveInt = 12 * 3600
    assets_dir: Path = Field(default_factory=_default_assets)
    mail_catcher_url: AnyHttpUrl | None = Field(
        default=None,
        validation_alias=AliasChoices("WEB_MAIL_CATCHER_URL", "MAILCATCHER_URL"),
        description="Shown on the sign-in page in development: where the mailed link arrives.",
    )
    api_timeout_seconds: float = Field(default=10.0, gt=0, validation_alias="WEB_API_TIMEOUT")

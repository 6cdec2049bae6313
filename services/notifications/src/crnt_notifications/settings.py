"""The notifications service's settings: the shared ones, its database, SMTP, who the agency is,
the coalescing window, delivery retries, and the unsubscribe links."""

from collections.abc import Mapping
from typing import ClassVar

from crnt_shared.settings import CommaList, ServiceSettings, SmtpSettings
from pydantic import (
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
)
from pydantic_settings import SettingsConfigDict

DEV_UNSUBSCRIBE_SECRET = "dev-unsubscribe-secret"  # noqa: S105 - refused in production


class NotificationsSettings(SmtpSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_")
    development_secrets: ClassVar[Mapping[str, str]] = {
        "unsubscribe_secret": DEV_UNSUBSCRIBE_SECRET
    }

    http_port: int = Field(default=8004, validation_alias="HTTP_PORT")

    #: Who hears about applications and membership changes at the agency (comma-separated).
    agency_emails: CommaList = Field(default_factory=list)
    #: Who signs every mail, and the address its footer gives as the contact (by default the
    #: first of NOTIFICATIONS_AGENCY_EMAILS, else SMTP_FROM).
    agency_name: str = Field(
        default="Agence d'urbanisme et de développement de la région de Saint-Omer",
        min_length=1,
    )
    contact_email: str | None = None
    #: A delivery's recipient, subject and bodies are kept this long, then pseudonymised.
    delivery_retention_days: PositiveFloat = 365.0
    #: Share changes and new-member announcements wait this long to be sent as one email.
    coalescing_window_seconds: NonNegativeFloat = 180.0
    delivery_max_attempts: PositiveInt = 12
    delivery_backoff_seconds: PositiveFloat = 30.0
    delivery_backoff_max_seconds: PositiveFloat = 1800.0
    #: Emails handed to the SMTP server at once (each holds a database connection meanwhile).
    sender_concurrency: int = Field(default=4, ge=1, le=32)
    sender_poll_seconds: PositiveFloat = 1.0

    unsubscribe_secret: SecretStr = SecretStr(DEV_UNSUBSCRIBE_SECRET)
    #: Where people reach this service's API, for the links in emails.
    public_base_url: str = Field(
        default="http://127.0.0.1:8004", validation_alias="NOTIFICATIONS_PUBLIC_URL"
    )

    #: Where people reach the web, for the links to its pages (the list of new places).
    web_url: str = "http://127.0.0.1:8000"
    #: A new-members mail names each place up to this many; beyond, it counts them by EPCI.
    new_members_listed_at_most: PositiveInt = 20

    consumer_group: str = "notifications"
    registry_topic: str | None = None
    budget_topic: str | None = None
    programme_topic: str | None = None
    notifications_topic: str | None = Field(default=None, validation_alias="NOTIFICATIONS_TOPIC")

    @field_validator("public_base_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def contact(self) -> str:
        return self.contact_email or next(iter(self.agency_emails), None) or self.smtp_from

"""The notifications service's settings: the shared ones, its database, SMTP, who the agency is,
the coalescing window, delivery retries, and the unsubscribe links."""

from crnt_shared.settings import CommaList, ServiceSettings, SmtpSettings, refuse_placeholder
from pydantic import Field, PostgresDsn, SecretStr, field_validator, model_validator

DEV_UNSUBSCRIBE_SECRET = "dev-unsubscribe-secret"  # noqa: S105 - refused in production


class NotificationsSettings(SmtpSettings, ServiceSettings):
    database_url: PostgresDsn = Field(validation_alias="NOTIFICATIONS_DATABASE_URL")
    http_port: int = 8004

    #: Who hears about applications and membership changes at the agency (comma-separated).
    agency_emails: CommaList = Field(
        default_factory=list, validation_alias="NOTIFICATIONS_AGENCY_EMAILS"
    )
    #: Who signs every mail, and the address its footer gives as the contact (by default the
    #: first of NOTIFICATIONS_AGENCY_EMAILS, else SMTP_FROM).
    agency_name: str = Field(
        default="Agence d'urbanisme et de développement de la région de Saint-Omer",
        min_length=1,
        validation_alias="NOTIFICATIONS_AGENCY_NAME",
    )
    contact_email: str | None = Field(default=None, validation_alias="NOTIFICATIONS_CONTACT_EMAIL")
    #: A delivery's recipient, subject and bodies are kept this long, then pseudonymised.
    delivery_retention_days: float = Field(
        default=365.0, gt=0, validation_alias="NOTIFICATIONS_DELIVERY_RETENTION_DAYS"
    )
    #: Share changes and new-member announcements wait this long to be sent as one email.
    coalescing_window_seconds: float = Field(
        default=180.0, ge=0, validation_alias="NOTIFICATIONS_COALESCING_WINDOW_SECONDS"
    )
    delivery_max_attempts: int = Field(
        default=12, ge=1, validation_alias="NOTIFICATIONS_DELIVERY_MAX_ATTEMPTS"
    )
    delivery_backoff_seconds: float = Field(
        default=30.0, gt=0, validation_alias="NOTIFICATIONS_DELIVERY_BACKOFF_SECONDS"
    )
    delivery_backoff_max_seconds: float = Field(
        default=1800.0, gt=0, validation_alias="NOTIFICATIONS_DELIVERY_BACKOFF_MAX_SECONDS"
    )
    #: Emails handed to the SMTP server at once (each holds a database connection meanwhile).
    sender_concurrency: int = Field(
        default=4, ge=1, le=32, validation_alias="NOTIFICATIONS_SENDER_CONCURRENCY"
    )
    sender_poll_seconds: float = Field(
        default=1.0, gt=0, validation_alias="NOTIFICATIONS_SENDER_POLL_SECONDS"
    )

    unsubscribe_secret: SecretStr = Field(
        default=SecretStr(DEV_UNSUBSCRIBE_SECRET),
        validation_alias="NOTIFICATIONS_UNSUBSCRIBE_SECRET",
    )
    #: Where people reach this service's API, for the links in emails.
    public_base_url: str = Field(
        default="http://127.0.0.1:8004", validation_alias="NOTIFICATIONS_PUBLIC_URL"
    )

    #: Where people reach the web, for the links to its pages (the list of new places).
    web_url: str = Field(default="http://127.0.0.1:8000", validation_alias="NOTIFICATIONS_WEB_URL")
    #: A new-members mail names each place up to this many; beyond, it counts them by EPCI.
    new_members_listed_at_most: int = Field(
        default=20, ge=1, validation_alias="NOTIFICATIONS_NEW_MEMBERS_LISTED_AT_MOST"
    )

    consumer_group: str = Field(
        default="notifications", validation_alias="NOTIFICATIONS_CONSUMER_GROUP"
    )
    registry_topic: str | None = Field(
        default=None, validation_alias="NOTIFICATIONS_REGISTRY_TOPIC"
    )
    budget_topic: str | None = Field(default=None, validation_alias="NOTIFICATIONS_BUDGET_TOPIC")
    programme_topic: str | None = Field(
        default=None, validation_alias="NOTIFICATIONS_PROGRAMME_TOPIC"
    )
    notifications_topic: str | None = Field(default=None, validation_alias="NOTIFICATIONS_TOPIC")

    @field_validator("public_base_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _real_secret_in_production(self) -> "NotificationsSettings":
        refuse_placeholder(
            self.env,
            "NOTIFICATIONS_UNSUBSCRIBE_SECRET",
            self.unsubscribe_secret.get_secret_value(),
            development=DEV_UNSUBSCRIBE_SECRET,
        )
        return self

    @property
    def contact(self) -> str:
        return self.contact_email or next(iter(self.agency_emails), None) or self.smtp_from

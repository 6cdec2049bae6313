"""The registry's settings: the shared ones, its database, its port, the confirmation of
anonymous applications' addresses and the rate limit of anonymous applications."""

from datetime import timedelta

from crnt_shared.settings import CommaList, ServiceSettings
from pydantic import Field, PostgresDsn


class RegistrySettings(ServiceSettings):
    database_url: PostgresDsn = Field(validation_alias="REGISTRY_DATABASE_URL")
    http_port: int = 8001

    #: Anonymous applications a client (its peer address) may submit per window.
    applications_per_client: int = Field(
        default=10, ge=1, validation_alias="REGISTRY_APPLICATIONS_PER_CLIENT"
    )
    applications_client_window_seconds: float = Field(
        default=3600.0, gt=0, validation_alias="REGISTRY_APPLICATIONS_CLIENT_WINDOW_SECONDS"
    )
    #: Peers whose X-Forwarded-For names the client (the web front end, a load balancer).
    trusted_proxies: CommaList = Field(
        default_factory=list, validation_alias="REGISTRY_TRUSTED_PROXIES"
    )
    #: An anonymous application that no address confirmed expires after this many days.
    unconfirmed_application_days: float = Field(
        default=14.0, gt=0, validation_alias="REGISTRY_UNCONFIRMED_APPLICATION_DAYS"
    )
    #: An address asked to confirm is not asked again (by any application) for this long.
    confirmation_resend_hours: float = Field(
        default=24.0, gt=0, validation_alias="REGISTRY_CONFIRMATION_RESEND_HOURS"
    )
    #: How often the expirer looks for expired applications (and purges old rate limits).
    expiry_poll_seconds: float = Field(
        default=300.0, gt=0, validation_alias="REGISTRY_EXPIRY_POLL_SECONDS"
    )

    consumer_group: str = Field(default="registry", validation_alias="REGISTRY_CONSUMER_GROUP")
    notifications_topic: str | None = Field(
        default=None, validation_alias="REGISTRY_NOTIFICATIONS_TOPIC"
    )

    @property
    def applications_client_window(self) -> timedelta:
        return timedelta(seconds=self.applications_client_window_seconds)

    @property
    def confirmation_resend_after(self) -> timedelta:
        return timedelta(hours=self.confirmation_resend_hours)

"""The registry's settings: the shared ones, its database, its port, the confirmation of
anonymous applications' addresses and the rate limit of anonymous applications."""

from datetime import timedelta

from crnt_shared.settings import CommaList, ServiceSettings
from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import SettingsConfigDict


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_")

    http_port: int = Field(default=8001, validation_alias="HTTP_PORT")

    #: Anonymous applications a client (its peer address) may submit per window.
    applications_per_client: PositiveInt = 10
    applications_client_window_seconds: PositiveFloat = 3600.0
    #: Peers whose X-Forwarded-For names the client (the web front end, a load balancer).
    trusted_proxies: CommaList = Field(default_factory=list)
    #: An anonymous application that no address confirmed expires after this many days.
    unconfirmed_application_days: PositiveFloat = 14.0
    #: An address asked to confirm is not asked again (by any application) for this long.
    confirmation_resend_hours: PositiveFloat = 24.0
    #: How often the expirer looks for expired applications (and purges old rate limits).
    expiry_poll_seconds: PositiveFloat = 300.0

    consumer_group: str = "registry"
    notifications_topic: str | None = None

    @property
    def applications_client_window(self) -> timedelta:
        return timedelta(seconds=self.applications_client_window_seconds)

    @property
    def confirmation_resend_after(self) -> timedelta:
        return timedelta(hours=self.confirmation_resend_hours)

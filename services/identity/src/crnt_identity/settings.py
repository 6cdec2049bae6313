"""Identity's settings: the shared ones, its database and port, SMTP for the sign-in links,
the first people of each role, token and session lifetimes, keys and rate limits."""

from crnt_shared.auth import MAX_TOKEN_SECONDS
from crnt_shared.settings import (
    AddressList,
    CommaList,
    ServiceSettings,
    SmtpSettings,
    refuse_placeholder,
)
from pydantic import Field, PostgresDsn, SecretStr, model_validator

DEV_KEY_PASSPHRASE = "dev-identity-key-passphrase"  # noqa: S105 - refused in production


class IdentitySettings(SmtpSettings, ServiceSettings):
    database_url: PostgresDsn = Field(validation_alias="IDENTITY_DATABASE_URL")
    http_port: int = 8005

    #: The first people of each role (comma-separated addresses), applied at every start.
    agency_emails: AddressList = Field(default_factory=list, validation_alias="CRNT_AGENCY_EMAILS")
    copil_emails: AddressList = Field(default_factory=list, validation_alias="CRNT_COPIL_EMAILS")

    #: The page of the web that redeems a link: the mail links to ``<url>?jeton=<secret>``.
    sign_in_url: str = Field(
        default="http://127.0.0.1:8000/connexion/lien", validation_alias="IDENTITY_SIGN_IN_URL"
    )
    access_token_seconds: int = Field(
        default=MAX_TOKEN_SECONDS,
        ge=30,
        le=MAX_TOKEN_SECONDS,
        validation_alias="IDENTITY_ACCESS_TOKEN_SECONDS",
    )
    session_hours: float = Field(default=12.0, gt=0, validation_alias="IDENTITY_SESSION_HOURS")

    #: Encrypts the private signing keys in the database (PKCS #8, scrypt + AES).
    key_passphrase: SecretStr = Field(
        default=SecretStr(DEV_KEY_PASSPHRASE), validation_alias="IDENTITY_KEY_PASSPHRASE"
    )
    key_rotation_days: float = Field(
        default=30.0, gt=0, validation_alias="IDENTITY_KEY_ROTATION_DAYS"
    )
    #: A new key is announced this long before it signs, so that every service knows it first.
    key_announce_seconds: float = Field(
        default=60.0, ge=0, validation_alias="IDENTITY_KEY_ANNOUNCE_SECONDS"
    )
    key_check_seconds: float = Field(
        default=60.0, gt=0, validation_alias="IDENTITY_KEY_CHECK_SECONDS"
    )

    sign_in_per_address_per_hour: int = Field(
        default=5, ge=1, validation_alias="IDENTITY_SIGN_IN_PER_ADDRESS_PER_HOUR"
    )
    sign_in_per_client_per_hour: int = Field(
        default=30, ge=1, validation_alias="IDENTITY_SIGN_IN_PER_CLIENT_PER_HOUR"
    )

    #: Proxies (the web) whose X-Forwarded-For names the client, for the per-client limit.
    trusted_proxies: CommaList = Field(
        default_factory=list, validation_alias="IDENTITY_TRUSTED_PROXIES"
    )

    registry_topic: str | None = Field(default=None, validation_alias="IDENTITY_REGISTRY_TOPIC")
    consumer_group: str = Field(default="identity", validation_alias="IDENTITY_CONSUMER_GROUP")

    @model_validator(mode="after")
    def _real_passphrase_in_production(self) -> "IdentitySettings":
        refuse_placeholder(
            self.env,
            "IDENTITY_KEY_PASSPHRASE",
            self.key_passphrase.get_secret_value(),
            development=DEV_KEY_PASSPHRASE,
        )
        return self

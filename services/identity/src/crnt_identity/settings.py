"""Identity's settings: the shared ones, its database and port, SMTP for the sign-in links,
the first people of each role, token and session lifetimes, keys and rate limits."""

from collections.abc import Mapping
from typing import ClassVar

from crnt_shared.auth import MAX_TOKEN_SECONDS
from crnt_shared.settings import AddressList, CommaList, ServiceSettings, SmtpSettings
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, SecretStr
from pydantic_settings import SettingsConfigDict

DEV_KEY_PASSPHRASE = "dev-identity-key-passphrase"  # noqa: S105 - refused in production


class IdentitySettings(SmtpSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_")
    development_secrets: ClassVar[Mapping[str, str]] = {"key_passphrase": DEV_KEY_PASSPHRASE}

    http_port: int = Field(default=8005, validation_alias="HTTP_PORT")

    #: The first people of each role (comma-separated addresses), applied at every start.
    agency_emails: AddressList = Field(default_factory=list, validation_alias="CRNT_AGENCY_EMAILS")
    copil_emails: AddressList = Field(default_factory=list, validation_alias="CRNT_COPIL_EMAILS")

    #: The page of the web that redeems a link: the mail links to ``<url>?jeton=<secret>``.
    sign_in_url: str = "http://127.0.0.1:8000/connexion/lien"
    access_token_seconds: int = Field(default=MAX_TOKEN_SECONDS, ge=30, le=MAX_TOKEN_SECONDS)
    session_hours: PositiveFloat = 12.0

    #: Encrypts the private signing keys in the database (PKCS #8, scrypt + AES).
    key_passphrase: SecretStr = SecretStr(DEV_KEY_PASSPHRASE)
    key_rotation_days: PositiveFloat = 30.0
    #: A new key is announced this long before it signs, so that every service knows it first.
    key_announce_seconds: NonNegativeFloat = 60.0
    key_check_seconds: PositiveFloat = 60.0

    sign_in_per_address_per_hour: PositiveInt = 5
    sign_in_per_client_per_hour: PositiveInt = 30

    #: Proxies (the web) whose X-Forwarded-For names the client, for the per-client limit.
    trusted_proxies: CommaList = Field(default_factory=list)

    registry_topic: str | None = None
    consumer_group: str = "identity"

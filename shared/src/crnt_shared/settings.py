"""The settings every service shares, from the environment (documented in ``.env.example``).

Secrets have no default: a service without its tokens does not start. In production
(``CRNT_ENV=production``) the development placeholders are refused as well, and so are the
development values of the secrets a service ships one for (``development_secrets``).

A service's own variables carry its name: its settings set ``env_prefix`` (``BUDGET_``), and a
field ``consumer_group`` reads ``BUDGET_CONSUMER_GROUP`` (``BUDGET_DATABASE_URL`` for the
``database_url`` of the base); the variables every process reads the same (``HTTP_PORT``,
``KAFKA_BOOTSTRAP_SERVERS``, ``CRNT_*``) name themselves, whatever the prefix.
"""

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BeforeValidator,
    Field,
    PositiveFloat,
    PositiveInt,
    PostgresDsn,
    SecretStr,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from crnt_shared.topics import DEFAULT_PREFIX, SERVICES, Topics

PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "dev-agency-token", "dev-copil-token", "crnt"}
)
MIN_PRODUCTION_SECRET_LENGTH = 24


def _split(value: object, *, lower: bool = False) -> object:
    if isinstance(value, str):
        parts = (part.strip() for part in value.split(","))
        return [part.lower() if lower else part for part in parts if part]
    return value


#: A list given as comma-separated values in one variable (``a, b,c`` → ``["a", "b", "c"]``).
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split)]
#: Email addresses, comma-separated, compared in lower case.
AddressList = Annotated[list[str], NoDecode, BeforeValidator(lambda v: _split(v, lower=True))]


def refuse_placeholder(env: str, name: str, secret: str, *, development: str = "") -> None:
    """In production, refuse a secret that is a known placeholder (``development``: the value
    the service ships for development) or too short to be random."""
    if env != "production":
        return
    if (
        secret.lower() in PLACEHOLDER_SECRETS
        or secret == development
        or len(secret) < MIN_PRODUCTION_SECRET_LENGTH
    ):
        raise ValueError(
            f"{name} is a placeholder or shorter than {MIN_PRODUCTION_SECRET_LENGTH} "
            "characters: set a long random value (e.g. `openssl rand -hex 32`) "
            "when CRNT_ENV=production"
        )


class ProcessSettings(BaseSettings):
    """What every process of the system reads: its environment, where it listens, its logs."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    #: The secrets a subclass ships a development value for, by field: refused in production
    #: while they keep it.
    development_secrets: ClassVar[Mapping[str, str]] = {}

    env: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="CRNT_ENV"
    )
    http_host: str = Field(default="127.0.0.1", validation_alias="HTTP_HOST")
    http_port: int = Field(default=8000, validation_alias="HTTP_PORT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="LOG_LEVEL"
    )
    log_json: bool = Field(default=True, validation_alias="LOG_JSON")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Self:
        prefix = self.model_config.get("env_prefix", "")
        for name, development in self.development_secrets.items():
            alias = type(self).model_fields[name].validation_alias
            variable = alias if isinstance(alias, str) else f"{prefix}{name}".upper()
            secret: SecretStr = getattr(self, name)
            refuse_placeholder(
                self.env, variable, secret.get_secret_value(), development=development
            )
        return self


class SmtpSettings(BaseSettings):
    """The SMTP server of the services that send mail (identity's links, notifications)."""

    smtp_host: str = Field(default="127.0.0.1", validation_alias="SMTP_HOST")
    smtp_port: int = Field(default=1025, ge=1, le=65535, validation_alias="SMTP_PORT")
    smtp_from: str = Field(default="crnt@example.org", validation_alias="SMTP_FROM")
    smtp_starttls: bool = Field(default=False, validation_alias="SMTP_STARTTLS")
    smtp_tls: bool = Field(default=False, validation_alias="SMTP_TLS")
    smtp_username: str | None = Field(default=None, validation_alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, validation_alias="SMTP_PASSWORD")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, validation_alias="SMTP_TIMEOUT")

    def smtp_options(self) -> dict[str, Any]:
        """The connection's arguments, as ``aiosmtplib.SMTP`` and ``aiosmtplib.send`` take them."""
        password = self.smtp_password.get_secret_value() if self.smtp_password else None
        return {
            "hostname": self.smtp_host,
            "port": self.smtp_port,
            "username": self.smtp_username,
            "password": password,
            "use_tls": self.smtp_tls,
            "start_tls": self.smtp_starttls,
            "timeout": self.smtp_timeout_seconds,
        }


class ServiceSettings(ProcessSettings):
    """Subclasses add ``database_url`` under their own variable name and their own defaults.

    Topics: every service's topic is ``<CRNT_TOPIC_PREFIX>.<service>.events``; a subclass may
    declare ``<service>_topic: str | None`` to let a variable of its own name another one (tests
    and benchmarks run on topics of their own). :attr:`topics` resolves them all, in one place.
    """

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    #: ``<PREFIX>DATABASE_URL``: every service has a database of its own.
    database_url: PostgresDsn
    agency_token: SecretStr = Field(validation_alias="CRNT_AGENCY_TOKEN")
    copil_token: SecretStr = Field(validation_alias="CRNT_COPIL_TOKEN")
    identity_jwks: str | None = Field(
        default=None,
        validation_alias="CRNT_IDENTITY_JWKS",
        description="The identity service's public keys (JWKS as JSON, or a file's path).",
    )
    topic_prefix: str = Field(
        default=DEFAULT_PREFIX, min_length=1, validation_alias="CRNT_TOPIC_PREFIX"
    )
    identity_topic: str | None = Field(default=None, validation_alias="CRNT_IDENTITY_TOPIC")
    identity_consumer_group: str | None = Field(
        default=None, validation_alias="CRNT_IDENTITY_CONSUMER_GROUP"
    )
    max_body_bytes: PositiveInt = Field(default=1_048_576, validation_alias="MAX_BODY_BYTES")
    db_pool_max_size: PositiveInt = Field(default=10, validation_alias="DB_POOL_MAX_SIZE")
    outbox_poll_seconds: PositiveFloat = Field(default=1.0, validation_alias="OUTBOX_POLL_SECONDS")
    outbox_batch_size: PositiveInt = Field(default=500, validation_alias="OUTBOX_BATCH_SIZE")
    outbox_retention_days: PositiveFloat = Field(
        default=7.0, validation_alias="CRNT_OUTBOX_RETENTION_DAYS"
    )
    retention_every_seconds: PositiveFloat = Field(
        default=3600.0, validation_alias="CRNT_RETENTION_EVERY_SECONDS"
    )
    consumer_max_attempts: PositiveInt = Field(default=5, validation_alias="CONSUMER_MAX_ATTEMPTS")
    consumer_backoff_seconds: PositiveFloat = Field(
        default=0.2, validation_alias="CONSUMER_BACKOFF_SECONDS"
    )
    consumer_backoff_max_seconds: PositiveFloat = Field(
        default=30.0, validation_alias="CONSUMER_BACKOFF_MAX_SECONDS"
    )

    @property
    def topics(self) -> Topics:
        overrides = {
            service: topic
            for service in SERVICES
            if (topic := getattr(self, f"{service}_topic", None))
        }
        return Topics(self.topic_prefix, overrides)

    @model_validator(mode="after")
    def _one_token_per_role(self) -> "ServiceSettings":
        # Equal tokens resolve every caller to the agency: the COPIL could never validate.
        if self.agency_token.get_secret_value() == self.copil_token.get_secret_value():
            raise ValueError(
                "CRNT_AGENCY_TOKEN and CRNT_COPIL_TOKEN must differ: with equal tokens every "
                "caller is the agency and the steering committee cannot act"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> "ServiceSettings":
        if self.env != "production":
            return self
        for name in ("agency_token", "copil_token"):
            refuse_placeholder(self.env, name, getattr(self, name).get_secret_value())
        password = self.database_url.hosts()[0].get("password") or ""
        if password.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("the database password is a placeholder: set a real one in production")
        return self

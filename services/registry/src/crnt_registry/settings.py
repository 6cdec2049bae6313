"""The registry's settings: the shared ones, its database and its port."""

from crnt_shared.settings import ServiceSettings
from pydantic import Field, PostgresDsn


class RegistrySettings(ServiceSettings):
    database_url: PostgresDsn = Field(validation_alias="REGISTRY_DATABASE_URL")
    http_port: int = 8001

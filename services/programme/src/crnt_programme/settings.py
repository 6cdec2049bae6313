"""The programme's settings: the shared ones, its database, its port and the topics it reads."""

from crnt_shared.settings import ServiceSettings
from pydantic import Field, PostgresDsn


class ProgrammeSettings(ServiceSettings):
    database_url: PostgresDsn = Field(validation_alias="PROGRAMME_DATABASE_URL")
    http_port: int = 8002
    #: Where membership events come from (a per-test topic in integration tests).
    registry_topic: str | None = Field(default=None, validation_alias="PROGRAMME_REGISTRY_TOPIC")
    consumer_group: str = Field(default="programme", validation_alias="PROGRAMME_CONSUMER_GROUP")

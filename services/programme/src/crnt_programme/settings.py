"""The programme's settings: the shared ones, its database, its port and the topics it reads."""

from crnt_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class ProgrammeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROGRAMME_")

    http_port: int = Field(default=8002, validation_alias="HTTP_PORT")
    #: Where membership events come from (a per-test topic in integration tests).
    registry_topic: str | None = None
    consumer_group: str = "programme"

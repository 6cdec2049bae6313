"""The budget's settings: the shared ones, its database, its port, its topics and the pace of
its recalculations. The topics are settings so that tests run on topics of their own."""

from crnt_shared.settings import ServiceSettings
from pydantic import Field, PositiveFloat
from pydantic_settings import SettingsConfigDict


class BudgetSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BUDGET_")

    http_port: int = Field(default=8003, validation_alias="HTTP_PORT")
    registry_topic: str | None = None
    programme_topic: str | None = None
    budget_topic: str | None = Field(default=None, validation_alias="BUDGET_PUBLISH_TOPIC")
    #: The consumer groups of the registry's and the programme's topics (a group of their own
    #: in each test and benchmark, so that runs never rebalance one another).
    consumer_group: str = "budget"
    programme_consumer_group: str = "budget-programme"
    # One recalculation at 1,000 members publishes ~1,000 share events: batching approvals for
    # a second (five at most) keeps a steady stream of them from flooding the consumers
    # (measured by bench.e2e: at 0.15 s / 2 s, 5 approvals/s made 279 recalculations for 500).
    recalculation_debounce_seconds: PositiveFloat = Field(
        default=1.0,
        description="Quiet time after a membership change before the shares are recalculated.",
    )
    recalculation_max_delay_seconds: PositiveFloat = Field(
        default=5.0, description="Longest wait for quiet during a steady stream of changes."
    )
    recalculation_share_events_per_second: PositiveFloat = Field(
        default=250.0,
        validation_alias="BUDGET_SHARE_EVENTS_PER_SECOND",
        description=(
            "The pace of share changes for the consumers (a notice item each in notifications):"
            " after a version that moved N dotations, the next waits N / this many seconds (a"
            " network of tens of centres never notices)."
        ),
    )
    recalculation_poll_seconds: PositiveFloat = 1.0

    @property
    def publish_topic(self) -> str:
        """Where the budget publishes its events (``BUDGET_PUBLISH_TOPIC``, else its topic)."""
        return self.topics.budget

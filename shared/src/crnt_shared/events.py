"""Events are contracts: one CloudEvents 1.0 envelope (structured JSON) for every event.

A contract is a frozen pydantic model that subclasses :class:`Event`, fixes ``type`` to one
literal string (the version is the last part: ``...approved.v1``) and types ``data``. A change
to a contract that is not additive gets a new type with the next version. Consumers ignore
unknown fields (``extra="ignore"``) and unknown types (see :class:`EventCatalog`).
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self, Union
from uuid import UUID, uuid4

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PydanticUserError,
    TypeAdapter,
    ValidationError,
)

from crnt_shared.context import current_correlation_id
from crnt_shared.tracing import current_traceparent

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base of every event payload: frozen, and tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(BaseModel):
    """The CloudEvents 1.0 envelope, with the ``correlationid``/``causationid`` extensions and
    the distributed-tracing one (``traceparent``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: str = "1.0"
    id: UUID = Field(default_factory=uuid4)
    source: str
    type: str
    time: AwareDatetime = Field(default_factory=utcnow)
    subject: str = Field(description="The aggregate id: also the Kafka key.")
    datacontenttype: str = "application/json"
    correlationid: str | None = None
    causationid: str | None = None
    #: The CloudEvents distributed-tracing extension: the W3C trace context it was made in.
    traceparent: str | None = None
    data: Any

    #: The service that publishes it (set by each contract): its topic is that service's
    #: (:class:`crnt_shared.topics.Topics`).
    publisher: ClassVar[str] = ""

    @classmethod
    def event_type(cls) -> str:
        """The literal ``type`` of a contract class."""
        default = cls.model_fields["type"].default
        if not isinstance(default, str):
            raise TypeError(f"{cls.__name__} does not fix its type")
        return default

    @classmethod
    def create(
        cls,
        *,
        source: str,
        subject: str,
        data: Any,
        cause: "Event | None" = None,
        correlation_id: str | None = None,
    ) -> Self:
        """A new event, correlated with the request or event that caused it."""
        correlation = (
            correlation_id or (cause.correlationid if cause else None) or current_correlation_id()
        )
        return cls(
            type=cls.event_type(),
            source=source,
            subject=subject,
            data=data,
            correlationid=correlation,
            causationid=str(cause.id) if cause else None,
            traceparent=current_traceparent() or (cause.traceparent if cause else None),
        )

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class EventDecodeError(ValueError):
    """A message that is not a valid event: it belongs in the dead-letter topic."""


class EventCatalog:
    """The contracts a consumer understands, looked up by their ``type``."""

    def __init__(self, contracts: Iterable[type[Event]]) -> None:
        self._contracts = {contract.event_type(): contract for contract in contracts}
        self._envelope = TypeAdapter(Event)
        self._typed = _typed_adapter(list(self._contracts.values()))

    @property
    def types(self) -> list[str]:
        return sorted(self._contracts)

    def decode(self, raw: bytes) -> Event | None:
        """The typed event, ``None`` for a well-formed event of a type not in the catalog.

        Raises :class:`EventDecodeError` when the bytes are not a valid CloudEvent or the data
        does not match the contract of its type.
        """
        if self._typed is not None:
            # One parse when all is well; the two steps below say why not (or skip the type).
            try:
                event = self._typed.validate_json(raw)
            except ValidationError:
                pass
            else:
                if event.specversion == "1.0":
                    return event
        try:
            envelope = self._envelope.validate_json(raw)
        except ValidationError as error:
            raise EventDecodeError(f"not a valid CloudEvent: {_summary(error)}") from error
        if envelope.specversion != "1.0":
            raise EventDecodeError(f"unsupported CloudEvents specversion {envelope.specversion}")
        contract = self._contracts.get(envelope.type)
        if contract is None:
            return None
        try:
            # Parsed again by the contract, in pydantic's core: cheaper than dumping the envelope.
            return contract.model_validate_json(raw)
        except ValidationError as error:
            raise EventDecodeError(
                f"data does not match the contract {envelope.type}: {_summary(error)}"
            ) from error


def _typed_adapter(contracts: list[type[Event]]) -> TypeAdapter[Event] | None:
    """The catalog's contracts told apart by their ``type``, so that an event of one of them is
    parsed once (``None`` when there are none, or a contract's ``type`` is not a literal)."""
    if not contracts:
        return None
    if len(contracts) == 1:
        return TypeAdapter(contracts[0])
    union: Any = Annotated[Union[tuple(contracts)], Field(discriminator="type")]  # noqa: UP007
    try:
        return TypeAdapter(union)
    except PydanticUserError:
        return None


def _summary(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors()[:5]
    )

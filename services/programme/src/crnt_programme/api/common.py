"""What the programme's routers share: the runtime of the request, who may call, the types of
paths and bodies (years, texts, euros and hours as decimal strings)."""

import re
from typing import Annotated, Any

from crnt_shared.money import cents_from_amount
from crnt_shared.runtime import ServiceRuntime
from fastapi import Depends, Path, Request
from pydantic import BaseModel, ConfigDict, PlainValidator, StringConstraints, WithJsonSchema

from crnt_programme.repository import Repository

ProgrammeRuntime = ServiceRuntime[Repository]


def _runtime(request: Request) -> ProgrammeRuntime:
    runtime: ProgrammeRuntime = request.app.state.runtime
    return runtime


#: The programme's runtime, which serves the request.
Runtime = Annotated[ProgrammeRuntime, Depends(_runtime)]


Year = Annotated[int, Path(ge=2000, le=2100, description="The programme's year.")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


_EUROS = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


def _euros_to_cents(value: Any) -> int:
    if not isinstance(value, str) or not _EUROS.match(value.strip()):
        raise ValueError(
            'give euros as a string with at most two decimals, such as "1234.56"'
            " (a JSON number could lose cents)"
        )
    return cents_from_amount(value.strip())


#: Euros as a decimal string in JSON (``"1234.56"``, ``"800"``), integer cents once read.
Euros = Annotated[
    int,
    PlainValidator(_euros_to_cents),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _EUROS.pattern,
            "description": 'Euros with at most two decimals, e.g. "1234.56"',
            "examples": ["1234.56"],
        }
    ),
]


_HOURS = re.compile(r"^\d{1,6}(\.\d)?$")


def _hours_to_tenths(value: Any) -> int:
    if not isinstance(value, str) or not _HOURS.match(value.strip()):
        raise ValueError('give hours as a string with at most one decimal, such as "12.5"')
    whole, _, tenth = value.strip().partition(".")
    return int(whole) * 10 + int(tenth or 0)


Hours = Annotated[
    int,
    PlainValidator(_hours_to_tenths),
    WithJsonSchema({"type": "string", "pattern": _HOURS.pattern, "examples": ["12.5"]}),
]

"""Which consecutive events of a fetch a consumer gives its handlers together: a :class:`Bulk`
takes the events of every type it handles in a row, in their order; any other handler takes
each event alone."""

from types import SimpleNamespace
from typing import Any, cast

from crnt_shared.consumer import Bulk, _runs
from crnt_shared.events import Event


async def _nothing(*_: Any) -> None:
    pass


def test_one_bulk_takes_its_types_in_a_row_and_another_handler_breaks_the_run() -> None:
    memberships, other = Bulk(_nothing), Bulk(_nothing)
    handlers = {"approved": memberships, "withdrawn": memberships, "epci": _nothing, "x": other}
    types = ["approved", "withdrawn", "approved", "epci", "epci", "approved", "x", "x", "approved"]
    events = [(i, cast(Event, SimpleNamespace(type=t))) for i, t in enumerate(types)]
    runs = _runs(events, cast(Any, handlers))
    assert [[index for index, _ in run] for run in runs] == [[0, 1, 2], [3], [4], [5], [6, 7], [8]]

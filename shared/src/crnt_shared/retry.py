"""One retry policy for the whole system: exponential backoff, capped, with jitter.

The delay before retry number ``attempt`` (1 for the first) is drawn in ``[ceiling / 2,
ceiling]`` with ``ceiling = min(max_seconds, base_seconds · 2^(attempt − 1))``: exponential so
that a long outage is not hammered, capped so that recovery is noticed soon, jittered so that
what failed together (replicas, deliveries, consumers) does not come back together.

Our own rather than stamina's or tenacity's: those wrap a call and keep the attempt count in
its stack, while here the count often outlives the call (a delivery's attempts are stored with
it and its next attempt is a time in the database; a worker's loop counts its failed rounds),
so what is needed is the delay of attempt *n*, a pure function.
"""

import random
from dataclasses import dataclass

#: 2^32 times the base is far beyond any cap: the exponent stops growing there.
_MAX_EXPONENT = 32


@dataclass(frozen=True)
class Backoff:
    base_seconds: float
    max_seconds: float

    def ceiling(self, attempt: int) -> float:
        exponent = min(max(0, attempt - 1), _MAX_EXPONENT)
        return min(self.max_seconds, self.base_seconds * 2.0**exponent)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """How long to wait before retry number ``attempt``, jittered."""
        ceiling = self.ceiling(attempt)
        return (rng or random).uniform(ceiling / 2, ceiling)

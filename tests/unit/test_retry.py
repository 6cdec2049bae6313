"""The one backoff policy: exponential, capped, jittered."""

import random

from crnt_shared.retry import Backoff


def test_delays_grow_exponentially_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(base_seconds=1.0, max_seconds=10.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (60, 10.0)]:
        delays = {backoff.delay(attempt, rng) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), attempt
        assert len(delays) > 1, "jittered: replicas that failed together come back apart"


def test_a_huge_attempt_count_stays_at_the_cap() -> None:
    assert Backoff(0.2, 30.0).ceiling(10_000) == 30.0
    assert Backoff(0.2, 30.0).ceiling(0) == 0.2

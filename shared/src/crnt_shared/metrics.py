"""Prometheus metrics, defined once for every service (label ``service``)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_HANDLED = Counter(
    "crnt_events_handled_total", "Events handled by a consumer.", ["service", "consumer", "type"]
)
EVENTS_DUPLICATE = Counter(
    "crnt_events_duplicate_total",
    "Events skipped because the inbox had already recorded them.",
    ["service", "consumer"],
)
EVENTS_DEAD_LETTERED = Counter(
    "crnt_events_dead_lettered_total",
    "Messages sent to a dead-letter topic.",
    ["service", "consumer", "reason"],
)
HANDLER_RETRIES = Counter(
    "crnt_handler_retries_total", "Retries of a failing handler.", ["service", "consumer", "kind"]
)
CONSUMER_LAG = Gauge(
    "crnt_consumer_lag_messages",
    "Messages between a consumer's position and the end of its partitions.",
    ["service", "consumer", "topic"],
)
OUTBOX_PENDING = Gauge("crnt_outbox_pending_rows", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "crnt_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox row not yet published.",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "crnt_outbox_published_total", "Outbox rows published to Kafka.", ["service"]
)
OUTBOX_REJECTED = Counter(
    "crnt_outbox_rejected_total",
    "Outbox rows Kafka refused for good (too large): set aside, never published. Alert on any.",
    ["service", "topic"],
)
HTTP_LATENCY = Histogram(
    "crnt_http_request_duration_seconds",
    "HTTP request latency.",
    ["service", "method", "route", "status"],
)

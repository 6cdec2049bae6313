from tests.e2e.system import system_fixture

system = system_fixture(
    "e2e",
    NOTIFICATIONS_COALESCING_WINDOW_SECONDS="1",
    NOTIFICATIONS_AGENCY_EMAILS="agence@example.org",
)

import pytest
from crnt_shared.settings import ServiceSettings
from pydantic import ValidationError

DB = "postgresql://crnt:s3cret-Pa55word@127.0.0.1:5433/registry"
STRONG = "x" * 40


def make(**values: str) -> ServiceSettings:
    return ServiceSettings.model_validate(values)


def test_tokens_have_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRNT_AGENCY_TOKEN", raising=False)
    monkeypatch.delenv("CRNT_COPIL_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="CRNT_AGENCY_TOKEN"):
        make(database_url=DB, CRNT_COPIL_TOKEN="copil")


def test_placeholders_are_accepted_in_development() -> None:
    settings = make(database_url=DB, CRNT_AGENCY_TOKEN="changeme", CRNT_COPIL_TOKEN="change-me")
    assert settings.env == "development"


def test_equal_tokens_are_refused_everywhere() -> None:
    # Every caller would resolve to the agency: the steering committee could not validate.
    for env in ("development", "test", "production"):
        with pytest.raises(ValidationError, match="must differ"):
            make(
                database_url=DB, CRNT_ENV=env, CRNT_AGENCY_TOKEN="x" * 30, CRNT_COPIL_TOKEN="x" * 30
            )


@pytest.mark.parametrize(
    ("agency", "copil", "database", "message"),
    [
        ("changeme", STRONG, DB, "agency_token is a placeholder"),
        (STRONG, "short", DB, "copil_token is a placeholder or shorter"),
        (STRONG, STRONG, DB, "must differ"),
        (STRONG, "y" * 40, "postgresql://crnt:crnt@db/registry", "database password"),
    ],
)
def test_production_refuses_placeholders(
    agency: str, copil: str, database: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make(
            database_url=database,
            CRNT_AGENCY_TOKEN=agency,
            CRNT_COPIL_TOKEN=copil,
            CRNT_ENV="production",
        )


def test_production_accepts_real_secrets() -> None:
    settings = make(
        database_url=DB, CRNT_AGENCY_TOKEN=STRONG, CRNT_COPIL_TOKEN="y" * 40, CRNT_ENV="production"
    )
    assert settings.agency_token.get_secret_value() == STRONG


def test_topics_come_from_the_prefix_and_a_service_may_name_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crnt_budget.settings import BudgetSettings

    monkeypatch.setenv("CRNT_TOPIC_PREFIX", "crnt-e2e")
    monkeypatch.setenv("BUDGET_PUBLISH_TOPIC", "test.budget")
    settings = BudgetSettings(
        _env_file=None, database_url=DB, agency_token="agency", copil_token="copil"
    )
    assert settings.topics.registry == "crnt-e2e.registry.events"
    assert settings.topics.identity == "crnt-e2e.identity.events"
    assert settings.topics.budget == settings.publish_topic == "test.budget"


def test_topics_do_not_depend_on_the_environment_of_the_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crnt_shared.topics import Topics, environment_topics

    monkeypatch.setenv("CRNT_TOPIC_PREFIX", "elsewhere")
    assert Topics().notifications == "crnt.notifications.events"
    assert environment_topics().notifications == "elsewhere.notifications.events"

"""docker-compose.yml: valid against the Compose Specification, and shaped as the system needs.

No Docker engine runs here or in CI, so ``docker compose config`` is not used: the file is
loaded with PyYAML (which resolves anchors and ``<<`` merges as Compose does) and validated
with jsonschema against ``deploy/compose-spec.schema.json``. That file is a verbatim copy of
``schema/compose-spec.json`` from https://github.com/compose-spec/compose-spec at commit
b2835e8acc1e42e7aecbc27a9bc4a1fc66ef21ba, licensed under the Apache License 2.0; it is kept
byte for byte (no ``$comment`` added) and its SHA-256 is pinned below. To update it, replace
the file with a newer upstream copy and the hash with the new one.

Beyond the schema, the tests check what the system relies on: healthchecks, start order
(Kafka and PostgreSQL healthy, topics created), required secrets, one database per service
created by the init script, and the topics that ``crnt_shared.topics`` declares.
"""

import copy
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from crnt_shared.topics import DEFAULT_PREFIX, all_topics
from jsonschema import Draft201909Validator, validators

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "deploy" / "compose-spec.schema.json"
POSTGRES_INIT_DIR = ROOT / "deploy" / "postgres-init"
SCHEMA_SHA256 = "91ae91d24640d45634c9d4b5f4e3a5ce1b6b6da38bc06b27e2a04891f81f32da"

APP_PORTS = {
    "registry": 8001,
    "programme": 8002,
    "budget": 8003,
    "notifications": 8004,
    "identity": 8005,
}
ONE_SHOT_SERVICES = {"kafka-init"}

Compose = dict[str, Any]


def load_compose() -> Compose:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def compose() -> Compose:
    return load_compose()


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(validator: Any, document: Compose) -> list[str]:
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment is written as a map in this file"
    return env


# --- The schema itself -------------------------------------------------------------------


def test_schema_is_the_pinned_upstream_copy() -> None:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_schema_declares_draft_2019_09(validator: Any) -> None:
    assert validator.schema["$schema"].startswith("https://json-schema.org/draft/2019-09/schema")
    assert isinstance(validator, Draft201909Validator)


# --- Validity --------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(
    validator: Any, compose: Compose
) -> None:
    assert schema_errors(validator, compose) == []


def test_no_version_key(compose: Compose) -> None:
    # `version` is obsolete in the Compose Specification; Compose warns when it is present.
    assert "version" not in compose


def mutate_condition(doc: Compose) -> tuple[str, ...]:
    doc["services"]["registry"]["depends_on"]["kafka"]["condition"] = "service_healty"
    return ("services", "registry", "depends_on")


def mutate_top_level_key(doc: Compose) -> tuple[str, ...]:
    doc["servces"] = doc.pop("services")
    return ()


def mutate_service_key(doc: Compose) -> tuple[str, ...]:
    doc["services"]["budget"]["helthcheck"] = doc["services"]["budget"].pop("healthcheck")
    return ("services", "budget")


def mutate_unquoted_no(doc: Compose) -> tuple[str, ...]:
    # `restart: no` without quotes is YAML 1.1 false, not the string "no".
    doc["services"]["kafka-init"]["restart"] = False
    return ("services", "kafka-init", "restart")


def mutate_healthcheck_interval(doc: Compose) -> tuple[str, ...]:
    doc["services"]["postgres"]["healthcheck"]["interval"] = 5
    return ("services", "postgres", "healthcheck", "interval")


@pytest.mark.parametrize(
    "mutate",
    [
        mutate_condition,
        mutate_top_level_key,
        mutate_service_key,
        mutate_unquoted_no,
        mutate_healthcheck_interval,
    ],
    ids=lambda mutate: mutate.__name__.removeprefix("mutate_"),
)
def test_schema_rejects_a_broken_copy(
    validator: Any, compose: Compose, mutate: Callable[[Compose], tuple[str, ...]]
) -> None:
    broken = copy.deepcopy(compose)
    where = mutate(broken)
    paths = [tuple(error.absolute_path) for error in validator.iter_errors(broken)]
    assert paths, "the schema accepted a broken compose file"
    assert any(path[: len(where)] == where for path in paths), paths


# --- What the system relies on -----------------------------------------------------------


def test_every_application_service_is_declared(compose: Compose) -> None:
    assert set(APP_PORTS) <= set(compose["services"])


def test_every_long_running_service_has_a_healthcheck(compose: Compose) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT_SERVICES:
            assert service.get("restart") == "no", name
            continue
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), name
        assert healthcheck["test"], name


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_service_starts_after_kafka_topics_and_postgres(compose: Compose, name: str) -> None:
    depends_on = compose["services"][name]["depends_on"]
    assert depends_on["kafka"] == {"condition": "service_healthy"}
    assert depends_on["postgres"] == {"condition": "service_healthy"}
    assert depends_on["kafka-init"] == {"condition": "service_completed_successfully"}


def test_notifications_starts_after_mailpit(compose: Compose) -> None:
    notifications = compose["services"]["notifications"]
    assert notifications["depends_on"]["mailpit"] == {"condition": "service_healthy"}
    env = environment(notifications)
    assert env["SMTP_HOST"] == "mailpit"
    assert str(env["SMTP_PORT"]) == "1025"
    assert env["SMTP_FROM"]


def test_kafka_init_waits_for_a_healthy_kafka(compose: Compose) -> None:
    depends_on = compose["services"]["kafka-init"]["depends_on"]
    assert depends_on == {"kafka": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_app_service_is_built_from_the_shared_dockerfile(compose: Compose, name: str) -> None:
    build = compose["services"][name]["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    dockerfile = context / build["dockerfile"]
    assert build["dockerfile"] == "deploy/Dockerfile"
    assert dockerfile.is_file(), dockerfile
    assert (context / ".dockerignore").is_file()


@pytest.mark.parametrize(("name", "port"), sorted(APP_PORTS.items()))
def test_app_service_runs_its_module_on_its_port(compose: Compose, name: str, port: int) -> None:
    service = compose["services"][name]
    env = environment(service)
    assert service["command"] == ["python", "-m", f"crnt_{name}"]
    assert str(env["HTTP_PORT"]) == str(port)
    # Inside its container the API must listen on every interface to be reachable at all.
    assert env["HTTP_HOST"] == "0.0.0.0"  # noqa: S104
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert any(str(mapping).endswith(f":{port}:{port}") for mapping in service["ports"])
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert any("/ready" in part and "HTTP_PORT" in part for part in test[1:])


@pytest.mark.parametrize("name", sorted(APP_PORTS))
@pytest.mark.parametrize("variable", ["CRNT_AGENCY_TOKEN", "CRNT_COPIL_TOKEN"])
def test_tokens_are_required_interpolations(compose: Compose, name: str, variable: str) -> None:
    # `${VAR:?message}`: Compose refuses to start when the variable is unset or empty.
    value = environment(compose["services"][name])[variable]
    assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", value), value


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_each_service_has_its_own_database_created_by_the_init_script(
    compose: Compose, name: str
) -> None:
    env = environment(compose["services"][name])
    urls = {key: value for key, value in env.items() if key.endswith("_DATABASE_URL")}
    assert list(urls) == [f"{name.upper()}_DATABASE_URL"]
    match = re.fullmatch(r"postgresql://(\w+):(\$\{[^}]+\})@postgres:5432/(\w+)", urls.popitem()[1])
    assert match, "the database URL must point at the postgres service"
    assert match.group(3) == name
    init_sql = "\n".join(path.read_text() for path in sorted(POSTGRES_INIT_DIR.glob("*.sql")))
    assert re.search(rf"^CREATE DATABASE {name};$", init_sql, re.MULTILINE)
    postgres = compose["services"]["postgres"]
    assert environment(postgres)["POSTGRES_USER"] == match.group(1)
    assert environment(postgres)["POSTGRES_PASSWORD"] == match.group(2)


def test_postgres_runs_the_init_scripts(compose: Compose) -> None:
    volumes = compose["services"]["postgres"]["volumes"]
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in volumes
    assert POSTGRES_INIT_DIR.is_dir()


def test_kafka_never_creates_topics_on_its_own(compose: Compose) -> None:
    env = environment(compose["services"]["kafka"])
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert compose["services"]["kafka"]["image"] == compose["services"]["kafka-init"]["image"]


def test_kafka_init_creates_every_topic_the_system_declares(compose: Compose) -> None:
    service = compose["services"]["kafka-init"]
    script = "\n".join(service["command"])
    assert "--create --if-not-exists" in script
    assert "--config retention.ms=" in script
    assert "--add-config retention.ms=" in script, "a topic created earlier gets it too"
    created = {
        topic: (int(partitions), retention_ms)
        for topic, partitions, retention_ms in re.findall(
            r"^create (\S+) (\d+) (\d+)$", script, re.MULTILINE
        )
    }
    assert created == {
        spec.name: (spec.partitions, spec.configs["retention.ms"])
        for spec in all_topics(DEFAULT_PREFIX)
    }


# --- The environment the file gives passes each service's production settings ---------------


def operator_secrets() -> dict[str, str]:
    """What the header of docker-compose.yml asks the operator to export, each a distinct
    strong value (so that a secret the file requires but the header forgets fails the test)."""
    header = COMPOSE_FILE.read_text(encoding="utf-8").split("\nservices:", 1)[0]
    names = re.findall(r"(\w+)=\$\(openssl rand", header)
    assert names, "the header of docker-compose.yml names no secret to export"
    return {name: f"{index:02d}" + "s" * 62 for index, name in enumerate(names)}


_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` (a ``$$`` is a ``$``)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if given.get(name):
            return given[name]
        if op == ":-":
            return str(arg)
        if op == ":?":
            raise LookupError(f"Compose refuses to start: {arg}")
        return ""

    return _INTERPOLATION.sub(one, value).replace("$$", "$")


def settings_class(name: str) -> type[Any]:
    import importlib

    from crnt_shared.settings import ServiceSettings

    module = importlib.import_module(f"crnt_{name}.settings")
    [cls] = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module.__name__
    ]
    return cls


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_the_compose_environment_passes_the_production_settings(
    compose: Compose, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        key: interpolate(str(value), operator_secrets())
        for key, value in environment(compose["services"][name]).items()
    }
    assert env["CRNT_ENV"] == "production"
    # The container's environment only: nothing from this machine's, no .env file.
    for variable in list(os.environ):
        monkeypatch.delenv(variable)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    settings = settings_class(name)(_env_file=None)
    assert settings.env == "production"
    assert settings.agency_token.get_secret_value() != settings.copil_token.get_secret_value()


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_compose_refuses_to_start_without_a_secret_the_service_needs(
    compose: Compose, name: str
) -> None:
    values = environment(compose["services"][name]).values()
    secrets = operator_secrets()
    for secret in secrets:
        given = {key: value for key, value in secrets.items() if key != secret}
        needed = any(f"${{{secret}" in str(value) for value in values)
        if needed:
            joined = "\n".join(str(value) for value in values)
            with pytest.raises(LookupError, match="Compose refuses to start"):
                interpolate(joined, given)


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_env_example_gives_each_role_its_own_token(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Equal tokens would make every caller the agency: the steering committee could not act.
    for variable in list(os.environ):
        monkeypatch.delenv(variable)
    settings = settings_class(name)(_env_file=ROOT / ".env.example")
    assert settings.agency_token.get_secret_value() != settings.copil_token.get_secret_value()

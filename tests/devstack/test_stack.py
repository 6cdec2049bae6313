"""Fast tests of crnt-stack's pure parts: nothing here starts Kafka or PostgreSQL."""

import hashlib
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from crnt_devstack import kafka, mail, paths, postgres, services, stack
from crnt_devstack.errors import StackError
from crnt_devstack.ports import Ports, ensure_port_free, port_is_free
from crnt_devstack.process import (
    ComponentStatus,
    pid_alive,
    running_pid,
    spawn_detached,
    tail,
    terminate,
)

PORT_VARIABLES = (
    "KAFKA_PORT",
    "KAFKA_CONTROLLER_PORT",
    "PG_PORT",
    "MAILCATCHER_SMTP_PORT",
    "MAILCATCHER_HTTP_PORT",
)


def _properties(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def listener() -> Iterator[int]:
    """A port held by a listening socket of this test, as another program would."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- ports ----------------------------------------------------------------------------------


def test_ports_default_to_the_documented_numbers() -> None:
    assert Ports.from_env({}) == Ports(
        kafka=9092, kafka_controller=9093, postgres=5433, smtp=1025, mail_http=8025
    )


def test_ports_come_from_the_environment() -> None:
    ports = Ports.from_env({"KAFKA_PORT": "19092", "PG_PORT": " 15433 "})
    assert (ports.kafka, ports.postgres, ports.kafka_controller) == (19092, 15433, 9093)


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
def test_a_port_that_is_no_port_is_a_clear_error(value: str) -> None:
    with pytest.raises(StackError, match=r"PG_PORT=.* is not a TCP port: set it to a number"):
        Ports.from_env({"PG_PORT": value})


def test_two_servers_cannot_share_a_port() -> None:
    with pytest.raises(StackError, match="KAFKA_PORT and PG_PORT are both 9092"):
        Ports.from_env({"PG_PORT": "9092"})


def test_a_listening_port_is_taken_and_a_closed_one_free(listener: int) -> None:
    assert not port_is_free(listener)
    assert port_is_free(_free_port())


def test_a_port_held_on_all_interfaces_is_taken_too() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("0.0.0.0", 0))  # noqa: S104 - what another program might do
        server.listen()
        assert not port_is_free(int(server.getsockname()[1]))


def test_a_taken_port_says_which_variable_to_change(listener: int) -> None:
    with pytest.raises(StackError) as raised:
        ensure_port_free(listener, "KAFKA_PORT", "the Kafka broker")
    assert str(raised.value) == (
        f"port {listener} on 127.0.0.1 (for the Kafka broker) is already taken by another "
        "process: stop that process or set KAFKA_PORT to a free port."
    )


def test_up_on_a_taken_port_exits_1_with_one_clear_line(
    listener: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for variable in PORT_VARIABLES:
        monkeypatch.setenv(variable, str(_free_port()))
    monkeypatch.setenv("KAFKA_PORT", str(listener))
    monkeypatch.setenv("CRNT_STATE_DIR", str(tmp_path))  # nothing of ours runs there

    assert stack.main(["up"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"crnt-stack: port {listener} on 127.0.0.1 (for the Kafka broker) is already taken by "
        "another process: stop that process or set KAFKA_PORT to a free port.\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_down_and_status_are_harmless_when_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRNT_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("SMTP_HOST", raising=False)

    assert stack.main(["down"]) == 0
    assert stack.main(["status"]) == 0

    lines = capsys.readouterr().out.splitlines()
    names = [service.name for service in services.installed()]
    assert lines[: len(names)] == [f"{name}: not running" for name in reversed(names)]
    lines = lines[len(names) :]
    assert lines[:3] == ["mailcatcher: not running", "kafka: not running", "postgres: not running"]
    assert [line.split()[:2] for line in lines[3:]] == [
        ["kafka", "stopped"],
        ["postgres", "stopped"],
        ["mailcatcher", "stopped"],
        *([name, "stopped"] for name in names),
    ]


# --- env ------------------------------------------------------------------------------------


def test_env_points_at_the_local_stack() -> None:
    assert stack.env_lines(Ports(), {}) == [
        *(f"export {s.url_variable}=http://127.0.0.1:{s.port}" for s in services.SERVICES),
        "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092",
        "export REGISTRY_DATABASE_URL=postgresql://crnt:crnt@127.0.0.1:5433/registry",
        "export PROGRAMME_DATABASE_URL=postgresql://crnt:crnt@127.0.0.1:5433/programme",
        "export BUDGET_DATABASE_URL=postgresql://crnt:crnt@127.0.0.1:5433/budget",
        "export NOTIFICATIONS_DATABASE_URL=postgresql://crnt:crnt@127.0.0.1:5433/notifications",
        "export IDENTITY_DATABASE_URL=postgresql://crnt:crnt@127.0.0.1:5433/identity",
        "export CRNT_TEST_ADMIN_DATABASE_URL=postgresql://crnt:crnt@127.0.0.1:5433/postgres",
        "export SMTP_HOST=127.0.0.1",
        "export SMTP_PORT=1025",
        "export MAILCATCHER_URL=http://127.0.0.1:8025",
    ]


def test_env_follows_the_configured_ports() -> None:
    ports = Ports.from_env(
        {"KAFKA_PORT": "19092", "PG_PORT": "15433", "MAILCATCHER_HTTP_PORT": "18025"}
    )
    lines = stack.env_lines(ports, {})
    assert "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092" in lines
    assert "export BUDGET_DATABASE_URL=postgresql://crnt:crnt@127.0.0.1:15433/budget" in lines
    assert "export MAILCATCHER_URL=http://127.0.0.1:18025" in lines


def test_env_with_a_real_smtp_server_names_it_and_no_catcher() -> None:
    lines = stack.env_lines(Ports(), {"SMTP_HOST": "mail.example.org", "SMTP_PORT": "587"})
    assert lines[-2:] == ["export SMTP_HOST=mail.example.org", "export SMTP_PORT=587"]
    assert not any("MAILCATCHER_URL" in line for line in lines)


def test_env_values_are_quoted_for_the_shell() -> None:
    lines = stack.env_lines(Ports(), {"SMTP_HOST": "smtp host; rm -rf /"})
    assert "export SMTP_HOST='smtp host; rm -rf /'" in lines


def test_the_env_command_prints_sourceable_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service_ports = [service.port_variable for service in (services.WEB, *services.SERVICES)]
    for variable in (*PORT_VARIABLES, *service_ports, "SMTP_HOST"):
        monkeypatch.delenv(variable, raising=False)
    assert stack.main(["env"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == stack.env_lines(Ports(), {})


# --- kafka ----------------------------------------------------------------------------------


def test_server_properties_make_one_kraft_node_on_localhost(tmp_path: Path) -> None:
    ports = Ports(kafka=19092, kafka_controller=19093)
    settings = _properties(kafka.render_server_properties(ports, tmp_path / "data"))

    assert settings["process.roles"] == "broker,controller"
    assert settings["node.id"] == "1"
    assert settings["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert settings["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert settings["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert settings["controller.listener.names"] == "CONTROLLER"
    assert settings["log.dirs"] == str(tmp_path / "data")


def test_server_properties_suit_a_single_broker_with_explicit_topics(tmp_path: Path) -> None:
    settings = _properties(kafka.render_server_properties(Ports(), tmp_path))
    assert settings["auto.create.topics.enable"] == "false"
    assert settings["num.partitions"] == "6"
    assert settings["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "min.insync.replicas",
    ):
        assert settings[key] == "1", key


def test_log4j2_config_is_xml_writing_to_the_given_file(tmp_path: Path) -> None:
    server_log = tmp_path / "logs" / "server.log"
    root = ET.fromstring(kafka.render_log4j2_config(server_log))  # noqa: S314 - our own text
    appender = root.find("Appenders/RollingFile")
    assert appender is not None
    assert appender.get("fileName") == str(server_log)
    root_logger = root.find("Loggers/Root")
    assert root_logger is not None
    assert root_logger.get("level") == "info"


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
        ("no java here", None),
    ],
)
def test_java_major_version(output: str, major: int | None) -> None:
    assert kafka.java_major_version(output) == major


def test_missing_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(StackError, match="apt-get install -y openjdk-17-jre-headless"):
        kafka.find_java()


def test_the_pom_pins_the_same_kafka_version() -> None:
    pom = kafka.pom_path().read_text(encoding="utf-8")
    assert f"<kafka.version>{kafka.KAFKA_VERSION}</kafka.version>" in pom
    assert "<artifactId>kafka_2.13</artifactId>" in pom


def test_cached_jars_are_reused_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project/>", encoding="utf-8")
    libs = tmp_path / "kafka" / "libs"
    libs.mkdir(parents=True)
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    (libs.parent / "COMPLETE").write_text(digest + "\n", encoding="utf-8")
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # no mvn: must not be needed

    assert kafka.ensure_libs(pom, libs) == libs


def test_missing_jars_without_maven_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project/>", encoding="utf-8")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(StackError, match=r"Maven \(mvn\) is not installed: install it with"):
        kafka.ensure_libs(pom, tmp_path / "kafka" / "libs")


def test_the_cache_lives_outside_the_work_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert kafka.libs_dir() == tmp_path / "crnt" / f"kafka-{kafka.KAFKA_VERSION}" / "libs"


# --- postgres, mail, paths ------------------------------------------------------------------


def test_postgres_listens_on_localhost_with_room_for_tests(tmp_path: Path) -> None:
    settings = postgres.render_settings(Ports(postgres=15433), tmp_path / "run")
    assert "listen_addresses = '127.0.0.1'" in settings
    assert "port = 15433" in settings
    assert f"unix_socket_directories = '{tmp_path / 'run'}'" in settings
    assert "max_connections = 200" in settings


def test_postgres_asks_a_password_over_tcp() -> None:
    assert "host    all       all   127.0.0.1/32  scram-sha-256" in postgres.HBA


def test_the_mail_catcher_gets_its_ports() -> None:
    argv = mail.command(Ports(smtp=11025, mail_http=18025))
    assert argv[-6:] == ["--host", "127.0.0.1", "--smtp-port", "11025", "--http-port", "18025"]


def test_the_state_dir_is_in_the_repository_unless_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRNT_STATE_DIR", raising=False)
    root = paths.repo_root()
    assert (root / "pyproject.toml").is_file()
    assert (root / "deploy" / "local" / "kafka" / "pom.xml").is_file()
    assert paths.state_dir() == root / ".local"
    monkeypatch.setenv("CRNT_STATE_DIR", str(tmp_path))
    assert paths.state_dir() == tmp_path


# --- processes ------------------------------------------------------------------------------


def test_status_lines() -> None:
    assert ComponentStatus("kafka", 42, "127.0.0.1:9092").line() == (
        "kafka          running  pid 42      127.0.0.1:9092"
    )
    assert ComponentStatus("postgres", None, "127.0.0.1:5433").line() == (
        "postgres       stopped              127.0.0.1:5433"
    )


def test_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)), encoding="utf-8")
    assert tail(log).splitlines() == [f"line {n}" for n in range(80, 100)]
    assert "does not exist" in tail(tmp_path / "missing.log")


def test_a_detached_process_is_found_by_its_pid_file_and_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    marker = "import time; time.sleep(60)"
    child = spawn_detached(
        [sys.executable, "-c", marker],
        log_path=tmp_path / "sleeper.log",
        pid_file=pid_file,
        cwd=tmp_path,
    )
    try:
        # Until the child has exec'd, its command line is still this process's.
        deadline = time.monotonic() + 10
        while running_pid(pid_file, marker) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running_pid(pid_file, marker) == child.pid
        assert running_pid(pid_file, "kafka.Kafka") is None  # a recycled pid is not ours
        assert terminate(child.pid, timeout=10) is True
        assert not pid_alive(child.pid)
        assert running_pid(pid_file, marker) is None
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_a_process_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ok', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        child.stdout.readline()  # SIGTERM is ignored from here on
        assert terminate(child.pid, timeout=0.5) is False
        assert not pid_alive(child.pid)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

"""A single-node KRaft Kafka broker run from the jars on Maven Central, without Docker.

The jars are copied by Maven (``deploy/local/kafka/pom.xml``) into a cache outside the work tree
and reused; the broker's configuration, data and logs live in ``<state>/kafka``.
"""

import asyncio
import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from crnt_devstack import paths
from crnt_devstack.errors import StackError
from crnt_devstack.ports import HOST, Ports, ensure_port_free
from crnt_devstack.process import (
    ComponentStatus,
    running_pid,
    spawn_detached,
    stop_detached,
    tail,
)

KAFKA_VERSION = "4.1.1"  # keep in step with kafka.version in deploy/local/kafka/pom.xml
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code
JAVA_HINT = "install a Java 17 runtime: apt-get install -y openjdk-17-jre-headless"


class TopicLike(Protocol):
    """What ``crnt_shared.topics.TopicSpec`` offers."""

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int: ...

    @property
    def configs(self) -> dict[str, str]: ...


class KafkaFiles(paths.StateFiles):
    """The broker's files under the state directory."""

    config = paths.Under("server.properties")
    log4j_config = paths.Under("log4j2.xml")
    data = paths.Under("data")
    server_log = paths.Under("logs", "server.log")
    #: The JVM's own stdout and stderr (crashes before log4j is up land here).
    console_log = paths.Under("kafka.out")
    pid_file = paths.Under("kafka.pid")
    cluster_id = paths.Under("cluster.id")


def files(state: Path | None = None) -> KafkaFiles:
    return KafkaFiles.of("kafka", state)


def bootstrap_servers(ports: Ports) -> str:
    return f"{HOST}:{ports.kafka}"


def render_server_properties(ports: Ports, data_dir: Path) -> str:
    """server.properties of a combined broker and controller listening on 127.0.0.1 only."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{ports.kafka_controller}",
        "listeners": f"PLAINTEXT://{HOST}:{ports.kafka},CONTROLLER://{HOST}:{ports.kafka_controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{ports.kafka}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "6",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "min.insync.replicas": "1",
        "group.initial.rebalance.delay.ms": "0",
    }
    lines = [f"# Written by crnt-stack for Kafka {KAFKA_VERSION}; rewritten on every start."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def render_log4j2_config(server_log: Path) -> str:
    """A log4j2 configuration sending everything to one size-rolled file."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by crnt-stack; rewritten on every start. -->
<Configuration status="warn" name="crnt-kafka">
  <Appenders>
    <RollingFile name="server" fileName="{server_log}" filePattern="{server_log}.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="20 MB"/>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="info">
      <AppenderRef ref="server"/>
    </Root>
    <Logger name="kafka.request.logger" level="warn"/>
    <Logger name="org.apache.kafka.clients" level="warn"/>
  </Loggers>
</Configuration>
"""


# --- the jars -------------------------------------------------------------------------------


def pom_path() -> Path:
    return paths.repo_root() / "deploy" / "local" / "kafka" / "pom.xml"


def libs_dir() -> Path:
    return paths.cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"


def ensure_libs(pom: Path | None = None, libs: Path | None = None) -> Path:
    """Copy Kafka's runtime jars from Maven Central into the cache, unless already there.

    A marker file next to ``libs`` holds the hash of the pom the jars came from; the copy goes
    to a scratch folder first, so an interrupted download is never taken for a complete one.
    """
    pom = pom or pom_path()
    libs = libs or libs_dir()
    marker = libs.parent / "COMPLETE"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if libs.is_dir() and marker.is_file() and marker.read_text(encoding="utf-8").strip() == digest:
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven (mvn) is not installed: install it with apt-get install -y maven.")
    partial = libs.parent / "libs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    print(f"kafka: downloading the Kafka {KAFKA_VERSION} jars into {libs} ...", flush=True)
    result = subprocess.run(  # noqa: S603 - fixed Maven command line
        [
            mvn,
            "-B",
            "-ntp",
            "-Dstyle.color=never",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            "downloading the Kafka jars with Maven failed:\n"
            + _last_maven_lines(result.stdout + result.stderr)
            + "\ncheck this machine's access to Maven Central (network, proxy, ~/.m2/settings.xml)"
            " and run crnt-stack up again."
        )
    if not (partial / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file():
        raise StackError(
            f"Maven did not copy kafka_2.13-{KAFKA_VERSION}.jar into {partial}: "
            f"check that {pom} depends on org.apache.kafka:kafka_2.13:{KAFKA_VERSION}."
        )
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    marker.write_text(digest + "\n", encoding="utf-8")
    return libs


def _last_maven_lines(output: str, count: int = 20) -> str:
    """The informative end of Maven's output: no colour codes, no bare ``[ERROR]`` lines."""
    lines = [_ANSI_ESCAPE.sub("", line).rstrip() for line in output.splitlines()]
    lines = [line for line in lines if line and line != "[ERROR]"]
    return "\n".join(lines[-count:])


# --- java -----------------------------------------------------------------------------------


def java_major_version(version_output: str) -> int | None:
    """The major version in ``java -version`` output (``1.8.0_x`` is 8, ``17.0.15`` is 17)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError(f"Java is not installed: {JAVA_HINT}.")
    probe = subprocess.run(  # noqa: S603 - the java found on PATH
        [java, "-version"], capture_output=True, text=True, check=False
    )
    major = java_major_version(probe.stderr + probe.stdout)
    if major is None or major < 17:
        raise StackError(f"Kafka {KAFKA_VERSION} needs Java 17+, found {major}: {JAVA_HINT}.")
    return java


def _classpath(libs: Path) -> str:
    return f"{libs}/*"


def _storage_tool(java: str, libs: Path, kafka: KafkaFiles, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed java command line
        [
            java,
            f"-Dlog4j2.configurationFile={kafka.log4j_config}",
            "-cp",
            _classpath(libs),
            STORAGE_TOOL,
            *args,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).rstrip().splitlines()
        message = "\n".join(line for line in output if not line.startswith("\tat "))
        raise StackError(
            f"kafka storage tool ({args[0]}) failed:\n{message}\n"
            f"fix the cause above (the settings in {kafka.config}) and run crnt-stack up again."
        )
    return result.stdout.strip()


def _format_storage_if_needed(java: str, libs: Path, kafka: KafkaFiles) -> None:
    if (kafka.data / "meta.properties").is_file():
        return
    if kafka.cluster_id.is_file():
        cluster_id = kafka.cluster_id.read_text(encoding="utf-8").strip()
    else:
        cluster_id = _storage_tool(java, libs, kafka, "random-uuid").splitlines()[-1].strip()
        kafka.cluster_id.write_text(cluster_id + "\n", encoding="utf-8")
    print(f"kafka: formatting storage in {kafka.data} (cluster id {cluster_id})", flush=True)
    _storage_tool(
        java, libs, kafka, "format", "--cluster-id", cluster_id, "--config", str(kafka.config)
    )


# --- readiness and topics -------------------------------------------------------------------


class _BrokerDied(Exception):
    pass


class TopicsNotCreated(Exception):
    """The broker kept refusing to create some topics until the deadline."""


async def wait_until_ready(
    bootstrap: str, deadline: float, alive: Callable[[], bool] = lambda: True
) -> None:
    """Retry a real metadata request until the broker lists itself, or the deadline passes."""
    while True:
        if not alive():
            raise _BrokerDied
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            if cluster.get("brokers"):
                return
        except (KafkaError, OSError, TimeoutError):
            pass
        finally:
            await admin.close()
        if time.monotonic() >= deadline:
            raise TimeoutError
        await asyncio.sleep(0.5)


async def create_topics(bootstrap: str, topics: Sequence[TopicLike], deadline: float) -> list[str]:
    """Create the missing topics (replication 1) with their configuration (retention), set
    that configuration on those that exist already; return the names created.

    "Already exists" is success; other errors (a broker still settling) are retried until the
    deadline.
    """
    created: list[str] = []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        await admin.start()
        while True:
            existing = set(await admin.list_topics())
            await _configure(admin, [topic for topic in topics if topic.name in existing])
            missing = [topic for topic in topics if topic.name not in existing]
            if not missing:
                return created
            new_topics = [
                NewTopic(t.name, t.partitions, replication_factor=1, topic_configs=t.configs)
                for t in missing
            ]
            response = await admin.create_topics(new_topics)
            failures: list[str] = []
            for error in response.to_object()["topic_errors"]:
                code = int(error["error_code"])
                if code == 0:
                    created.append(str(error["topic"]))
                elif code != TOPIC_ALREADY_EXISTS:
                    failures.append(f"{error['topic']}: error {code} {error.get('error_message')}")
            if not failures:
                return created
            if time.monotonic() >= deadline:
                raise TopicsNotCreated("; ".join(failures))
            await asyncio.sleep(1.0)
    finally:
        await admin.close()


async def _configure(admin: AIOKafkaAdminClient, topics: Sequence[TopicLike]) -> None:
    """Set each topic's configuration (idempotent): a topic created before a retention was
    declared gets it too."""
    if topics:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t.name, configs=t.configs) for t in topics]
        )


def _shared_topics() -> Sequence[TopicLike]:
    from crnt_shared.topics import (  # type: ignore[import-untyped,unused-ignore]
        all_topics,
        environment_prefix,
    )

    topics: Sequence[TopicLike] = all_topics(environment_prefix())
    return topics


def _log_report(kafka: KafkaFiles) -> str:
    report = f"last lines of {kafka.server_log}:\n{tail(kafka.server_log)}"
    if kafka.console_log.is_file() and kafka.console_log.stat().st_size > 0:
        report += f"\nlast lines of {kafka.console_log}:\n{tail(kafka.console_log)}"
    return report


async def _ready_and_topics(
    ports: Ports, kafka: KafkaFiles, deadline: float, alive: Callable[[], bool]
) -> float:
    """Wait for the broker, then create the topics; return the time.monotonic() of readiness."""
    try:
        await wait_until_ready(bootstrap_servers(ports), deadline, alive)
    except _BrokerDied:
        raise StackError(
            f"kafka exited while starting:\n{_log_report(kafka)}\n"
            f"fix what the log says (see {kafka.server_log}) and run crnt-stack up again."
        ) from None
    except TimeoutError:
        raise StackError(
            f"kafka was not ready within {READY_TIMEOUT:.0f} s:\n{_log_report(kafka)}\n"
            f"look at {kafka.server_log} for the cause, then run crnt-stack down and up."
        ) from None
    ready_at = time.monotonic()
    try:
        created = await create_topics(bootstrap_servers(ports), _shared_topics(), deadline)
    except (TopicsNotCreated, KafkaError, OSError, TimeoutError) as error:
        raise StackError(
            f"kafka did not create the topics ({type(error).__name__}: {error}); "
            f"look at {kafka.server_log} for the cause, then run crnt-stack up again."
        ) from None
    if created:
        print(f"kafka: created topics {', '.join(created)}", flush=True)
    return ready_at


# --- start, stop, status --------------------------------------------------------------------


def _marker(kafka: KafkaFiles) -> str:
    """What the broker's command line holds: our main class and our config file."""
    return f"{MAIN_CLASS} {kafka.config}"


def running(state: Path | None = None) -> int | None:
    kafka = files(state)
    return running_pid(kafka.pid_file, _marker(kafka))


def check_ports(ports: Ports) -> None:
    ensure_port_free(ports.kafka, "KAFKA_PORT", "the Kafka broker")
    ensure_port_free(ports.kafka_controller, "KAFKA_CONTROLLER_PORT", "the Kafka controller")


def start(ports: Ports, state: Path | None = None) -> None:
    """Start the broker unless it runs, wait until it answers, then create the topics."""
    kafka = files(state)
    pid = running(state)
    if pid is not None:
        print(f"kafka: already running (pid {pid}) on {bootstrap_servers(ports)}", flush=True)
        asyncio.run(_ready_and_topics(ports, kafka, time.monotonic() + READY_TIMEOUT, lambda: True))
        return
    check_ports(ports)
    java = find_java()
    libs = ensure_libs()
    for folder in (kafka.root, kafka.data, kafka.server_log.parent):
        folder.mkdir(parents=True, exist_ok=True)
    kafka.config.write_text(render_server_properties(ports, kafka.data), encoding="utf-8")
    kafka.log4j_config.write_text(render_log4j2_config(kafka.server_log), encoding="utf-8")
    _format_storage_if_needed(java, libs, kafka)

    argv = [
        java,
        *JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={kafka.log4j_config}",
        "-cp",
        _classpath(libs),
        MAIN_CLASS,
        str(kafka.config),
    ]
    print(f"kafka: starting Kafka {KAFKA_VERSION} on {bootstrap_servers(ports)} ...", flush=True)
    started = time.monotonic()
    child = spawn_detached(
        argv, log_path=kafka.console_log, pid_file=kafka.pid_file, cwd=kafka.root
    )
    ready_at = asyncio.run(
        _ready_and_topics(ports, kafka, started + READY_TIMEOUT, lambda: child.poll() is None)
    )
    print(
        f"kafka: ready on {bootstrap_servers(ports)} (pid {child.pid}); "
        f"start time {ready_at - started:.1f} s; log {kafka.server_log}",
        flush=True,
    )


def stop(state: Path | None = None) -> None:
    stop_detached("kafka", running(state), files(state).pid_file, STOP_TIMEOUT)


def status(ports: Ports, state: Path | None = None) -> ComponentStatus:
    return ComponentStatus("kafka", running(state), bootstrap_servers(ports))

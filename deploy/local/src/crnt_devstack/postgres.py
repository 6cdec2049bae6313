"""A private PostgreSQL cluster in ``<state>/pg``, listening on 127.0.0.1 only.

As root, ``initdb``, ``pg_ctl`` and the server run as the ``postgres`` system user (they refuse
to run as root); as anyone else they run as that user. The Debian package is installed when the
server binaries are missing.

Tests can take the database away for a while and bring it back::

    await stop_postgres()
    await asyncio.sleep(3)
    await start_postgres()
"""

import asyncio
import os
import pwd
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import asyncpg  # type: ignore[import-untyped,unused-ignore]

from crnt_devstack import paths
from crnt_devstack.errors import StackError
from crnt_devstack.ports import HOST, Ports, ensure_port_free
from crnt_devstack.process import ComponentStatus, pid_alive, read_pid, tail

ROLE = "crnt"
PASSWORD = "crnt"  # noqa: S105 - the local test stack's documented password
DATABASES = ("registry", "programme", "budget", "notifications", "identity")
ADMIN_DATABASE = "postgres"
SUPERUSER = "postgres"  # the bootstrap superuser of the cluster, reached through the socket
SYSTEM_USER = "postgres"  # who runs the server when crnt-stack runs as root
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 60
CONNECT_TIMEOUT = 5.0


class PgFiles(paths.StateFiles):
    data = paths.Under("data")
    socket_dir = paths.Under("run")
    log = paths.Under("postgres.log")
    settings = paths.Under("data", "crnt.conf")


def files(state: Path | None = None) -> PgFiles:
    return PgFiles.of("pg", state)


def database_url(ports: Ports, database: str) -> str:
    return f"postgresql://{ROLE}:{PASSWORD}@{HOST}:{ports.postgres}/{database}"


def render_settings(ports: Ports, socket_dir: Path) -> str:
    """Settings included from postgresql.conf, rewritten on every start (the ports may move)."""
    return f"""# Written by crnt-stack; rewritten on every start.
listen_addresses = '{HOST}'
port = {ports.postgres}
unix_socket_directories = '{socket_dir}'
max_connections = 200
shared_buffers = 128MB
# A test database: the last commits may be lost in a machine crash, never corrupted.
synchronous_commit = off
"""


HBA = """# Written by crnt-stack.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
"""


# --- binaries and the system user -----------------------------------------------------------


def _has_server(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def _version_key(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)


def find_bindir() -> Path | None:
    """The folder of initdb/pg_ctl: ``pg_config --bindir``, else the newest Debian install."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run(  # noqa: S603 - pg_config found on PATH
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    return next((bindir for bindir in candidates if _has_server(bindir)), None)


def _is_root() -> bool:
    return os.geteuid() == 0


def _system_user_exists() -> bool:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        return False
    return True


def _apt_install_postgresql() -> None:
    if not _is_root():
        raise StackError(
            "the PostgreSQL server (initdb) is not installed: "
            "install it with sudo apt-get install -y postgresql."
        )
    print("postgres: installing the postgresql package with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        result = subprocess.run(  # noqa: S603 - fixed apt-get command lines
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, check=False
        )
        if result.returncode != 0:
            output = "\n".join((result.stdout + result.stderr).rstrip().splitlines()[-20:])
            raise StackError(
                f"{' '.join(argv)} failed:\n{output}\n"
                "install PostgreSQL by hand (apt-get install -y postgresql) "
                "and run crnt-stack up again."
            )


def ensure_bindir() -> Path:
    """The server binaries, installing the Debian package when they (or, as root, the
    postgres system user that runs them) are missing."""
    bindir = find_bindir()
    if bindir is None or (_is_root() and not _system_user_exists()):
        _apt_install_postgresql()
        bindir = find_bindir()
    if bindir is None:
        raise StackError(
            "initdb is still not found after installing postgresql: "
            "put the PostgreSQL server's bin folder on PATH (pg_config --bindir)."
        )
    return bindir


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", SYSTEM_USER, "--", *argv] if _is_root() else argv


def _run_as_owner(argv: list[str], pg: PgFiles) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - argv is built by this module
        _as_owner(argv),
        cwd=pg.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,  # the server that pg_ctl forks must outlive our terminal
        check=False,
    )


def _give_to_owner(pg: PgFiles) -> None:
    """As root: hand ``pg.root`` to the postgres user and let it traverse the folders above."""
    if not _is_root():
        return
    user = pwd.getpwnam(SYSTEM_USER)
    for parent in reversed(pg.root.parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
    for folder, _dirs, names in os.walk(pg.root):
        for entry in (Path(folder), *(Path(folder, name) for name in names)):
            if entry.lstat().st_uid != user.pw_uid:
                os.chown(entry, user.pw_uid, user.pw_gid, follow_symlinks=False)


# --- init, start, stop ----------------------------------------------------------------------


def _server_major(bindir: Path) -> str:
    result = subprocess.run(  # noqa: S603 - the postgres binary of bindir
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)", result.stdout)
    return match.group(1) if match else "?"


def _init_cluster(bindir: Path, pg: PgFiles) -> None:
    version_file = pg.data / "PG_VERSION"
    if version_file.is_file():
        data_major = version_file.read_text(encoding="utf-8").strip()
        server_major = _server_major(bindir)
        if data_major != server_major:
            raise StackError(
                f"{pg.data} holds a PostgreSQL {data_major} cluster but the server is "
                f"PostgreSQL {server_major}: remove {pg.root} (test data only) and run "
                "crnt-stack up again."
            )
        return
    print(f"postgres: creating a cluster in {pg.data}", flush=True)
    shutil.rmtree(pg.data, ignore_errors=True)
    pg.data.mkdir(parents=True, mode=0o700)
    _give_to_owner(pg)
    result = _run_as_owner(
        [
            str(bindir / "initdb"),
            "--pgdata",
            str(pg.data),
            "--username",
            SUPERUSER,
            "--encoding",
            "UTF8",
            "--no-locale",
            "--auth-local",
            "trust",
            "--auth-host",
            "scram-sha-256",
        ],
        pg,
    )
    if result.returncode != 0:
        shutil.rmtree(pg.data, ignore_errors=True)
        raise StackError(
            f"initdb failed:\n{(result.stdout + result.stderr).rstrip()}\n"
            "fix the cause above and run crnt-stack up again."
        )
    (pg.data / "pg_hba.conf").write_text(HBA, encoding="utf-8")
    with (pg.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(f"\ninclude_if_exists = '{pg.settings.name}'\n")


def _postmaster_pid(pg: PgFiles) -> int | None:
    pid = read_pid(pg.data / "postmaster.pid")
    if pid is not None and pid_alive(pid, str(pg.data)):
        return pid
    return None


def running(state: Path | None = None) -> int | None:
    """The postmaster's pid when this cluster's server runs."""
    return _postmaster_pid(files(state))


def check_port(ports: Ports) -> None:
    ensure_port_free(ports.postgres, "PG_PORT", "PostgreSQL")


def _launch(ports: Ports, pg: PgFiles) -> bool:
    """Create the cluster if needed and start the server; False when it already ran."""
    if _postmaster_pid(pg) is not None:
        return False
    check_port(ports)
    bindir = ensure_bindir()
    pg.root.mkdir(parents=True, exist_ok=True)
    _init_cluster(bindir, pg)
    pg.socket_dir.mkdir(mode=0o700, exist_ok=True)
    pg.settings.write_text(render_settings(ports, pg.socket_dir), encoding="utf-8")
    _give_to_owner(pg)
    result = _run_as_owner(
        [
            str(bindir / "pg_ctl"),
            "--pgdata",
            str(pg.data),
            "--log",
            str(pg.log),
            "--wait",
            f"--timeout={READY_TIMEOUT:.0f}",
            "--silent",
            "start",
        ],
        pg,
    )
    if result.returncode != 0:
        raise StackError(
            f"PostgreSQL did not start ({(result.stdout + result.stderr).strip()}); "
            f"last lines of {pg.log}:\n{tail(pg.log)}\n"
            f"fix what {pg.log} says and run crnt-stack up again."
        )
    return True


async def _connect_socket(ports: Ports, pg: PgFiles) -> "asyncpg.Connection":
    return await asyncpg.connect(
        host=str(pg.socket_dir),
        port=ports.postgres,
        user=SUPERUSER,
        database=ADMIN_DATABASE,
        timeout=CONNECT_TIMEOUT,
    )


async def _wait_ready(ports: Ports, pg: PgFiles, deadline: float) -> None:
    """Retry a real connection and ``select 1`` until they work or the deadline passes."""
    while True:
        try:
            conn = await _connect_socket(ports, pg)
            try:
                if await conn.fetchval("select 1") == 1:
                    return
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass
        if time.monotonic() >= deadline:
            raise StackError(
                f"PostgreSQL was not ready within {READY_TIMEOUT:.0f} s; "
                f"last lines of {pg.log}:\n{tail(pg.log)}\n"
                f"look at {pg.log} for the cause, then run crnt-stack down and up."
            )
        await asyncio.sleep(0.3)


async def _bootstrap(ports: Ports, pg: PgFiles) -> None:
    """Role ``crnt`` (superuser: tests create databases) and the services' databases."""
    conn = await _connect_socket(ports, pg)
    try:
        role_exists = await conn.fetchval("select 1 from pg_roles where rolname = $1", ROLE)
        verb = "ALTER" if role_exists else "CREATE"
        await conn.execute(f"{verb} ROLE {ROLE} WITH LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
        for database in DATABASES:
            if not await conn.fetchval("select 1 from pg_database where datname = $1", database):
                await conn.execute(f'CREATE DATABASE "{database}" OWNER {ROLE}')
    finally:
        await conn.close()
    # What the services do: TCP on 127.0.0.1 with a password.
    conn = await asyncpg.connect(database_url(ports, DATABASES[0]), timeout=CONNECT_TIMEOUT)
    try:
        await conn.fetchval("select 1")
    finally:
        await conn.close()


async def start_postgres(ports: Ports | None = None, state: Path | None = None) -> None:
    """Start the cluster (creating it the first time) and wait until it answers ``select 1``;
    ensure role ``crnt`` and the databases. Harmless when it already runs."""
    ports = ports or Ports.from_env()
    pg = files(state)
    started = time.monotonic()
    launched = await asyncio.to_thread(_launch, ports, pg)
    if not launched:
        print(f"postgres: already running (pid {_postmaster_pid(pg)}) on {HOST}:{ports.postgres}")
    await _wait_ready(ports, pg, started + READY_TIMEOUT)
    try:
        await _bootstrap(ports, pg)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise StackError(
            f"creating role {ROLE} and the databases failed ({type(error).__name__}: {error}); "
            f"look at {pg.log}, then run crnt-stack up again."
        ) from None
    if launched:
        print(
            f"postgres: ready on {HOST}:{ports.postgres} (pid {_postmaster_pid(pg)}) "
            f"in {time.monotonic() - started:.1f} s; log {pg.log}",
            flush=True,
        )


def _stop(pg: PgFiles) -> None:
    pid = _postmaster_pid(pg)
    if pid is None:
        print("postgres: not running")
        return
    print(f"postgres: stopping pid {pid} ...", flush=True)
    bindir = find_bindir()
    if bindir is None:
        raise StackError("pg_ctl is not found: put the PostgreSQL server's bin folder on PATH.")
    for mode in ("fast", "immediate"):
        result = _run_as_owner(
            [
                str(bindir / "pg_ctl"),
                "--pgdata",
                str(pg.data),
                "--mode",
                mode,
                "--wait",
                f"--timeout={STOP_TIMEOUT}",
                "--silent",
                "stop",
            ],
            pg,
        )
        if result.returncode == 0 or _postmaster_pid(pg) is None:
            print("postgres: stopped")
            return
    raise StackError(
        f"PostgreSQL (pid {pid}) did not stop: kill it by hand (kill -9 {pid}); log {pg.log}."
    )


async def stop_postgres(state: Path | None = None) -> None:
    """Stop the cluster (``pg_ctl stop -m fast``); harmless when it does not run."""
    await asyncio.to_thread(_stop, files(state))


def start(ports: Ports, state: Path | None = None) -> None:
    asyncio.run(start_postgres(ports, state))


def stop(state: Path | None = None) -> None:
    _stop(files(state))


def status(ports: Ports, state: Path | None = None) -> ComponentStatus:
    return ComponentStatus("postgres", running(state), f"{HOST}:{ports.postgres}")

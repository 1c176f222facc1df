"""A throwaway PostgreSQL server for the test suite.

The store tests run on SQLite always, and on PostgreSQL too when PostgreSQL's server
binaries (``initdb`` and ``postgres``) can be found. The server is private to the test
session: a fresh cluster in a temporary directory, listening on a free TCP port on
127.0.0.1 only, with ``trust`` authentication and durability switched off (``fsync``,
``synchronous_commit`` and ``full_page_writes`` off) because nothing in it has to
survive. It is stopped and its directory deleted when the session ends.

Where the binaries are looked for, first hit wins:

1. ``$GLIA_PG_BIN``, a directory (for example ``/usr/lib/postgresql/16/bin``);
   ``GLIA_PG_BIN=none`` switches PostgreSQL off, so the store tests run on SQLite alone;
2. ``initdb`` on ``$PATH`` (symbolic links are followed to the real directory);
3. the newest ``/usr/lib/postgresql/*/bin`` (where Debian and Ubuntu install them,
   off ``$PATH``).

When none is found, :func:`find_postgres` says so in ``PgLookup.reason``; the fixture
below turns it into a pytest skip, which ``pytest -ra`` lists.

PostgreSQL refuses to run as root. When the tests run as root (CI does), ``initdb`` and
``postgres`` run as the unprivileged ``postgres`` system user (created by Debian's
``postgresql`` package), or ``nobody`` when there is no such user; the temporary
directory is created in a place that user can reach and is handed over to it. The server
is a direct child of the test process and, on Linux, is told by the kernel to shut down
when that process dies, even when it is killed outright (``SIGKILL``), so that no
server is left running after the session; the normal path stops it on context exit, and
an ``atexit`` hook stops any still running at interpreter exit.

Wiring it into ``tests/conftest.py`` (this directory has no ``__init__.py``, so pytest
puts it on ``sys.path`` and the module imports as ``_postgres``)::

    from collections.abc import Iterator

    import pytest
    from _postgres import drop_database, find_postgres, fresh_database, postgres_server


    @pytest.fixture(scope="session")
    def postgres_server_url() -> Iterator[str]:
        \"\"\"One throwaway PostgreSQL server for the whole session (skips when absent).\"\"\"
        lookup = find_postgres()
        if lookup.binaries is None:
            pytest.skip(lookup.reason)
        with postgres_server(lookup.binaries) as url:
            assert url is not None
            yield url


    @pytest.fixture
    def postgres_url(postgres_server_url: str) -> Iterator[str]:
        \"\"\"An empty database of its own for each test.\"\"\"
        url = fresh_database(postgres_server_url)
        yield url
        drop_database(url)  # WITH (FORCE): connections still open are ended

    # A store fixture parametrised over both back ends then reads:
    #   @pytest.fixture(params=["sqlite", "postgresql"])
    #   def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    #       if request.param == "sqlite":
    #           return f"sqlite:///{tmp_path / 'glia.db'}"
    #       return str(request.getfixturevalue("postgres_url"))

The session fixture looks once; every PostgreSQL case is then skipped with its reason,
which ``pytest -ra`` lists (one line per test function). ``drop_database`` matters for long suites: each database takes
about 7.5 MB of disk in the temporary directory until it is dropped.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

__all__ = [
    "DEFAULT_SETTINGS",
    "PgBinaries",
    "PgLookup",
    "PostgresServer",
    "PostgresStartError",
    "drop_database",
    "find_postgres",
    "fresh_database",
    "postgres_server",
]

ENV_VAR = "GLIA_PG_BIN"
DEFAULT_GLOBS: tuple[str, ...] = ("/usr/lib/postgresql/*/bin",)
_OFF_VALUES = frozenset({"none", "off", "0", "false", "no"})

#: Server settings for tests: nothing has to survive a crash, so durability is off.
DEFAULT_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "UTC",
    "max_connections": "200",
}

#: Unix socket paths are limited to 107 bytes on Linux (103 on macOS).
_SOCKET_PATH_MAX = 100


class PostgresStartError(RuntimeError):
    """The throwaway server could not be set up; the message carries the log tail."""


# --------------------------------------------------------------------------- binaries


@dataclass(frozen=True)
class PgBinaries:
    """A directory holding PostgreSQL's ``initdb`` and ``postgres``."""

    bindir: Path
    version: str  # as ``postgres --version`` prints it, e.g. "postgres (PostgreSQL) 15.8"

    @property
    def initdb(self) -> Path:
        return self.bindir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bindir / "postgres"


@dataclass(frozen=True)
class PgLookup:
    """The outcome of :func:`find_postgres`: binaries, or ``None`` and why not."""

    binaries: PgBinaries | None
    reason: str  # where they were found, or everywhere they were looked for

    def __bool__(self) -> bool:
        return self.binaries is not None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _check_bindir(bindir: Path) -> tuple[PgBinaries | None, str]:
    """The binaries in ``bindir``, or ``None`` and what is wrong with it."""
    missing = [name for name in ("initdb", "postgres") if not _is_executable(bindir / name)]
    if missing:
        return None, f"{bindir} has no {' or '.join(missing)}"
    try:
        done = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"{bindir / 'postgres'} does not run: {exc}"
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()
        return None, f"{bindir / 'postgres'} --version failed: {output}"
    return PgBinaries(bindir=bindir, version=done.stdout.strip()), ""


def _version_key(path: str) -> tuple[int, ...]:
    """Sort key for ``.../postgresql/<version>/bin``: 9.6 < 10 < 15 < 16."""
    numbers = re.findall(r"\d+", Path(path).parent.name)
    return tuple(int(n) for n in numbers)


def find_postgres(
    environ: Mapping[str, str] | None = None,
    fallback_globs: Sequence[str] = DEFAULT_GLOBS,
) -> PgLookup:
    """Find PostgreSQL's server binaries: ``$GLIA_PG_BIN``, then ``$PATH``, then the
    newest directory matching ``fallback_globs``.

    ``environ`` defaults to ``os.environ``; it and ``fallback_globs`` are parameters so
    the search can be tested on a machine that does have PostgreSQL.
    """
    env = os.environ if environ is None else environ
    tried: list[str] = []

    override = env.get(ENV_VAR, "").strip()
    if override.lower() in _OFF_VALUES:
        return PgLookup(None, f"PostgreSQL switched off by {ENV_VAR}={override}")
    if override:
        found, why = _check_bindir(Path(override))
        if found is not None:
            return PgLookup(found, f"{found.version} from {ENV_VAR}={override}")
        tried.append(f"{ENV_VAR}: {why}")
    else:
        tried.append(f"{ENV_VAR} not set")

    search_path = env.get("PATH", "")
    on_path = shutil.which("initdb", path=search_path)
    if on_path is not None:
        bindir = Path(on_path).resolve().parent
        found, why = _check_bindir(bindir)
        if found is not None:
            return PgLookup(found, f"{found.version} from {on_path} on PATH")
        tried.append(f"PATH: {why}")
    else:
        tried.append("no initdb on PATH")

    candidates = sorted(
        {hit for pattern in fallback_globs for hit in glob.glob(pattern)},
        key=_version_key,
        reverse=True,
    )
    for candidate in candidates:
        found, why = _check_bindir(Path(candidate))
        if found is not None:
            return PgLookup(found, f"{found.version} from {candidate}")
        tried.append(why)
    if not candidates:
        tried.append(f"nothing matches {', '.join(fallback_globs) or '(no fallback)'}")

    return PgLookup(
        None,
        "PostgreSQL server binaries (initdb, postgres) not found ("
        + "; ".join(tried)
        + "). Install PostgreSQL "
        "(Debian/Ubuntu: apt-get install postgresql) or set "
        f"{ENV_VAR} to its bin directory.",
    )


# --------------------------------------------------------------------------- server


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account the server runs under when we are root."""

    name: str
    uid: int
    gid: int


def _unprivileged_account() -> _RunAs | None:
    """``None`` when not root (run as ourselves), else the account to switch to."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd  # POSIX only

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return _RunAs(name=name, uid=entry.pw_uid, gid=entry.pw_gid)
    raise PostgresStartError(
        "running as root, and PostgreSQL refuses to: there is no 'postgres' or "
        "'nobody' account to run the test server under (create one, e.g. "
        "`useradd --system postgres`, or run the tests as an ordinary user)"
    )


def _reachable_by(path: Path, account: _RunAs) -> bool:
    """Whether ``account`` can traverse every directory from / down to ``path``."""
    current = path.resolve()
    for directory in [current, *current.parents]:
        info = directory.stat()
        if info.st_uid == account.uid:
            bit = stat.S_IXUSR
        elif info.st_gid == account.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _base_directory(account: _RunAs | None) -> str:
    """Where to create the cluster's temporary directory."""
    preferred = tempfile.gettempdir()
    if account is None:
        return preferred
    for candidate in (preferred, "/tmp", "/var/tmp"):
        if os.path.isdir(candidate) and _reachable_by(Path(candidate), account):
            return candidate
    raise PostgresStartError(
        f"no temporary directory the {account.name!r} account can reach "
        f"(tried {preferred}, /tmp, /var/tmp); set TMPDIR to one"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` making the kernel send SIGQUIT (PostgreSQL's immediate
    shutdown) to the child when this process dies, however it dies. Linux only.
    Strictly, the signal comes when the *thread* that started the server ends: start
    it from the main thread (pytest fixtures run there)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def set_death_signal() -> None:  # runs in the child, after the switch of user
        prctl(pr_set_pdeathsig, int(signal.SIGQUIT))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return set_death_signal


@dataclass(frozen=True)
class _Child:
    """``subprocess`` arguments for running a PostgreSQL program."""

    cwd: str
    env: dict[str, str]
    user: int | None
    group: int | None
    extra_groups: list[int] | None


_LIVE: set[PostgresServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


class PostgresServer:
    """A throwaway PostgreSQL cluster; a context manager whose ``__enter__`` returns
    itself, started, with :attr:`url` set.

    ``user`` is the superuser ``initdb`` creates, ``dbname`` the database created for
    :attr:`url`; ``settings`` are extra ``-c name=value`` server settings, over
    :data:`DEFAULT_SETTINGS`.
    """

    def __init__(
        self,
        binaries: PgBinaries,
        *,
        user: str = "glia",
        dbname: str = "glia",
        settings: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.binaries = binaries
        self.user = user
        self.dbname = dbname
        self.settings: dict[str, str] = {**DEFAULT_SETTINGS, **(settings or {})}
        self.startup_timeout = startup_timeout
        self.directory: Path | None = None
        self.port: int | None = None
        self.url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._account: _RunAs | None = None

    # -- paths

    def _dir(self) -> Path:
        if self.directory is None:
            raise RuntimeError("the server has not been started")
        return self.directory

    @property
    def data_directory(self) -> Path:
        return self._dir() / "data"

    @property
    def log_path(self) -> Path:
        return self._dir() / "postgres.log"

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log ('' when there is none)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Create the cluster, start the server, create the database; return the URL."""
        if self.url is not None:
            return self.url
        self._account = _unprivileged_account()
        self.directory = Path(
            tempfile.mkdtemp(prefix="glia-pg-", dir=_base_directory(self._account))
        )
        _LIVE.add(self)
        try:
            if self._account is not None:
                os.chown(self.directory, self._account.uid, self._account.gid)
            self._initdb()
            self._start_server()
            self._create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        assert self.port is not None
        self.url = URL.create(
            "postgresql+psycopg",
            username=self.user,
            host="127.0.0.1",
            port=self.port,
            database=self.dbname,
        ).render_as_string(hide_password=False)
        return self.url

    def stop(self) -> None:
        """Stop the server at once (immediate shutdown) and delete its directory.
        Safe to call more than once."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGQUIT)  # = pg_ctl stop -m immediate
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        self.url = None
        _LIVE.discard(self)

    # -- steps

    def _child(self) -> _Child:
        """How to run a PostgreSQL program: where, with what environment, as whom."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_"))}
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        account = self._account
        return _Child(
            cwd=str(self._dir()),
            env=env,
            user=None if account is None else account.uid,
            group=None if account is None else account.gid,
            # setting the groups drops root's supplementary groups
            extra_groups=None if account is None else [account.gid],
        )

    def _initdb(self) -> None:
        command = [
            str(self.binaries.initdb),
            "--pgdata",
            str(self.data_directory),
            "--username",
            self.user,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]
        child = self._child()
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                cwd=child.cwd,
                env=child.env,
                user=child.user,
                group=child.group,
                extra_groups=child.extra_groups,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresStartError(f"could not run {command[0]}: {exc}") from exc
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            raise PostgresStartError(
                f"initdb failed (exit {done.returncode}) in {self.directory}"
                + (f" as user {self._account.name!r}" if self._account else "")
                + f":\n{output}"
            )

    def _server_command(self, port: int) -> list[str]:
        directory = str(self._dir())
        socket_dir = directory if len(directory) + 20 <= _SOCKET_PATH_MAX else ""
        command = [
            str(self.binaries.postgres),
            "-D",
            str(self.data_directory),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={socket_dir}",
        ]
        for name, value in self.settings.items():
            command += ["-c", f"{name}={value}"]
        return command

    def _start_server(self) -> None:
        """Start ``postgres`` on a free port; try another port if that one was taken
        between picking it and the server binding it."""
        child = self._child()
        for _attempt in range(5):
            port = _free_port()
            offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    self._server_command(port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # no terminal Ctrl-C straight to the server
                    preexec_fn=_die_with_parent(),
                    cwd=child.cwd,
                    env=child.env,
                    user=child.user,
                    group=child.group,
                    extra_groups=child.extra_groups,
                )
            if self._wait_until_ready():
                self.port = port
                return
            new_log = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if "could not bind" in new_log or "could not create any TCP/IP" in new_log:
                (self.data_directory / "postmaster.pid").unlink(missing_ok=True)
                continue
            break
        raise PostgresStartError(self._failure("the server did not start"))

    def _wait_until_ready(self) -> bool:
        """Wait for the server to report itself ready in ``postmaster.pid`` (what
        ``pg_ctl start -w`` waits for); ``False`` when it exits first."""
        process = self._process
        assert process is not None
        pid_file = self.data_directory / "postmaster.pid"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                return False
            with contextlib.suppress(OSError):
                lines = pid_file.read_text().splitlines()
                # line 1: pid; line 8: status ("starting", "ready", ...) since PG 10
                if (
                    len(lines) >= 8
                    and lines[0].strip() == str(process.pid)
                    and lines[7].strip() == "ready"
                ):
                    return True
            time.sleep(0.01)
        raise PostgresStartError(
            self._failure(f"the server was not ready after {self.startup_timeout:.0f} s")
        )

    def _create_database(self, name: str) -> None:
        assert self.port is not None
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=self.user,
                dbname="postgres",
                autocommit=True,
                connect_timeout=10,
            ) as connection:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise PostgresStartError(
                self._failure(f"could not create database {name!r}: {exc}")
            ) from exc

    def _failure(self, what: str) -> str:
        who = f" as user {self._account.name!r}" if self._account else ""
        return (
            f"throwaway PostgreSQL ({self.binaries.version}, {self.binaries.bindir}){who}: "
            f"{what}. Last lines of {self.log_path}:\n{self.log_tail() or '(empty log)'}"
        )


@contextlib.contextmanager
def postgres_server(
    binaries: PgBinaries | None = None,
    *,
    user: str = "glia",
    dbname: str = "glia",
    settings: Mapping[str, str] | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[str | None]:
    """A throwaway server's SQLAlchemy URL (``postgresql+psycopg://glia@127.0.0.1:PORT/glia``)
    for the duration of the ``with`` block; ``None`` when no binaries are found (then
    ``find_postgres().reason`` says why). The keywords are :class:`PostgresServer`'s.
    """
    if binaries is None:
        binaries = find_postgres().binaries
        if binaries is None:
            yield None
            return
    server = PostgresServer(
        binaries, user=user, dbname=dbname, settings=settings, startup_timeout=startup_timeout
    )
    with server:
        yield server.url


# --------------------------------------------------------------------------- databases

_counter = itertools.count(1)


def _admin_connection(url: str | URL) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the ``postgres`` database of ``url``'s server."""
    target = make_url(url)
    return psycopg.connect(
        host=target.host or "127.0.0.1",
        port=target.port or 5432,
        user=target.username,
        password=target.password,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


def fresh_database(url: str | URL, name: str | None = None) -> str:
    """Create an empty database on the server of ``url`` and return ``url`` pointing to
    it. The name is unique unless given."""
    name = name or f"glia_{os.getpid()}_{next(_counter)}_{secrets.token_hex(3)}"
    with _admin_connection(url) as connection:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
        connection.execute(statement)
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str | URL) -> None:
    """Drop the database ``url`` names, ending any connections still open to it;
    nothing happens when it does not exist."""
    name = make_url(url).database
    if not name:
        raise ValueError(f"no database in {url!r}")
    with _admin_connection(url) as connection:
        force = (
            sql.SQL(" WITH (FORCE)") if connection.info.server_version >= 130000 else sql.SQL("")
        )
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force)
        )

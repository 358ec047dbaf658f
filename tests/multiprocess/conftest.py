"""Real daphne processes sharing PostgreSQL and a Redis server that the tests start and stop.

These tests run in .ci/run's PostgreSQL + Redis pass. They start their own redis-server on a free
loopback port (so stopping it never touches the shared one) and two daphne processes on free
loopback ports, and stop exactly what they started.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

REDIS_SERVER = shutil.which("redis-server")

requires_postgres_and_redis = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="several daphne processes need PostgreSQL and Redis: runs in .ci/run's PostgreSQL + Redis pass",
    ),
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed on this machine"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not ready after {timeout} s")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class RedisServer:
    """One redis-server of our own, on a fixed free port, that can be stopped and started again."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.workdir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), timeout=10, what="redis-server")

    def stop(self):
        stop(self.process)
        wait_until(lambda: not port_open(self.port), timeout=10, what="redis-server shutdown")


class Daphne:
    def __init__(self, environment: dict, logfile: Path):
        self.port = free_port()
        daphne = Path(sys.executable).parent / "daphne"
        command = [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "network.asgi:application"]
        self.log = logfile.open("wb")
        self.process = subprocess.Popen(
            command, env=environment, cwd=settings.BASE_DIR, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_until(self.answers, timeout=30, what=f"daphne on port {self.port}")

    def answers(self) -> bool:
        assert self.process.poll() is None, "daphne exited at start: see its log"
        try:
            urllib.request.urlopen(f"{self.http}/api/v1/notifications/", timeout=1)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self):
        stop(self.process)
        self.log.close()


def database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    # Each daphne process reads through its own connection pool (network/settings.py).
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def daphnes(transactional_db, redis_server, tmp_path):
    """Two daphne processes on the test database and our Redis."""
    (tmp_path / "staticfiles").mkdir()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "network.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_server.url,
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    }
    started = []
    try:
        for name in ("first", "second"):
            started.append(Daphne(environment, tmp_path / f"daphne-{name}.log"))
        yield started
    finally:
        for process in started:
            process.stop()

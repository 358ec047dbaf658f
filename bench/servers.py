"""The daphne processes the figures are measured on, started and stopped by the harness."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.conf import settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def persistent(database_url: str, seconds: int = 60) -> str:
    """``database_url`` with ``conn_max_age`` (README: daphne keeps its PostgreSQL connections)."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("conn_max_age", str(seconds))
    return urlunsplit(parts._replace(query=urlencode(query)))


def database_url_of(settings_dict: dict) -> str:
    """The URL of the database Django is connected to (the test database under pytest)."""
    credentials = quote(settings_dict["USER"] or "")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"])
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


def status_kb(pid: int, key: str) -> int:
    """One line of a process's /proc status in kB (Linux): ``VmRSS`` resident now, ``VmHWM`` its peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for process {pid}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    return status_kb(pid, "VmRSS") / 1024


class Daphne:
    """One daphne process serving ``bench.settings`` on a free loopback port, as README runs it."""

    def __init__(self, name: str, *, database_url: str, redis_url: str, workdir: Path):
        self.name = name
        self.port = free_port()
        self.logfile = workdir / f"daphne-{name}.log"
        static_root = workdir / "staticfiles"
        static_root.mkdir(parents=True, exist_ok=True)
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": persistent(database_url),
            "REDIS_URL": redis_url,
            "STATIC_ROOT": str(static_root),
            # Notification e-mails are not what is measured; a mail server would be.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "false",
        }
        daphne = Path(sys.executable).parent / "daphne"
        command = [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "network.asgi:application"]
        self.log = self.logfile.open("wb")
        self.process = subprocess.Popen(
            command, env=environment, cwd=settings.BASE_DIR, stdout=self.log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne {self.name} exited at start: see {self.logfile}")
            try:
                urllib.request.urlopen(f"{self.http}/bench/bare/", timeout=1).close()
                return
            except urllib.error.HTTPError as error:
                error.close()
                return  # 401 or 403: it answers
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne {self.name} does not answer after {timeout} s: see {self.logfile}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()

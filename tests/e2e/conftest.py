"""Browser tests: a real daphne process, a real SQLite file it can see, Debian's Chromium.

The server runs as a subprocess on a socket this process binds (port 0, passed with ``--fd``),
against a database file migrated and filled with the demo network for the test run, and with the
in-memory channel layer (one process). Its e-mails go through Django's file-based backend into a
folder of the test run (``sent_emails``), where a test reads the signed links the server sent.
Playwright's sync API drives /usr/bin/chromium; nothing is downloaded. Screenshots land in
``test-artifacts/``.
"""

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
_saved_artifacts: list[Path] = []
# Each server's environment (its database, its e-mail folder), by base URL.
_environments: dict[str, dict] = {}


def _server_environment(database: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "DEBUG")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="network.settings",
        PYTHONUNBUFFERED="1",
        STATIC_ROOT=str(database.parent / "staticfiles"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(database.parent / "mail"),
    )
    return env


def manage(server: str, *args) -> None:
    """Run ``manage.py`` on ``server``'s database (it is SQLite: the server sees the change at once)."""
    _run(list(args), _environments[server])


def sent_emails(server: str) -> list[email.message.EmailMessage]:
    """The e-mails ``server`` has sent so far, oldest first (the file-based backend writes one file
    per connection, its messages separated by a line of dashes)."""
    folder = Path(_environments[server]["EMAIL_FILE_PATH"])
    messages = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                messages.append(email.message_from_bytes(raw.lstrip(), policy=email.policy.default))
    return messages


def _run(args, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a daphne process serving a migrated SQLite file holding the demo network."""
    workdir = tmp_path_factory.mktemp("e2e-server")
    (workdir / "staticfiles").mkdir()
    env = _server_environment(workdir / "db.sqlite3")
    _run(["migrate", "--noinput", "-v", "0"], env)
    _run(["demo_load"], env)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    env["SITE_URL"] = f"http://127.0.0.1:{port}"  # the links in its e-mails lead back to it
    log = open(workdir / "daphne.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "daphne"), "--fd", str(listener.fileno()), "network.asgi:application"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=(listener.fileno(),),
    )
    base_url = f"http://127.0.0.1:{port}"
    _environments[base_url] = env
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base_url + "/login/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("daphne did not start:\n" + (workdir / "daphne.log").read_text())
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        listener.close()
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
            "Install it with `apt-get install -y chromium` (.ci/run and `make test` do it when they can)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser):
    """Open a fresh browser context (its own cookies: one person each); all closed at the end.

    Every page of every context is watched: a Content-Security-Policy violation reported in its
    console fails the test (network/security.py: no inline script, nothing from another origin).
    """
    contexts = []
    violations = []

    def watch(page):
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
            ),
        )

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        options.setdefault("locale", "fr-FR")
        context = browser.new_context(**options)
        context.set_default_timeout(15000)
        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


def save_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _saved_artifacts.append(path)
    print(f"screenshot: {path}")
    return path


def serious_accessibility_violations(page) -> list[dict]:
    """axe-core (served from this repository) on the current page: violations of impact serious or critical."""
    # Evaluated through the browser's debugging protocol rather than added as an inline <script>,
    # which the pages' Content-Security-Policy refuses.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def pytest_terminal_summary(terminalreporter):
    if _saved_artifacts:
        terminalreporter.write_sep("-", "browser test artifacts")
        for path in _saved_artifacts:
            terminalreporter.write_line(str(path))

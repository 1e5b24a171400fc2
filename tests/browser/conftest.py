"""A real `triage serve` process and a real headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.server import run_triage, serving, triage_env

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
REPORTS = REPO / "tests" / "files" / "dashboard"
PASSWORD = "browser-test-password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Site:
    """The running server: its URL and an API key to post reports with."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.key = key

    def post_report(self, name: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base_url}/v1/reports",
            content=(REPORTS / name).read_bytes(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`triage serve --no-worker` on SQLite and an embedded Redis, with one analyst and one API key."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); `make test` installs it")
    var_dir = tmp_path_factory.mktemp("browser-var")
    env = triage_env(var_dir=var_dir, database_url=None, redis_url=None, DASHBOARD_REFRESH_SECONDS="1")
    run_triage("users", "add", "ana", "--role", "analyst", env=env, stdin=PASSWORD + "\n")
    key = run_triage("keys", "create", "--name", "browser-operator", env=env).strip().splitlines()[-1]
    with serving("--no-worker", env=env) as base_url:
        yield Site(base_url, key)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="triage-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 900},
            )
            context.set_default_timeout(10_000)
            yield context
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(browser: Any) -> Any:
    """One tab for the whole module: the tests follow an analyst's session in order."""
    tab = browser.pages[0] if browser.pages else browser.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    return tab


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=False)

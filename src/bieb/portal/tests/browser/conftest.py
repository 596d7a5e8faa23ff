"""Headless Chromium through Playwright for the browser and accessibility tests.

Uses Debian's Chromium (``/usr/bin/chromium`` or env ``BIEB_CHROMIUM``); Playwright's own
browser download is never used. Without Chromium these tests are skipped, unless
``BIEB_REQUIRE_BROWSER=1`` (CI), where a missing browser is a failure.

One browser per test session (per xdist worker), a fresh context (cookies, storage) per test.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    configured = os.environ.get("BIEB_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


def require_browser() -> bool:
    return os.environ.get("BIEB_REQUIRE_BROWSER", "") == "1"


def allow_orm_beside_playwright():
    """Let Django's ORM run in this thread while Playwright's event loop is running in it.

    Playwright's sync API keeps an asyncio loop running in the test thread from start() to
    stop(), so Django's async-safety check would refuse the plain synchronous ORM calls that
    tests (including non-browser tests on the same xdist worker) make. The usual switch is
    DJANGO_ALLOW_ASYNC_UNSAFE=true, but an environment variable leaks into subprocesses the
    suite starts (``bieb check --deploy`` rightly fails on it). So we blind only Django's check,
    only in this process, only while the browser runs. Returns the function that restores it.
    """
    import django.utils.asyncio as django_asyncio

    original = django_asyncio.get_running_loop

    def no_async_context_for_django():
        raise RuntimeError("Playwright's loop is not an async context for Django")

    django_asyncio.get_running_loop = no_async_context_for_django

    def restore() -> None:
        django_asyncio.get_running_loop = original

    return restore


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    reason = "Chromium not installed: apt-get install -y chromium; browser tests skipped"
    if executable is None:
        if require_browser():
            pytest.fail(f"BIEB_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        if require_browser():
            pytest.fail("BIEB_REQUIRE_BROWSER=1 but playwright is not installed", pytrace=False)
        pytest.skip("playwright is not installed; browser tests skipped")

    playwright = sync_playwright().start()
    restore_django_loop_check = allow_orm_beside_playwright()
    try:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
    except Exception as error:
        playwright.stop()
        restore_django_loop_check()
        if require_browser():
            pytest.fail(f"Chromium at {executable} did not start: {error}", pytrace=False)
        pytest.skip(f"Chromium at {executable} did not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()
    restore_django_loop_check()


@pytest.fixture
def new_context(browser, live_server):
    """Make a fresh browser context (own cookies and storage); closed after the test."""
    contexts = []

    def make(*, viewport: dict | None = None, service_workers: str = "block", **options):
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or DESKTOP,
            locale="nl-NL",
            service_workers=service_workers,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture
def phone_page(new_context):
    return new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2.1 A and AA rules) on the page; return serious/critical violations."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        """async (tags) => await axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        AXE_TAGS,
    )
    return [v for v in results["violations"] if v["impact"] in {"serious", "critical"}]


def axe_report(violations: list[dict], where: str) -> str:
    lines = [f"{len(violations)} serious/critical accessibility violation(s) on {where}:"]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@pytest.fixture
def assert_accessible():
    def check(page, where: str | None = None) -> None:
        violations = axe_violations(page)
        assert not violations, axe_report(violations, where or page.url)

    return check

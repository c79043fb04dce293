"""Issue 16: ``/docs`` works in a real browser, offline: authorize, create, upload.

The service runs on a free loopback port (SQLite in a temporary folder, a test-mode key);
Debian's Chromium, driven by Playwright, opens ``/docs``, authorizes with the key, runs
"Try it out" on the create operation with its example body and on the document upload
(``kind`` chosen, a drawn ID card front as ``file``), and reads the 201s from the page.
Every request the page makes to anything but the local server is blocked and fails the
test: Swagger UI's assets come from the installed swagger-ui-bundle package, not a CDN.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kyc_service.app import create_app
from kyc_service.domain.access import ALL_SCOPES, Mode
from kyc_service.services.api_keys import create_key
from schemas.examples import INDIVIDUAL_CREATE
from tests.conftest import _migrated_sqlite, missing
from tests.helpers import serving_in_thread
from tests.synthetic import card_photos

CHROMIUM = Path("/usr/bin/chromium")
CREATE = "#operations-verifications-post_v1_verifications"
UPLOAD = "#operations-verifications-post_v1_verifications__verification_id__documents"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright (skipped, or failed under CI, when missing)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install playwright)")
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        missing(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The service on a free loopback port; yields its base URL and a test key."""
    app = create_app(
        {
            "DATABASE_URL": _migrated_sqlite(tmp_path / "kyc.db"),
            "KEYSTORE_URL": _migrated_sqlite(tmp_path / "keys.db", keystore=True),
        }
    )
    key = create_key(app.extensions["kyc"].unit_of_work(), "docs", Mode.TEST, frozenset(ALL_SCOPES))
    try:
        with serving_in_thread(app) as base:
            yield base, key
    finally:
        app.extensions["kyc"].close()


def _local_only(page, base: str) -> list[str]:  # noqa: ANN001 - a Playwright page
    """Let the page reach only ``base``; return the list of every other URL it asked for."""
    elsewhere: list[str] = []

    def route(request_route) -> None:  # noqa: ANN001
        url = request_route.request.url
        if url.startswith(f"{base}/") or url.startswith("data:"):
            request_route.continue_()
        else:
            elsewhere.append(url)
            request_route.abort()

    page.route("**/*", route)
    return elsewhere


def _authorize(page, key: str) -> None:  # noqa: ANN001
    """Enter the key in the bearer scheme of Swagger UI's "Authorize" dialog."""
    page.click("button.authorize")
    dialog = page.locator(".modal-ux")
    dialog.locator("input").first.fill(key)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()


def _try_it_out(page, operation: str) -> object:  # noqa: ANN001
    """Open an operation and press "Try it out"; return its block."""
    block = page.locator(operation)
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    return block


def _execute(block) -> tuple[int, dict]:  # noqa: ANN001
    """Press "Execute" and read the live response's status and JSON body from the page."""
    block.locator("button.execute").click()
    live = block.locator(".live-responses-table .response")
    live.wait_for(timeout=TIMEOUT_MS)
    status = int(live.locator(".response-col_status").inner_text().strip())
    body = live.locator(".response-col_description pre.microlight").first.inner_text()
    return status, json.loads(body)


def test_docs_authorize_create_and_upload(browser, served) -> None:  # noqa: ANN001
    base, key = served
    front = card_photos(INDIVIDUAL_CREATE)["id_card_front"]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    elsewhere = _local_only(page, base)
    page.goto(f"{base}/docs")
    page.wait_for_selector(CREATE)
    _authorize(page, key)

    status, created = _execute(_try_it_out(page, CREATE))
    assert status == 201, created
    assert created["object"] == "verification"
    assert "document.id_card_front" in created["requirements"]

    block = _try_it_out(page, UPLOAD)
    block.locator("tr[data-param-name='verification_id'] input").fill(created["id"])
    block.locator("select").filter(has_text="id_card_front").select_option("id_card_front")
    block.locator("input[type=file]").set_input_files(
        {"name": "front.jpg", "mimeType": "image/jpeg", "buffer": front}
    )
    status, document = _execute(block)
    assert status == 201, document
    assert (document["object"], document["kind"]) == ("document", "id_card_front")
    context.close()
    assert elsewhere == [], f"the docs page asked for other hosts: {elsewhere}"

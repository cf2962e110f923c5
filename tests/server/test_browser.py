"""The console in a real headless Chromium (Debian's `chromium`, driven by
Playwright with the system browser): sign in, open the queue, reveal an item, grade
it with the keyboard, land on the next, ask for a second opinion, and settle it as a
supervisor. Screenshots go to `artifacts/browser/` (set VIGIL_ARTIFACTS to move
them)."""

import os
import pathlib
import shutil
import socket
import threading
import time
import typing as t

import pytest

from console_case import PASSWORD, Console

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = bool(os.environ.get("VIGIL_REQUIRE_BROWSER"))  # .ci/run sets it
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and not REQUIRED, reason="no chromium (.ci/run installs it)"
    ),
]
ARTIFACTS = pathlib.Path(os.environ.get("VIGIL_ARTIFACTS", "artifacts")) / "browser"


@pytest.fixture
def served(console: Console) -> str:
    import uvicorn

    from vigil.server.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(console.settings, console.store),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"  # type: ignore[misc]
    server.should_exit = True
    thread.join(timeout=10)


def test_an_analyst_grades_with_the_keyboard_and_a_supervisor_settles(
    console: Console, served: str
) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        confirmed: list[str] = []

        def confirm(dialog: t.Any) -> None:  # a cluster decision asks first
            confirmed.append(dialog.message)
            dialog.accept()

        page.on("dialog", confirm)
        _sign_in(page, served, "ana")
        page.goto(f"{served}/queue")
        assert page.locator("table.queue tbody tr").count() >= 3
        page.screenshot(path=ARTIFACTS / "1-queue.png", full_page=True)

        page.locator("a.open").first.click()
        page.wait_for_url(f"{served}/items/*")
        first = page.url
        page.screenshot(path=ARTIFACTS / "2-item-blurred.png", full_page=True)
        page.keyboard.press("r")
        page.wait_for_selector("img.revealed")
        page.screenshot(path=ARTIFACTS / "3-item-revealed.png", full_page=True)
        page.keyboard.press("?")
        assert page.locator("#help").is_visible()
        page.screenshot(path=ARTIFACTS / "4-keys.png", full_page=True)
        page.keyboard.press("?")

        page.keyboard.press("n")  # no child, off remit
        page.wait_for_url(lambda url: url != first and "/items/" in url)
        second = page.url
        page.screenshot(path=ARTIFACTS / "5-next-item.png", full_page=True)
        page.keyboard.press("s")  # ask for a second opinion...
        assert page.locator("#second_opinion").is_checked()
        page.keyboard.press("q")  # ...on "age in question"
        page.wait_for_url(lambda url: url != second)
        assert not confirmed  # it waits for the second opinion: nothing to confirm
        page.locator("nav form button").click()  # sign out
        page.wait_for_url(f"{served}/login")

        _sign_in(page, served, "sam")
        page.goto(f"{served}/second-opinions")
        page.screenshot(path=ARTIFACTS / "6-second-opinions.png", full_page=True)
        page.locator("a.open").first.click()
        page.wait_for_selector("text=Settle a second opinion")
        page.screenshot(path=ARTIFACTS / "7-settle.png", full_page=True)
        page.keyboard.press("a")  # suspected adult, for the whole cluster
        page.wait_for_url(f"{served}/second-opinions")
        assert confirmed and "more items of the cluster" in confirmed[0]
        assert "No second opinion is waiting" in page.content()
        page.screenshot(path=ARTIFACTS / "8-settled.png", full_page=True)
        browser.close()
    settled = [r for r in console.store.audit.records() if r.details.get("settles")]
    assert len(settled) == 1 and settled[0].actor == "sam"
    # the settled decision, not the first one, went to the rest of the cluster
    carried = [
        a for a in console.store.triage.current().values() if a.source == "propagated"
    ]
    assert len(carried) == 2
    assert {a.observations["reason"] for a in carried} == {"suspected_adult"}
    assert {"login", "view", "reveal", "decision", "second_opinion"} <= {
        r.action for r in console.store.audit.records()
    }
    assert console.store.audit.verify().ok


def _sign_in(page: object, served: str, username: str) -> None:
    page.goto(f"{served}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{served}/queue")  # type: ignore[attr-defined]

"""Steps the Chromium tests share: open a signed-in page, take a screenshot, read flash messages."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from workflow.commands import DEMO_PASSWORD

TIMEOUT_MS = 60_000


def new_page(browser):
    """Open a page in a new context: Thai locale, a desktop viewport, a generous timeout."""
    context = browser.new_context(locale="th-TH", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def open_as(browser, base_url: str, username: str, path: str):
    """Open `path` in a new context and sign in as `username` on the login page it redirects to."""
    page = new_page(browser)
    page.goto(base_url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def screenshot(page, tmp_path, name: str) -> Path:
    """Save a full-page screenshot once the fonts have loaded; also copy it to SARABAN_SCREENSHOT_DIR if set."""
    path = tmp_path / name
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("SARABAN_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def flash_text(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())

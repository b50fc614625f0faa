"""A clerk in headless Chromium: sign in, upload a scanned district letter, check and correct it.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against the app served on a
free loopback port with a temporary SQLite database. Set SARABAN_SCREENSHOT_DIR to keep the
screenshots for a look.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import SAMPLES
from workflow import commands
from workflow.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
SAMPLE_PDF = SAMPLES / "000_6094e22fb7add413-sarabun.pdf"
SUBJECT = "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"
CORRECTED_SUBJECT = "การใช้งานระบบบัญชีคาร์บอนเครดิตขององค์กรปกครองส่วนท้องถิ่น"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    if not SAMPLE_PDF.exists():
        pytest.skip(f"{SAMPLE_PDF.name} is missing: build it with scripts/build_samples.py")
    root = tmp_path_factory.mktemp("browser")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{root / 'saraban.db'}",
            "SARABAN_STORAGE": str(root / "originals"),
            "REDIS_URL": None,
            "SECRET_KEY": "browser-test",
        }
    )
    commands.init_db(app)
    commands.seed_demo_users(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    app.extensions["saraban.db"].dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(locale="th-TH", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.goto(f"{server_url}/login")
    tab.fill("input[name=username]", "saraban")
    tab.fill("input[name=password]", commands.DEMO_PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{server_url}/documents")
    yield tab
    context.close()


def screenshot(page, tmp_path, name: str) -> Path:
    path = tmp_path / name
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("SARABAN_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def upload(page, server_url, path: Path) -> None:
    page.goto(f"{server_url}/upload")
    page.set_input_files("input[name=files]", str(path))
    page.click("form[enctype] button[type=submit]")


def test_upload_check_and_correct_letter(page, server_url, tmp_path):
    upload(page, server_url, SAMPLE_PDF)
    page.wait_for_selector("text=พบหนังสือ 2 ฉบับ")
    letters = page.locator("section.letter")
    assert letters.count() == 2

    first = letters.nth(0)
    subject_row = first.locator("tr.field[data-field=subject]")
    assert subject_row.locator(".value").inner_text().strip() == SUBJECT
    warnings = first.locator("li.warning .warning-message")
    assert warnings.count() > 0
    assert "ก่อนวันที่ของหนังสือ" in " ".join(warnings.all_inner_texts())

    subject_row.locator("th").click()
    active = first.locator("mark.span.active")
    assert active.count() == 1
    assert active.inner_text() == SUBJECT
    screenshot(page, tmp_path, "document.png")

    subject_row.locator("details.correct summary").click()
    subject_row.locator("input[name=value]").fill(CORRECTED_SUBJECT)
    subject_row.locator("button[type=submit]").click()
    page.wait_for_selector("text=บันทึกการแก้ไขช่อง")
    page.reload()
    subject_row = page.locator("section.letter").nth(0).locator("tr.field[data-field=subject]")
    assert subject_row.locator(".value").inner_text().strip() == CORRECTED_SUBJECT
    assert "แก้ไขโดย นางสาวสมศรี ใจดี" in subject_row.locator(".correction-note").inner_text()
    assert SUBJECT in subject_row.locator(".correction-note").inner_text()
    screenshot(page, tmp_path, "corrected.png")

    page.goto(f"{server_url}/documents")
    row = page.locator("table.list tbody tr", has_text=SAMPLE_PDF.name)
    assert CORRECTED_SUBJECT in row.inner_text()
    assert "อ่านแล้ว" in row.inner_text()
    screenshot(page, tmp_path, "documents.png")


def test_html_named_pdf_shows_thai_message(page, server_url, tmp_path):
    fake = tmp_path / "หนังสือด่วนที่สุด.pdf"
    fake.write_text(
        "<!DOCTYPE html><html><head><title>ระบบสารบรรณอิเล็กทรอนิกส์</title></head>"
        "<body>กรุณาเข้าสู่ระบบ</body></html>",
        encoding="utf-8",
    )
    upload(page, server_url, fake)
    page.wait_for_selector("#job-panel[data-status=failed]")
    message = page.locator(".error-box .error-message").inner_text()
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in message)
    assert page.locator(".error-box .error-code code").inner_text() == "unsupported_type"
    screenshot(page, tmp_path, "unsupported.png")

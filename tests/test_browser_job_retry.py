"""A scan whose parse ran past the job time limit, retried from its page in headless Chromium.

The clerk uploads page 1 of a real scanned DLA circular while the limit is 1 second, sees the
Thai failure message and the retry button, and after the limit is raised presses the button:
the same stored original is read again, and the letter page shows the image crops of the
values that OCR could not check.
"""

from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.browser_helpers import TIMEOUT_MS, screenshot
from tests.test_browser_upload import CHROMIUM, CHROMIUM_ARGS
from tests.test_crops import SCAN, SCANS, first_page
from workflow import commands
from workflow.app import create_app

pytestmark = pytest.mark.browser

# Reading one scanned page takes several seconds, so it can take a while on a busy machine.
OCR_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    if shutil.which("tesseract") is None:
        pytest.skip("needs the tesseract command")
    if not SCAN.is_file():
        pytest.skip(f"the real scans are not at {SCANS} (set SARABAN_SAMPLES_REAL)")
    root = tmp_path_factory.mktemp("browser-retry")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{root / 'saraban.db'}",
            "SARABAN_STORAGE": str(root / "originals"),
            "REDIS_URL": None,
            "SECRET_KEY": "browser-test",
            "SARABAN_JOB_TIMEOUT": 1,
        }
    )
    commands.init_db(app)
    commands.seed_demo_users(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    app.extensions["saraban.db"].dispose()


def test_timed_out_scan_retried_with_crops(served_app, tmp_path):
    from playwright.sync_api import sync_playwright

    app, server_url = served_app
    scan = tmp_path / "มท0809.3-ว159-หน้า1.pdf"
    scan.write_bytes(first_page(SCAN.read_bytes()))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="th-TH", viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            tab = context.new_page()
            tab.goto(f"{server_url}/login")
            tab.fill("input[name=username]", "saraban")
            tab.fill("input[name=password]", commands.DEMO_PASSWORD)
            tab.click("button[type=submit]")
            tab.wait_for_url(f"{server_url}/documents")

            tab.goto(f"{server_url}/upload")
            tab.set_input_files("input[name=files]", str(scan))
            tab.click("form[enctype] button[type=submit]")
            # The page polls the job and reloads when it ends.
            tab.wait_for_selector("#job-panel[data-status=failed]")
            assert tab.locator(".error-box code").inner_text() == "job_timeout"
            assert "ใช้เวลาเกิน 1 วินาที" in tab.locator(".error-box .error-message").inner_text()
            retry = tab.locator("#retry-parse")
            assert retry.is_visible()
            screenshot(tab, tmp_path, "job-timeout.png")

            # An administrator raises the limit; the clerk presses the button.
            app.config["SARABAN_JOB_TIMEOUT"] = 600
            retry.click()
            tab.wait_for_selector(".flash", state="attached")
            assert "ส่งเอกสารเข้าคิวอ่านอีกครั้งแล้ว" in " ".join(tab.locator(".flash").all_inner_texts())
            tab.wait_for_selector("text=พบหนังสือ 1 ฉบับ", timeout=OCR_TIMEOUT_MS)
            assert tab.locator("#retry-parse").count() == 0

            crops = tab.locator("figure.value-crop img")
            assert crops.count() >= 1
            for index in range(crops.count()):
                image = crops.nth(index)
                image.scroll_into_view_if_needed()
                tab.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
                row_field = image.evaluate("image => image.closest('tr.field').dataset.field")
                assert row_field in ("doc_number", "date"), row_field
            screenshot(tab, tmp_path, "retried-with-crops.png")
            context.close()
        finally:
            browser.close()

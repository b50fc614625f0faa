"""Document pages in headless Chromium: a rejected correction stays in view, and who may open a letter.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against the app served on a
free loopback port with a temporary SQLite database. Set SARABAN_SCREENSHOT_DIR to keep the
screenshots for a look.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PROVINCE_LETTER_TEXT
from tests.test_browser_upload import CHROMIUM, TIMEOUT_MS, screenshot
from workflow import commands, operations
from workflow.app import create_app, new_session

pytestmark = pytest.mark.browser

DENIED_TH = "ไม่มีสิทธิ์เข้าถึงเอกสารนี้"
# The Chiang Rai circular stamped ลับ at top and bottom, as a district office received it.
SECRET_LETTER = "ลับ\n" + PROVINCE_LETTER_TEXT + "\nลับ"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    root = tmp_path_factory.mktemp("browser-documents")
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
    with app.app_context():
        session = new_session()
        operations.create_user(session, "maesai.officer", "นายวิชัย ทองดี", commands.DEMO_PASSWORD, "DIST-5709", "officer")
        session.close()
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
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_tab(browser, server_url):
    """Return a function that signs a user in within a fresh browser context and returns the tab."""
    contexts = []

    def sign_in(username: str, width: int = 1400):
        context = browser.new_context(locale="th-TH", viewport={"width": width, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = context.new_page()
        tab.goto(f"{server_url}/login")
        tab.fill("input[name=username]", username)
        tab.fill("input[name=password]", commands.DEMO_PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{server_url}/documents")
        return tab

    yield sign_in
    for context in contexts:
        context.close()


def upload_text(tab, server_url, tmp_path, name: str, text: str) -> str:
    """Upload a letter as a text file, wait for its parse, and return the document page's address."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    tab.goto(f"{server_url}/upload")
    tab.set_input_files("input[name=files]", str(path))
    tab.click("form[enctype] button[type=submit]")
    tab.wait_for_selector("text=พบหนังสือ 1 ฉบับ")
    return tab.url


def test_rejected_date_shown_beside_field(open_tab, server_url, tmp_path):
    tab = open_tab("saraban")
    upload_text(tab, server_url, tmp_path, "ชร-ว3200-วันที่.txt", PROVINCE_LETTER_TEXT + "\n")
    row = tab.locator("tr.field[data-field=date]")
    row.locator("details.correct > summary").click()
    row.locator("input[name=value]").fill("31 กุมภาพันธ์ 2568")
    row.locator("button[type=submit]").click()

    tab.wait_for_selector("tr.field.rejected .field-error")
    row = tab.locator("tr.field[data-field=date]")
    error = row.locator(".field-error")
    assert error.is_visible()
    assert "ไม่มีวันที่ “31 กุมภาพันธ์ 2568” ในปฏิทิน" in error.inner_text()
    assert error.locator("code").inner_text() == "date_not_in_calendar"
    assert row.locator("details.correct").get_attribute("open") is not None
    assert row.locator("input[name=value]").input_value() == "31 กุมภาพันธ์ 2568"
    box = error.bounding_box()
    viewport = tab.viewport_size
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= viewport["height"]
    assert row.locator(".value").inner_text().strip() == "2 เมษายน 2568"
    screenshot(tab, tmp_path, "rejected-date.png")


def test_deadline_corrected_without_json(open_tab, server_url, tmp_path):
    tab = open_tab("saraban")
    upload_text(tab, server_url, tmp_path, "ชร-ว3200-กำหนด.txt", PROVINCE_LETTER_TEXT + "\n\n")
    row = tab.locator("tr.field[data-field=deadlines]")
    row.locator("details.correct > summary").click()
    assert row.get_by_text("JSON").count() == 0
    row.locator("details.item-new > summary").click()
    row.locator("select[name='new.kind']").select_option("relative")
    row.locator("input[name='new.days']").fill("7")
    row.locator("input[name='new.working_days']").check()
    row.locator("input[name='new.text']").fill("ภายใน ๗ วันทำการ")
    row.locator("button[type=submit]").click()
    tab.wait_for_selector("text=บันทึกการแก้ไขช่อง")
    assert tab.locator("tr.field[data-field=deadlines] .field-saved").is_visible()
    value = tab.locator("tr.field[data-field=deadlines] .value").inner_text()
    assert "ภายใน 7 วันทำการ นับแต่วันที่ได้รับหนังสือ" in value


def test_secret_letter_refused_outside_clerks(open_tab, server_url, tmp_path):
    clerk = open_tab("saraban")
    document_url = upload_text(clerk, server_url, tmp_path, "ชร-ลับ.txt", SECRET_LETTER)
    assert clerk.locator("tr.field[data-field=secrecy] .value").inner_text().strip() == "ลับ"
    assert clerk.locator("h1 .tag-circular").inner_text() == "หนังสือเวียน"

    for username in ("wiangphangkham.officer", "maesai.officer"):
        tab = open_tab(username)
        response = tab.goto(document_url)
        assert response.status == 403, username
        assert DENIED_TH in tab.locator(".error-box .error-message").inner_text()
        assert tab.locator("tr.field").count() == 0
        original = tab.request.get(f"{document_url}/original")
        assert original.status == 403, username
        api = tab.request.get(document_url.replace("/documents/", "/api/documents/"))
        assert api.status == 403, username
        tab.goto(f"{server_url}/documents")
        assert tab.locator("table.list", has_text="ชร-ลับ.txt").count() == 0
        screenshot(tab, tmp_path, f"denied-{username}.png")

    supervisor = open_tab("maesai.supervisor")
    assert supervisor.goto(document_url).status == 200
    assert supervisor.locator("tr.field[data-field=subject]").count() == 1


def test_document_list_fits_narrow_screen(open_tab, server_url, tmp_path):
    tab = open_tab("saraban", width=400)
    upload_text(tab, server_url, tmp_path, "ชร-ว3200-จอเล็ก.txt", PROVINCE_LETTER_TEXT + "\n\n\n")
    tab.goto(f"{server_url}/documents")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 400
    assert tab.locator(".table-scroll").count() == 1
    screenshot(tab, tmp_path, "documents-400.png")

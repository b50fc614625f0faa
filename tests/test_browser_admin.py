"""The admin screens in headless Chromium, used by the Mae Sai district office's admin.

The admin adds a declared holiday, grants a delegation, adds a clerk and sets the book code.

The accounts are the demo accounts of `saraban setup` (`commands.seed_demo_users`), signed in
with the demo password. Set SARABAN_SCREENSHOT_DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser_helpers import flash_text, open_as, screenshot
from workflow import commands
from workflow.app import create_app
from workflow.models import User
from workflow.routing.models import DeclaredHoliday, Delegation

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
ADMIN = "maesai.admin"
ORDER = "คำสั่งสำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย ที่ 12/2570"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    root = tmp_path_factory.mktemp("browser_admin")
    app = create_app({
        "DATABASE_URL": f"sqlite:///{root / 'saraban.db'}",
        "SARABAN_STORAGE": str(root / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "browser-admin-test",
    })
    commands.init_db(app)
    commands.seed_demo_users(app)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    app.extensions["saraban.db"].dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_admin_adds_holiday_and_grants_delegation(server, browser, tmp_path):
    app, base_url = server
    page = open_as(browser, base_url, ADMIN, "/admin/holidays")

    assert page.locator("h1").inner_text().startswith("วันหยุดราชการ ปี พ.ศ.")
    page.fill("#add-holiday input[name=day]", "9 มีนาคม 2570")
    page.fill("#add-holiday input[name=name_th]", "วันหยุดราชการเพิ่มเป็นกรณีพิเศษ")
    page.click("#add-holiday button[type=submit]")
    page.wait_for_load_state()
    screenshot(page, tmp_path, "admin-holidays.png")

    assert "เพิ่มวันหยุด “วันหยุดราชการเพิ่มเป็นกรณีพิเศษ” วันที่ 9 มีนาคม 2570 แล้ว" in flash_text(page)
    row = page.locator("#holidays tr[data-day='2027-03-09']")
    assert "ครม. ประกาศเพิ่ม" in row.inner_text()
    assert "จะเป็นวันที่ 5 มีนาคม 2570" in row.inner_text()

    page.click("nav.admin-tabs >> text=การมอบอำนาจ")
    page.wait_for_load_state()
    page.select_option("#grant-delegation select[name=delegate_id]", label="นายประเสริฐ วงศ์คำ (ผู้บังคับบัญชา)")
    page.check("#grant-delegation input[value=acting]")
    page.fill("#grant-delegation input[name=principal_position_th]", "ท้องถิ่นอำเภอแม่สาย")
    page.fill("#grant-delegation input[name=valid_from]", "8 มีนาคม 2570")
    page.fill("#grant-delegation input[name=valid_until]", "12 มีนาคม 2570")
    page.fill("#grant-delegation input[name=order_reference]", ORDER)
    page.click("#grant-delegation button[type=submit]")
    page.wait_for_load_state()
    screenshot(page, tmp_path, "admin-delegations.png")

    assert "บันทึกการมอบอำนาจให้ นายประเสริฐ วงศ์คำ รักษาราชการแทนท้องถิ่นอำเภอแม่สาย" in flash_text(page)
    assert ORDER in page.locator("#delegations").inner_text()

    session = app.extensions["saraban.db"].session()
    try:
        assert session.get(DeclaredHoliday, date(2027, 3, 9)) is not None
        delegation = session.scalar(select(Delegation))
        delegate = session.get(User, delegation.delegate_id)
        assert delegate.username == "maesai.supervisor"
        assert delegation.valid_until == date(2027, 3, 12)
    finally:
        session.close()
    page.context.close()


def test_clerk_gets_thai_refusal_on_admin_page(server, browser, tmp_path):
    _app, base_url = server
    page = open_as(browser, base_url, "saraban", "/admin/holidays")
    screenshot(page, tmp_path, "admin-refused.png")

    assert "บทบาทของท่านไม่มีสิทธิ์เข้าหน้าผู้ดูแลระบบ" in page.content()
    assert page.locator("#add-holiday").count() == 0
    page.context.close()


def test_admin_adds_staff_and_sets_book_code(server, browser, tmp_path):
    app, base_url = server
    page = open_as(browser, base_url, ADMIN, "/admin/staff")

    page.fill("#create-staff input[name=username]", "maesai.clerk2")
    page.fill("#create-staff input[name=display_name]", "นางสาวกนกวรรณ คำแก้ว")
    page.select_option("#create-staff select[name=role]", "clerk")
    page.fill("#create-staff input[name=password]", "เริ่มต้น-2570")
    page.click("#create-staff button[type=submit]")
    page.wait_for_load_state()
    screenshot(page, tmp_path, "admin-staff.png")

    assert "เพิ่มผู้ใช้ maesai.clerk2 (นางสาวกนกวรรณ คำแก้ว) แล้ว" in flash_text(page)
    assert "นางสาวกนกวรรณ คำแก้ว" in page.locator("table.staff[data-org='DIST-5709']").inner_text()

    page.click("nav.admin-tabs >> text=ตั้งค่าหน่วยงาน")
    page.wait_for_load_state()
    page.fill("#office-settings input[name=doc_prefix]", "ชร 0023.20")
    page.click("#office-settings button[type=submit]")
    page.wait_for_load_state()
    screenshot(page, tmp_path, "admin-settings.png")

    assert "บันทึกการตั้งค่าของสำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สายแล้ว" in flash_text(page)
    assert page.input_value("#office-settings input[name=doc_prefix]") == "ชร 0023.20"
    page.context.close()

"""The carbon-credit circular routed down the chain in headless Chromium, one person at a time.

The Chiang Rai provincial clerk forwards DLA's circular under a delegation. The Mae Sai
clerk registers it, and the Mae Sai supervisor endorses it and forwards it to the
district's 10 LAOs. An officer of เทศบาลตำบลเวียงพางคำ opens the covering letter's QR link
and confirms, its executive approves, and the district's roll-up shows 10 of 10. The other
nine LAOs answer through the operations beforehand. Accounts are those of `saraban demo`, with the
demo password; dates are counted from today so that every deadline is still ahead.

Set SARABAN_SCREENSHOT_DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser_helpers import flash_text, open_as, screenshot
from workflow import commands
from workflow.app import create_app
from workflow.models import ROLE_CLERK, ROLE_OFFICER, ROLE_SUPERVISOR, Organization, User
from workflow.routing import admin, demo, operations
from workflow.routing.calendar import today_in_thailand
from workflow.routing.models import CAPACITY_ON_BEHALF, REGISTER_CIRCULAR, OfficialLetter, RoutingTask

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
TODAY = today_in_thailand()
BE_YEAR = TODAY.year + 543
LAO_CODE = "5570903"  # เทศบาลตำบลเวียงพางคำ
PROVINCE_CLERK = "demo.chiangrai.clerk"
DISTRICT_CLERK = "demo.maesai.clerk"
DISTRICT_HEAD = "demo.maesai.head"
LAO_OFFICER = f"demo.lao{LAO_CODE}.officer"
LAO_EXECUTIVE = f"demo.lao{LAO_CODE}.executive"


def lao_accounts(lao: Organization) -> list[tuple]:
    """The three accounts `saraban demo` gives each LAO of Mae Sai: clerk, officer and executive."""
    title = demo.EXECUTIVE_TITLES.get(lao.lao_type, "นายก")
    short = lao.name_th.removeprefix("เทศบาลตำบล").removeprefix("องค์การบริหารส่วนตำบล")
    base = f"demo.lao{lao.code}"
    return [
        (f"{base}.clerk", f"เจ้าหน้าที่สารบรรณ {lao.name_th}", lao.code, ROLE_CLERK, None),
        (f"{base}.officer", f"นักวิชาการสิ่งแวดล้อม {lao.name_th}", lao.code, ROLE_OFFICER, "นักวิชาการสิ่งแวดล้อม"),
        (f"{base}.executive", f"ผู้บริหาร {lao.name_th}", lao.code, ROLE_SUPERVISOR, title + short),
    ]


def create_accounts(session) -> dict[str, User]:
    laos = session.scalars(select(Organization).where(Organization.district_code == "5709",
                                                      Organization.kind == "lao").order_by(Organization.code)).all()
    rows = list(demo.OFFICE_STAFF) + [row for lao in laos for row in lao_accounts(lao)]
    return {
        row[0]: admin.create_staff_user(session, None, row[0], row[1], demo.DEMO_PASSWORD, *row[2:])
        for row in rows
    }


def load_chain(session) -> None:
    """DLA issues the circular; Chiang Rai registers it, its head orders แจ้งเวียน and delegates signing to the clerk."""
    users = create_accounts(session)
    for code, (prefix, next_number) in demo.OFFICES.items():
        admin.set_office_settings(session, None, code, doc_prefix=prefix)
        admin.open_register(session, None, code, REGISTER_CIRCULAR, TODAY.year, next_number)
    dla_letter = operations.issue_circular(
        session, users["demo.dla.director"], subject=demo.SUBJECT, issued_on=TODAY - timedelta(days=5),
        due_nominal=TODAY + timedelta(days=28), confirmation_form=operations.CARBON_CREDIT_CONFIRMATION_FORM,
    ).letter
    receipt = operations.register_receipt(session, users[PROVINCE_CLERK], channel="system",
                                          letter_id=dla_letter.id).receipt
    operations.endorse(session, users["demo.chiangrai.head"], receipt.id, ["ทราบ", "แจ้งเวียน"],
                       "แจ้งอำเภอและองค์กรปกครองส่วนท้องถิ่นในสังกัดดำเนินการ")
    admin.grant_delegation(
        session, users["demo.chiangrai.head"], users[PROVINCE_CLERK], CAPACITY_ON_BEHALF,
        "ท้องถิ่นจังหวัดเชียงราย", TODAY - timedelta(days=30), TODAY + timedelta(days=60),
        "คำสั่งสำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย ที่ 12/2569 (ตัวอย่าง)",
    )


def answer_other_laos(session, district_letter_id: int) -> None:
    """Have the nine other LAOs register, confirm and approve, and เวียงพางคำ's clerk register."""
    users = {user.username: user for user in session.scalars(select(User))}
    tasks = session.scalars(select(RoutingTask).where(RoutingTask.letter_id == district_letter_id)).all()
    for task in tasks:
        code = task.recipient.code
        base = f"demo.lao{code}"
        operations.register_receipt(session, users[f"{base}.clerk"], channel="system", letter_id=district_letter_id)
        if code == LAO_CODE:
            continue
        officer = users[f"{base}.officer"]
        operations.confirm_assignment(session, officer, task.id, {
            "officer_name": officer.display_name, "position": "นักวิชาการสิ่งแวดล้อม",
            "phone": f"053-73{code[-4:]}", "email": f"carbon{code}@example.org",
        })
        operations.approve_confirmation(session, users[f"{base}.executive"], task.id)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    root = tmp_path_factory.mktemp("browser_routing")
    app = create_app({
        "DATABASE_URL": f"sqlite:///{root / 'saraban.db'}",
        "SARABAN_STORAGE": str(root / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "browser-routing-test",
    })
    commands.init_db(app)
    commands.load_directory(app)
    session = app.extensions["saraban.db"].session()
    try:
        load_chain(session)
    finally:
        session.close()
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


def test_circular_travels_to_lao_and_rolls_up(server, browser, tmp_path):
    app, base_url = server

    # The province clerk forwards DLA's circular to all of Chiang Rai's subordinates.
    page = open_as(browser, base_url, PROVINCE_CLERK, "/routing/")
    row = page.locator("tr.task-row", has_text="มท 0821.2/ว")
    assert "เกษียนสั่งการแล้ว" in row.inner_text()
    row.locator("a.docnum").click()
    forward = page.locator("#forward")
    assert forward.locator("input[name=recipients]:checked").count() == forward.locator("input[name=recipients]").count()
    assert forward.locator("input[name=form_fields]:checked").count() == 4
    proposed = forward.locator("#proposed-due").inner_text()
    assert forward.locator("input[name=due]").input_value() == proposed
    assert str(BE_YEAR) in proposed or str(BE_YEAR + 1) in proposed
    assert "ปฏิบัติราชการแทน ท้องถิ่นจังหวัดเชียงราย" in forward.locator("select[name=delegation_id]").inner_text()
    screenshot(page, tmp_path, "routing-province-forward.png")
    forward.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    assert "ออกหนังสือเวียนที่ ชร 0023.6/ว 3200" in flash_text(page)
    below = page.locator("#below")
    assert below.locator("tr[data-org=DIST-5709]").count() == 1
    assert "ส่งถึงแล้ว รอลงรับ" in below.locator("tr[data-org=DIST-5709]").inner_text()
    pdf = page.request.get(base_url + below.locator("a", has_text="หนังสือนำส่ง PDF").get_attribute("href"))
    assert pdf.ok
    assert pdf.body().startswith(b"%PDF")
    screenshot(page, tmp_path, "routing-province-forwarded.png")
    page.context.close()

    # The district clerk registers the provincial letter and gets the next receipt number.
    page = open_as(browser, base_url, DISTRICT_CLERK, "/routing/")
    page.locator("tr.task-row", has_text="ชร 0023.6/ว 3200").locator("a.docnum").click()
    page.locator("#receive button[type=submit]").click()
    page.wait_for_selector("#receipt-number")
    assert page.locator("#receipt-number").inner_text() == f"1/{BE_YEAR}"
    assert f"เลขรับ 1/{BE_YEAR}" in flash_text(page)
    page.context.close()

    # The district supervisor endorses (ทราบ, แจ้งเวียน) and forwards to the district's 10 LAOs.
    page = open_as(browser, base_url, DISTRICT_HEAD, "/routing/")
    page.locator("tr.task-row", has_text="ชร 0023.6/ว 3200").locator("a.docnum").click()
    endorse = page.locator("#endorse")
    endorse.locator("input[value=ทราบ]").check()
    endorse.locator("input[value=แจ้งเวียน]").check()
    endorse.locator("textarea[name=note]").fill("แจ้ง ทต. และ อบต. ในพื้นที่ดำเนินการ")
    screenshot(page, tmp_path, "routing-district-endorse.png")
    endorse.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    assert "ทราบ · แจ้งเวียน" in page.locator("#endorsements").inner_text()
    forward = page.locator("#forward")
    assert forward.locator("input[name=recipients]").count() == 10
    forward.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    assert "ถึงหน่วยงานในสังกัด 10 แห่งแล้ว" in flash_text(page)
    district_link = page.locator("#below a", has_text="ผลการยืนยัน").get_attribute("href")
    district_letter_id = int(re.search(r"/letters/(\d+)/", district_link).group(1))
    page.context.close()

    session = app.extensions["saraban.db"].session()
    try:
        assert session.get(OfficialLetter, district_letter_id).doc_number == "ชร 0023.20/ว 1061"
        answer_other_laos(session, district_letter_id)
    finally:
        session.close()

    # The LAO officer opens the QR link of the covering letter, signs in and confirms.
    page = open_as(browser, base_url, LAO_OFFICER, f"/routing/letters/{district_letter_id}/confirm")
    assert page.url.endswith("#confirm")
    confirm = page.locator("#confirm")
    confirm.locator("input[name=officer_name]").fill("นายอนุชา แสงทอง")
    confirm.locator("input[name=position]").fill("นักวิชาการสิ่งแวดล้อมปฏิบัติการ")
    confirm.locator("input[name=phone]").fill("053-731-903")
    confirm.locator("input[name=email]").fill("anucha@wiangphangkham.go.th")
    screenshot(page, tmp_path, "routing-lao-confirm.png")
    confirm.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    assert page.locator("#task-state").get_attribute("data-state") == "confirmed"
    assert page.locator("#answer dd[data-field=phone]").inner_text() == "053731903"
    page.context.close()

    # Its executive approves, which reports the confirmation to Mae Sai.
    page = open_as(browser, base_url, LAO_EXECUTIVE, "/routing/")
    page.locator("tr.task-row", has_text="ชร 0023.20/ว 1061").locator("a.docnum").click()
    assert "นายอนุชา แสงทอง" in page.locator("#answer").inner_text()
    screenshot(page, tmp_path, "routing-lao-review.png")
    page.locator("#review button[value=approve]").click()
    page.wait_for_selector(".flash-success")
    assert page.locator("#task-state").get_attribute("data-state") == "reported"
    page.context.close()

    # The district's roll-up counts all 10 LAOs as confirmed.
    page = open_as(browser, base_url, DISTRICT_HEAD, f"/routing/letters/{district_letter_id}/rollup")
    assert page.locator("#count-confirmed").inner_text() == "10/10"
    assert page.locator("#count-overdue").inner_text() == "0"
    assert page.locator("tr[data-district='5709']").count() == 1
    assert page.locator("#all-confirmed").count() == 1
    download = page.request.get(base_url + page.locator("a", has_text="ดาวน์โหลด CSV").get_attribute("href"))
    assert download.ok
    assert "053731903" in download.body().decode("utf-8-sig")
    screenshot(page, tmp_path, "routing-district-rollup.png")
    page.goto(base_url + "/routing/")
    screenshot(page, tmp_path, "routing-district-inbox.png")
    page.context.close()


def test_lao_officer_cannot_open_district_task(server, browser, tmp_path):
    app, base_url = server
    session = app.extensions["saraban.db"].session()
    try:
        dla = session.scalar(select(OfficialLetter).where(OfficialLetter.doc_number.like("มท 0821.2/ว%")))
        province_task = session.scalar(select(RoutingTask).join(Organization, Organization.id == RoutingTask.recipient_org_id)
                                       .where(RoutingTask.letter_id == dla.id, Organization.code == "PROV-57"))
        task_id = province_task.id
    finally:
        session.close()
    page = open_as(browser, base_url, LAO_OFFICER, f"/routing/tasks/{task_id}")
    message = page.locator(".error-box .error-message").inner_text()
    assert "ท่านดูสถานะได้เฉพาะหน่วยงานของท่านและหน่วยงานในสังกัด" in message
    screenshot(page, tmp_path, "routing-refused.png")
    page.context.close()

"""A carbon-credit sale walked through the ledger screens in headless Chromium, one person at a time.

The database is a temporary SQLite file loaded with the routing demo and the ledger demo. An
officer of เทศบาลตำบลแม่สาย prepares a sale to the demo bank, its executive approves, DLA's
director confirms, the public page shows the bank's larger holding, and the sale
certificate's verification page opens. Accounts use the demo password.

Set SARABAN_SCREENSHOT_DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser_helpers import flash_text, new_page, open_as, screenshot
from workflow import commands
from workflow.app import create_app
from workflow.ledger import demo as ledger_demo
from workflow.ledger.certificates import verification_url
from workflow.ledger.models import LedgerTransaction
from workflow.routing.demo import run_demo

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
SELLER = ledger_demo.SELLER
LAO_OFFICER = f"demo.lao{SELLER}.officer"
LAO_EXECUTIVE = f"demo.lao{SELLER}.executive"
DLA_DIRECTOR = "demo.dla.director"
SALE_TONNES = 15


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    root = tmp_path_factory.mktemp("browser_ledger")
    app = create_app({
        "DATABASE_URL": f"sqlite:///{root / 'saraban.db'}",
        "SARABAN_STORAGE": str(root / "storage"),
        "REDIS_URL": None,
        "SECRET_KEY": "browser-ledger-test",
    })
    commands.init_db(app)
    session = app.extensions["saraban.db"].session()
    try:
        run_demo(session)
        ledger_demo.load(session)
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


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def test_sale_prepared_approved_confirmed_and_published(server, browser, tmp_path):
    app, base_url = server

    # Before the sale: the bank's holding in Chiang Rai as the public page shows it.
    page = new_page(browser)
    page.goto(base_url + "/ledger/public")
    held_by_buyers = number(page.locator("tr[data-province='57'] td.held-buyer").inner_text())
    held_by_laos = number(page.locator("tr[data-province='57'] td.held-lao").inner_text())
    page.context.close()

    # The LAO officer prepares the sale at DLA's reference price.
    page = open_as(browser, base_url, LAO_OFFICER, "/ledger/lao")
    available = number(page.locator("#available").inner_text())
    sale = page.locator("#sale-form")
    assert sale.locator("input[name=price_baht]").input_value() == "260.00"
    sale.locator("input[name=quantity]").fill(str(SALE_TONNES))
    sale.locator("input[name=receipt_number]").fill("รบ 0057/2569")
    sale.locator("input[name=letter_reference]").fill("ธนาคารตัวอย่าง ที่ ESG 031/2569")
    screenshot(page, tmp_path, "ledger-lao-sale.png")
    sale.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    request_id = int(re.search(r"เลขที่ (\d+)", flash_text(page)).group(1))
    row = page.locator(f"tr.request-row[data-request='{request_id}']")
    assert row.get_attribute("data-status") == "pending"
    assert "รออนุมัติ" in row.inner_text()
    page.context.close()

    # Its executive approves; the sale then waits for DLA.
    page = open_as(browser, base_url, LAO_EXECUTIVE, "/ledger/lao")
    pending = page.locator(f"#pending tr[data-request='{request_id}']")
    assert f"{SALE_TONNES} tCO2e" in pending.inner_text()
    screenshot(page, tmp_path, "ledger-lao-approve.png")
    pending.locator("button.approve").click()
    page.wait_for_selector(".flash-success")
    assert "รอกรมส่งเสริมการปกครองท้องถิ่นยืนยัน" in flash_text(page)
    page.context.close()

    # DLA's director confirms, which posts the sale.
    page = open_as(browser, base_url, DLA_DIRECTOR, "/ledger/dla")
    row = page.locator(f"tr.confirm-row[data-request='{request_id}']")
    assert "เทศบาลตำบลแม่สาย" in row.inner_text()
    screenshot(page, tmp_path, "ledger-dla-confirm.png")
    row.locator("button.approve").click()
    page.wait_for_selector(".flash-success")
    assert f"ยืนยันคำขอเลขที่ {request_id} แล้ว" in flash_text(page)
    assert page.locator(f"tr.confirm-row[data-request='{request_id}']").count() == 0
    page.context.close()

    # The officer's balance is lower by the tonnes sold.
    page = open_as(browser, base_url, LAO_OFFICER, "/ledger/lao")
    assert number(page.locator("#available").inner_text()) == available - SALE_TONNES
    assert page.locator(f"tr.request-row[data-request='{request_id}']").get_attribute("data-status") == "posted"
    page.context.close()

    # The public page, without signing in, shows the new totals.
    page = new_page(browser)
    page.goto(base_url + "/ledger/public")
    province = page.locator("tr[data-province='57']")
    assert number(province.locator("td.held-buyer").inner_text()) == held_by_buyers + SALE_TONNES
    assert number(province.locator("td.held-lao").inner_text()) == held_by_laos - SALE_TONNES
    screenshot(page, tmp_path, "ledger-public.png")

    # The certificate's QR link opens its verification page.
    session = app.extensions["saraban.db"].session()
    try:
        transaction = session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == request_id))
        path = "/ledger/" + verification_url(session, transaction).split("/ledger/", 1)[1]
    finally:
        session.close()
    page.goto(base_url + path)
    assert page.locator("#verified").count() == 1
    assert "ใบเสร็จรับเงินเลขที่ รบ 0057/2569" in page.locator("#verification").inner_text()
    assert f"จำนวน {SALE_TONNES} ตัน" in page.locator("#verification").inner_text()
    screenshot(page, tmp_path, "ledger-verify.png")
    page.goto(base_url + path[:-1] + ("0" if path[-1] != "0" else "1"))
    assert page.locator("#not-found").inner_text() == "ไม่พบใบรับรองนี้"
    screenshot(page, tmp_path, "ledger-verify-not-found.png")
    page.context.close()


def test_dla_previews_allocation_and_reconciles(server, browser, tmp_path):
    _app, base_url = server
    bins = tmp_path / "bins.csv"
    bins.write_text("lao_code,verified_bins\n5570901,3000\n5570902,1000\n", encoding="utf-8")
    registry = tmp_path / "registry.csv"
    registry.write_text("account_code,serial_start,serial_end,status\nLAO-5570901,1000001,1000020,active\n"
                        "DLA,2000001,2000100,active\n", encoding="utf-8")

    # The DLA officer previews an allocation: round 5 is fully allocated, so the preview is refused.
    page = open_as(browser, base_url, "demo.dla.carbon", "/ledger/dla")
    form = page.locator("#allocation form")
    form.locator("input[name=round_number]").fill(str(ledger_demo.ROUND_NUMBER))
    form.locator("input[name=bins_csv]").set_input_files(str(bins))
    form.locator("input[name=letter_reference]").fill("มท 0821.2/ว 2101")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-error")
    assert "กรมไม่มีหน่วยของรอบการรับรองที่ 5 เหลือให้จัดสรร" in flash_text(page)
    assert page.locator("#new-round input[name=round_number]").input_value() == ""
    screenshot(page, tmp_path, "ledger-dla-allocation-refused.png")

    # The reconciliation page lists each kind of difference against the registry file.
    page.goto(base_url + "/ledger/dla/reconcile")
    page.locator("#registry-form input[name=registry_csv]").set_input_files(str(registry))
    page.locator("#registry-form button[type=submit]").click()
    page.wait_for_selector("#differences")
    kinds = {row.get_attribute("data-kind") for row in page.locator("tr.difference").all()}
    assert "holder" in kinds
    assert "missing_here" in kinds
    assert "missing_there" in kinds
    screenshot(page, tmp_path, "ledger-dla-reconcile.png")
    page.context.close()

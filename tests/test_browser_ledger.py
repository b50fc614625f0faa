"""The ledger screens walked through in headless Chromium, one person at a time.

The database is a temporary SQLite file loaded with the routing demo and the ledger demo. An
officer of เทศบาลตำบลแม่สาย prepares a sale to the demo bank, its executive approves, DLA's
director confirms, the public page shows the bank's larger holding, and the sale
certificate's verification page opens. Later tests register a buyer with an identity
document, release a reservation, sell two LAOs' reservations as one bundle and split its
deposit, cancel units under an order, and see a reversal of spent units rejected. The tests
share one server and run in file order. Accounts use the demo password.

Set SARABAN_SCREENSHOT_DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import hashlib
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


OTHER_LAO = "5570902"
# A minimal PDF: the buyer registration checks a document's leading bytes, not its pages.
IDENTITY_PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def request_number(page) -> int:
    return int(re.search(r"เลขที่ (\d+)", flash_text(page)).group(1))


def approve_as(browser, base_url: str, username: str, path: str, request_id: int, tmp_path, shot: str) -> str:
    """Sign in as an executive, approve the request's row on `path` and return the flash message."""
    page = open_as(browser, base_url, username, path)
    row = page.locator(f"tr.pending-row[data-request='{request_id}']")
    row.wait_for()
    screenshot(page, tmp_path, shot)
    row.locator("button.approve").click()
    page.wait_for_selector(".flash-success")
    message = flash_text(page)
    page.context.close()
    return message


def test_buyer_registration_with_identity_document(server, browser, tmp_path):
    _app, base_url = server
    document = tmp_path / "หนังสือรับรองบริษัท.pdf"
    document.write_bytes(IDENTITY_PDF)

    # DLA's officer prepares the registration with the company's certificate.
    page = open_as(browser, base_url, "demo.dla.carbon", "/ledger/dla/buyers")
    form = page.locator("#buyer-form")
    form.locator("select[name=kind]").select_option("company")
    form.locator("input[name=name_th]").fill("บริษัท ลำพูนพลังงานสะอาด จำกัด")
    form.locator("input[name=tax_id]").fill("0105556176239")
    form.locator("textarea[name=address_th]").fill("12 ถนนพหลโยธิน ตำบลเวียง อำเภอเมืองเชียงราย จังหวัดเชียงราย 57000")
    form.locator("input[name=contact_email]").fill("carbon@lamphun-clean.example")
    form.locator("input[name=identity_document]").set_input_files(str(document))
    form.locator("input[name=letter_reference]").fill("บริษัท ที่ LCE 3/2569")
    screenshot(page, tmp_path, "ledger-buyer-register.png")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    request_id = request_number(page)
    assert "หนังสือรับรองการจดทะเบียนนิติบุคคล: หนังสือรับรองบริษัท.pdf" in page.locator(
        f"tr.pending-row[data-request='{request_id}']").inner_text()
    page.context.close()

    # DLA's director opens the document and approves, and the buyer is then listed with the file's hash.
    page = open_as(browser, base_url, DLA_DIRECTOR, "/ledger/dla/buyers")
    link = page.locator(f"tr.pending-row[data-request='{request_id}'] a.document-link")
    response = page.request.get(base_url + link.get_attribute("href"))
    assert response.body() == IDENTITY_PDF
    page.locator(f"tr.pending-row[data-request='{request_id}'] button.approve").click()
    page.wait_for_selector(".flash-success")
    row = page.locator("tr.buyer-row", has_text="บริษัท ลำพูนพลังงานสะอาด จำกัด")
    assert hashlib.sha256(IDENTITY_PDF).hexdigest() in row.inner_text()
    screenshot(page, tmp_path, "ledger-buyer-registered.png")
    page.context.close()


def reserve_in_browser(page, tonnes: int, letter: str) -> int:
    form = page.locator("#reserve-form")
    form.locator("input[name=quantity]").fill(str(tonnes))
    form.locator("input[name=letter_reference]").fill(letter)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    return request_number(page)


def test_reservations_released_and_sold_as_bundle(server, browser, tmp_path):
    _app, base_url = server
    seller_officer, seller_executive = LAO_OFFICER, LAO_EXECUTIVE
    other_officer, other_executive = f"demo.lao{OTHER_LAO}.officer", f"demo.lao{OTHER_LAO}.executive"

    # Each LAO's officer sets units aside. Mae Sai also sets aside 3 tCO2e that it releases later.
    page = open_as(browser, base_url, seller_officer, "/ledger/lao")
    income_before = float(page.locator("#income").inner_text().replace(",", ""))
    seller_reservation = reserve_in_browser(page, 10, "ทต.แม่สาย ที่ ชร 77901/301")
    spare_reservation = reserve_in_browser(page, 3, "ทต.แม่สาย ที่ ชร 77901/302")
    page.context.close()
    page = open_as(browser, base_url, other_officer, "/ledger/lao")
    other_reservation = reserve_in_browser(page, 8, "อบต. ที่ ชร 77902/55")
    page.context.close()
    for request_id, executive in ((seller_reservation, seller_executive), (spare_reservation, seller_executive),
                                  (other_reservation, other_executive)):
        message = approve_as(browser, base_url, executive, "/ledger/lao", request_id, tmp_path,
                             "ledger-lao-reserve-approve.png")
        assert "บันทึกบัญชีแล้ว" in message

    # Mae Sai's officer releases the spare reservation and the executive approves.
    page = open_as(browser, base_url, seller_officer, "/ledger/lao")
    reserved = number(page.locator("#reserved").inner_text())
    release = page.locator("#release-form")
    release.locator("select[name=reservation_id]").select_option(str(spare_reservation))
    release.locator("input[name=letter_reference]").fill("ทต.แม่สาย ที่ ชร 77901/303")
    screenshot(page, tmp_path, "ledger-lao-release.png")
    release.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    release_id = request_number(page)
    page.context.close()
    approve_as(browser, base_url, seller_executive, "/ledger/lao", release_id, tmp_path, "ledger-lao-release-approve.png")
    page = open_as(browser, base_url, seller_officer, "/ledger/lao")
    assert number(page.locator("#reserved").inner_text()) == reserved - 3
    page.context.close()

    # DLA's officer sells both LAOs' reservations as one bundle, and the director approves.
    page = open_as(browser, base_url, "demo.dla.carbon", "/ledger/dla")
    bundle = page.locator("#bundle-form")
    bundle.locator("select[name=buyer_account]").select_option(label="ธนาคารตัวอย่าง จำกัด (มหาชน) (BUYER-1)")
    bundle.locator(f"input[name=reservation_id][value='{seller_reservation}']").check()
    bundle.locator(f"input[name=reservation_id][value='{other_reservation}']").check()
    bundle.locator("input[name=letter_reference]").fill("ธนาคารตัวอย่าง ที่ ESG 044/2569")
    screenshot(page, tmp_path, "ledger-dla-bundle.png")
    bundle.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    bundle_id = request_number(page)
    page.context.close()
    approve_as(browser, base_url, DLA_DIRECTOR, "/ledger/dla", bundle_id, tmp_path, "ledger-dla-bundle-approve.png")

    # DLA's officer splits the deposit with each LAO's receipt, and the director approves.
    page = open_as(browser, base_url, "demo.dla.carbon", "/ledger/dla")
    split = page.locator(f"form.split-form[data-bundle='{bundle_id}']")
    split.locator("input[name=receipt_number_0]").fill("รบ 0101/2569")
    split.locator("input[name=receipt_number_1]").fill("รบ 0033/2569")
    split.locator("input[name=letter_reference]").fill("มท 0821.2/ว 2210")
    screenshot(page, tmp_path, "ledger-dla-split.png")
    split.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    split_id = request_number(page)
    page.context.close()
    approve_as(browser, base_url, DLA_DIRECTOR, "/ledger/dla", split_id, tmp_path, "ledger-dla-split-approve.png")

    # Mae Sai's income grew by its 10 tCO2e at the reference price.
    page = open_as(browser, base_url, seller_officer, "/ledger/lao")
    assert float(page.locator("#income").inner_text().replace(",", "")) == income_before + 10 * 260
    page.context.close()


def test_cancellation_published_reversal_rejected(server, browser, tmp_path):
    _app, base_url = server
    page = new_page(browser)
    page.goto(base_url + "/ledger/public")
    cancelled = number(page.locator("tr[data-province='57'] td.cancelled").inner_text())
    page.context.close()

    # DLA's officer cancels 2 tCO2e of an LAO under an order, and the director approves.
    page = open_as(browser, base_url, "demo.dla.carbon", "/ledger/dla")
    form = page.locator("#cancel-form")
    form.locator("input[name=account_code]").fill(f"LAO-{OTHER_LAO}")
    form.locator("input[name=quantity]").fill("2")
    form.locator("input[name=reason]").fill("ถังที่นับซ้ำในการตรวจรอบที่ 5")
    form.locator("input[name=order_reference]").fill("คำสั่งกรมส่งเสริมการปกครองท้องถิ่น ที่ 88/2569")
    form.locator("input[name=letter_reference]").fill("มท 0821.2/ว 2301")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    cancel_id = request_number(page)

    # Reversing the demo sale is rejected because the bank has since retired part of those units.
    reverse = page.locator("#reverse-form")
    option = reverse.locator("option", has_text="ESG 015/2568")
    reverse.locator("select[name=transaction_id]").select_option(option.get_attribute("value"))
    reverse.locator("input[name=reason]").fill("บันทึกผู้ซื้อผิดราย")
    reverse.locator("input[name=letter_reference]").fill("มท 0821.2/ว 2302")
    reverse.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-error")
    assert "ถูกใช้หรือโอนต่อแล้ว จึงกลับรายการไม่ได้" in flash_text(page)
    screenshot(page, tmp_path, "ledger-dla-reverse-refused.png")
    page.context.close()
    approve_as(browser, base_url, DLA_DIRECTOR, "/ledger/dla", cancel_id, tmp_path, "ledger-dla-cancel-approve.png")

    page = new_page(browser)
    page.goto(base_url + "/ledger/public")
    assert number(page.locator("tr[data-province='57'] td.cancelled").inner_text()) == cancelled + 2
    page.context.close()

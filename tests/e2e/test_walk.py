"""The platform's whole loop, walked in a real browser by the people who use it.

enterprise registers → bureau verifies → need posted and approved → institute lists a matching
achievement, approved → the need recommends it (<mark> terms) → broker claims the pair → both sides
accept, exchange messages → 洽谈中 → 已签约 → contract from the case, payment with voucher and invoice,
contract text → seller submits → bureau registers (登记编号) → reward round opened, approved, Excel
checked with openpyxl → the dashboard shows the contract value.

The steps run in order and share ``WALK``; when one fails, the rest are skipped (see conftest).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from pathlib import Path

import pytest

from techmarket.domain.credit_code import ALPHABET, check_character

pytestmark = pytest.mark.e2e

CENT = Decimal("0.01")
TODAY = date.today()
TAG = uuid.uuid4().hex[:6]

WALK: dict = {
    "org_name": f"偃师市伊洛旋耕农机有限公司{TAG}",
    "username": f"e2e_farm_{TAG}",
    "password": "旋耕刀片 耐磨 e2e 2026!",
    "need_title": "旋耕机刀片磨损太快，农忙时三天一换",
    "achievement_title": "旋耕机刀片激光熔覆碳化钨耐磨涂层技术",
    "contract_amount": Decimal("200000.00"),
    "technology_amount": Decimal("150000.00"),
    "payment": Decimal("123456.78"),
    "registration_no": f"{TODAY.year}410381E2E{TAG.upper()}",
}


def credit_code() -> str:
    """A valid 统一社会信用代码 (企业, 偃师 410381): body from the tag, check character by GB 32100."""
    n = int(uuid.uuid4().int % (31**9))
    body = ""
    for _ in range(9):
        n, r = divmod(n, 31)
        body += ALPHABET[r]
    first17 = "91410381" + body
    return first17 + check_character(first17)


def small_pdf(title: str) -> bytes:
    """A minimal, valid one-page PDF (with a correct xref table)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_file(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": small_pdf(name.removesuffix(".pdf"))}


def flash_ok(page, text: str) -> None:
    alert = page.locator(".alert-success", has_text=text)
    assert alert.count() >= 1, (
        f"no success message {text!r} on {page.url}:\n{page.inner_text('main') if page.locator('main').count() else page.content()[:3000]}"
    )


def listing_id(page, kind: str) -> int:
    match = re.search(rf"/{kind}/(\d+)$", page.url)
    assert match, f"not on a {kind} page: {page.url}"
    return int(match.group(1))


def registered_totals(page) -> tuple[int, Decimal, Decimal]:
    """The dashboard's statistics for this year: (合同数, 成交额, 技术交易额) of all registered contracts."""
    page.goto(f"/bureau/dashboard/stats?year={TODAY.year}")
    cells = page.locator("table[data-table=sides] tr", has_text="全部登记合同").first.locator("td").all_inner_texts()
    assert len(cells) == 4, cells
    count, amount, technology = (c.strip().replace(",", "") for c in cells[1:])
    return int(count), Decimal(amount), Decimal(technology)


# -- 1. an enterprise registers, the bureau verifies it -------------------------------------------------


def test_01_enterprise_registers(actors) -> None:
    WALK["credit_code"] = credit_code()
    page = actors.page("enterprise")
    page.goto("/register")
    page.select_option("#account_type", "enterprise")
    page.fill("#org_name", WALK["org_name"])
    page.fill("#credit_code", WALK["credit_code"])
    page.select_option("#town", "商城街道")
    page.fill("#address", "偃师市商城街道华夏路66号")
    page.fill("#contact_name", "王建农")
    page.fill("#contact_phone", "13838861234")
    page.fill("#description", "生产旋耕机、深松机等耕整地机械。")
    page.fill("#username", WALK["username"])
    page.fill("#display_name", "王建农")
    page.fill("#password", WALK["password"])
    page.fill("#confirm", WALK["password"])
    actors.shot(page, "register-form")
    page.get_by_role("button", name="提交注册").click()
    assert page.url.endswith("/login"), page.inner_text("main")
    flash_ok(page, "注册成功")
    actors.login(page, WALK["username"], WALK["password"])
    actors.shot(page, "enterprise-signed-in-pending")


def test_02_bureau_verifies(actors) -> None:
    bureau = actors.page("bureau", "bureau")
    WALK["dashboard_before"] = registered_totals(bureau)
    bureau.goto("/bureau/verifications")
    card = bureau.locator(".card", has_text=WALK["org_name"])
    assert card.count() == 1
    card.get_by_label("通过").check()
    card.get_by_role("button", name="提交审核结果").click()
    assert bureau.locator(".card", has_text=WALK["org_name"]).count() == 0
    actors.shot(bureau, "bureau-verified-org")


# -- 2. a need and a matching achievement, both approved -------------------------------------------


def test_03_need_posted_and_approved(actors) -> None:
    page = actors.page("enterprise")
    page.goto("/needs/new")
    page.fill("#title", WALK["need_title"])
    page.fill(
        "#description",
        "我们生产的旋耕机在砂壤土里作业，旋耕刀片磨损非常快，刀片刃口三天就磨秃，农忙时经常停机换刀片。"
        "想找耐磨涂层或表面强化技术，提高旋耕机刀片的耐磨性和使用寿命。",
    )
    page.fill("#expected_outcome", "旋耕刀片寿命提高两倍以上，耐磨涂层不剥落，单片成本增加不超过30%。")
    page.select_option("#field", "agriculture")
    page.fill("#deadline", (TODAY + timedelta(days=180)).isoformat())
    page.fill("#budget_min", "100000")
    page.fill("#budget_max", "300000")
    page.check("input[name=cooperation][value=joint_development]")
    page.check("input[name=cooperation][value=transfer]")
    page.fill("#confidential_details", "现用刀片为65Mn钢，年用量约4万片。")
    actors.shot(page, "need-form")
    page.get_by_role("button", name="保存并提交审核").click()
    flash_ok(page, "已保存并提交市科技局审核")
    WALK["need_id"] = listing_id(page, "needs")

    bureau = actors.page("bureau")
    bureau.goto("/bureau/listings")
    card = bureau.locator(".card", has_text=WALK["need_title"])
    card.locator("select[name=decision]").select_option("approve")
    card.get_by_role("button", name="提交").click()
    flash_ok(bureau, "已")
    actors.shot(bureau, "bureau-approved-need")


def test_04_achievement_listed_and_approved(actors) -> None:
    page = actors.page("institute", "institute")
    page.goto("/achievements/new")
    page.fill("#title", WALK["achievement_title"])
    page.fill("#summary", "用激光熔覆在旋耕机刀片刃口制备碳化钨耐磨涂层，刀片寿命提高3倍。")
    page.fill(
        "#description",
        "针对旋耕机刀片在砂壤土中磨损快的问题，采用激光熔覆工艺在刀片刃口熔覆镍基碳化钨耐磨涂层，"
        "涂层与基体冶金结合、不剥落，旋耕刀片耐磨性提高3倍以上，适用于旋耕机、深松机等农机刀具。",
    )
    page.select_option("#field", "agriculture")
    page.fill("#keywords", "旋耕机，刀片，激光熔覆，耐磨涂层，碳化钨")
    page.select_option("#maturity", "pilot")
    page.fill("#trl", "6")
    page.select_option("#ip_type", "know_how")
    page.fill("#price", "250000")
    page.check("input[name=cooperation][value=transfer]")
    page.check("input[name=cooperation][value=joint_development]")
    page.fill("#contact_name", "李教授")
    page.fill("#contact_phone", "0379-64231234")
    actors.shot(page, "achievement-form")
    page.get_by_role("button", name="保存并提交审核").click()
    flash_ok(page, "已保存并提交市科技局审核")
    WALK["achievement_id"] = listing_id(page, "achievements")

    bureau = actors.page("bureau")
    bureau.goto("/bureau/listings")
    card = bureau.locator(".card", has_text=WALK["achievement_title"])
    card.locator("select[name=decision]").select_option("approve")
    card.get_by_role("button", name="提交").click()
    flash_ok(bureau, "已")
    actors.shot(bureau, "bureau-approved-achievement")


def test_05_need_page_recommends_the_achievement(actors) -> None:
    page = actors.page("enterprise")
    page.goto(f"/needs/{WALK['need_id']}")
    recs = page.locator("section[aria-labelledby=recs-title]")
    item = recs.locator("li", has=page.locator(f"a[href$='/achievements/{WALK['achievement_id']}']"))
    assert item.count() == 1, recs.inner_text()
    marks = [m.strip() for m in item.locator("mark").all_inner_texts()]
    assert marks, item.inner_html()
    need_text = page.locator("main").inner_text()
    shared = [m for m in marks if m and m in need_text and m in WALK["achievement_title"] + item.inner_text()]
    assert shared, f"highlighted terms {marks} are not shared with the need"
    item.scroll_into_view_if_needed()
    actors.shot(page, "need-recommends-achievement")


# -- 3. the broker works the pair into a deal ----------------------------------------------------------


def test_06_broker_claims_the_pair(actors) -> None:
    broker = actors.page("broker", "broker")
    broker.goto("/broker/queue?field=agriculture")
    card = broker.locator(".card", has=broker.locator(f"a[href$='/needs/{WALK['need_id']}']")).filter(
        has=broker.locator(f"a[href$='/achievements/{WALK['achievement_id']}']")
    )
    assert card.count() == 1, broker.inner_text("main")
    assert card.locator("mark").count() >= 1
    actors.shot(broker, "broker-queue")
    card.get_by_role("button", name="认领").click()
    flash_ok(broker, "已认领该配对")
    m = re.search(r"/cases/(\d+)$", broker.url)
    assert m, broker.url
    WALK["case_id"] = int(m.group(1))
    actors.shot(broker, "case-claimed")


def test_07_both_parties_accept_and_talk(actors) -> None:
    case_url = f"/cases/{WALK['case_id']}"
    for name, text in (
        ("enterprise", "刀片样品下周寄到贵校，请安排试验。"),
        ("institute", "收到，我们先做三组熔覆对比试验。"),
    ):
        page = actors.page(name)
        page.goto(case_url)
        form = page.locator(f"form[action$='{case_url}/answer']")
        form.locator("select[name=decision]").select_option("accept")
        form.get_by_role("button", name="提交答复").click()
        assert page.locator(f"form[action$='{case_url}/answer']").count() == 0
        page.fill("#message-text", text)
        page.locator(f"form[action$='{case_url}/message']").get_by_role("button", name="发送").click()
        assert text in page.inner_text("main")
    page = actors.page("enterprise")
    page.goto(case_url)
    body = page.inner_text("main")
    assert "双方确认对接意向后显示联系方式" not in body
    assert "收到，我们先做三组熔覆对比试验。" in body
    actors.shot(page, "case-accepted-messages")


def test_08_broker_moves_case_to_signed(actors) -> None:
    broker = actors.page("broker")
    case_url = f"/cases/{WALK['case_id']}"
    broker.goto(case_url)
    assert "刀片样品下周寄到贵校" in broker.inner_text("main")
    for status, label in (("negotiating", "洽谈中"), ("signed", "已签约")):
        form = broker.locator(f"form[action$='{case_url}/status']")
        form.locator("select[name=status]").select_option(status)
        form.get_by_role("button", name="提交").click()
        assert broker.locator("h1 + .badge, .badge.fs-6").first.inner_text().strip() == label
        actors.shot(broker, f"case-{status}")


# -- 4. the contract: drafted from the case, paid with evidence, submitted, registered --------------------


def test_09_contract_drafted_from_the_case(actors) -> None:
    page = actors.page("institute")
    page.goto(f"/cases/{WALK['case_id']}")
    page.get_by_role("link", name=re.compile("填写技术合同")).click()
    assert f"/contracts/new?case={WALK['case_id']}" in page.url
    assert page.input_value("#buyer_credit_code") == WALK["credit_code"]
    assert page.input_value("#buyer_name") == WALK["org_name"]
    page.select_option("#contract_type", "transfer_know_how")
    page.fill("#signed_on", TODAY.isoformat())
    page.fill("#valid_from", TODAY.isoformat())
    page.fill("#valid_until", (TODAY + timedelta(days=365)).isoformat())
    page.fill("#contract_amount", f"{WALK['contract_amount']}")
    page.fill("#technology_amount", f"{WALK['technology_amount']}")
    page.select_option("#ip_type", "know_how")
    actors.shot(page, "contract-form")
    page.get_by_role("button", name="保存草稿").click()
    flash_ok(page, "合同草稿已保存")
    m = re.search(r"/contracts/(\d+)$", page.url)
    assert m, page.url
    WALK["contract_id"] = int(m.group(1))

    page.get_by_role("link", name="录入付款").click()
    page.fill("#paid_on", TODAY.isoformat())
    page.fill("#amount", f"{WALK['payment']}")
    page.set_input_files("#voucher", pdf_file("voucher.pdf"))
    page.set_input_files("#invoice", pdf_file("invoice.pdf"))
    actors.shot(page, "payment-form")
    page.get_by_role("button", name="保存付款").click()
    assert re.search(rf"/contracts/{WALK['contract_id']}(#payments)?$", page.url), page.inner_text("main")
    row = page.locator("#payments + table tbody tr").first
    assert "voucher.pdf" in row.inner_text() and "invoice.pdf" in row.inner_text()
    assert row.locator("td").nth(4).inner_text().strip() == "是"

    panel = page.locator("#evidence-panel")
    panel.locator("#kind").select_option("contract")
    panel.locator("#file").set_input_files(pdf_file("contract-text.pdf"))
    panel.get_by_role("button", name="上传").click()
    assert "contract-text.pdf" in page.locator("#files + ul").inner_text()
    actors.shot(page, "contract-with-evidence")


def test_10_seller_submits_and_bureau_registers(actors) -> None:
    url = f"/contracts/{WALK['contract_id']}"
    page = actors.page("institute")
    page.goto(url)
    page.get_by_role("button", name="提交登记").click()
    assert page.get_by_role("button", name="提交登记").count() == 0

    bureau = actors.page("bureau")
    bureau.goto(url)
    panel = bureau.locator("#review-panel")
    panel.get_by_label("予以登记").check()
    panel.locator("#registration_no").fill(WALK["registration_no"])
    panel.locator("#registered_on").fill(TODAY.isoformat())
    panel.get_by_role("button", name="提交审核结果").click()
    bureau.goto(url)
    header = bureau.locator("h1 + div").inner_text()
    assert WALK["registration_no"] in header, header
    actors.shot(bureau, "contract-registered")


# -- 5. rewards and the dashboard ---------------------------------------------------------------------


def test_11_reward_round_and_excel(actors, tmp_path: Path) -> None:
    import openpyxl

    bureau = actors.page("bureau")
    bureau.goto("/bureau/rewards/")
    bureau.fill("#year", str(TODAY.year))
    bureau.get_by_role("button", name="计算").click()
    assert re.search(r"/bureau/rewards/\d+$", bureau.url), bureau.inner_text("main")
    actors.shot(bureau, "reward-round-draft")
    bureau.get_by_role("button", name="审批并冻结").click()
    bureau.wait_for_load_state()
    assert "已审批" in bureau.inner_text("main") or "approved" in bureau.content()
    actors.shot(bureau, "reward-round-approved")

    with bureau.expect_download() as info:
        bureau.get_by_role("link", name="导出 Excel").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.suffix == ".xlsx"

    # Independently: the payment's technical portion is payment × 技术交易额 ÷ 成交额, rounded to the fen;
    # the buyer's reward is 5% of it, rounded half-up to the fen.
    portion = (WALK["payment"] * WALK["technology_amount"] / WALK["contract_amount"]).quantize(CENT, ROUND_HALF_UP)
    expected = (portion * Decimal("0.05")).quantize(CENT, ROUND_HALF_UP)
    assert portion == Decimal("92592.59") and expected == Decimal("4629.63")

    book = openpyxl.load_workbook(BytesIO(target.read_bytes()))
    rows = [[c for c in row] for ws in book.worksheets for row in ws.iter_rows(values_only=True)]
    header = next(r for r in rows if "统一社会信用代码" in r)
    col = {name: header.index(name) for name in header if name}
    mine = [r for r in rows if r[col["统一社会信用代码"]] == WALK["credit_code"]]
    assert mine, f"no row for {WALK['credit_code']} in the export"
    buyer = [r for r in mine if "买方" in str(r[col["奖励类型"]]) or "吸纳" in str(r[col["奖励类型"]])]
    assert len(buyer) == 1, mine
    row = buyer[0]
    base = Decimal(str(row[col["本年度技术交易额基数（元）"]])).quantize(CENT)
    amount = Decimal(str(row[col["奖励金额（元）"]])).quantize(CENT)
    assert base == portion
    assert amount == expected


def test_12_dashboard_shows_the_contract_value(actors) -> None:
    bureau = actors.page("bureau")
    count, amount, technology = WALK["dashboard_before"]
    after = registered_totals(bureau)
    assert after == (count + 1, amount + WALK["contract_amount"], technology + WALK["technology_amount"])
    bureau.locator("table[data-table=sides]").scroll_into_view_if_needed()
    actors.shot(bureau, "dashboard")


def test_13_no_dialogs_no_csp_violations(actors, browser_log) -> None:
    assert browser_log.dialogs == []
    assert browser_log.csp_violations() == []
    assert browser_log.errors == []
    assert len(actors.shots) >= 12

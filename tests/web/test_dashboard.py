"""The bureau's dashboard: figures equal the contracts' sums (computed here independently), exports hold the
same numbers, the registry import rejects bad rows by row number, targets and task reports are audited."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from techmarket.domain.contracts import ContractStatus, ContractType
from techmarket.domain.listings import IPType, TechField
from techmarket.domain.registry import SHEET_HEADERS
from techmarket.extensions import db
from techmarket.models import AuditEntry, Contract, Organisation, PolicyTask, RegistryEntry, Target, TaskReport
from techmarket.services import dashboard as svc
from techmarket.services import registry as registry_svc
from tests.conftest import csrf_token, login, make_org, unique_credit_code, unique_name

DASH = "/bureau/dashboard"
YEAR = 2019  # the contracts made here are registered in a year no other test uses
CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def add_contract(session, buyer, seller, status, registered_on, amount, tech, registered_tech=None, **kw):
    """A contract row as the registry holds it (the contracts workflow has its own tests)."""
    contract = Contract(
        title="测试技术合同",
        contract_type=kw.pop("contract_type", ContractType.DEVELOPMENT_COMMISSIONED),
        buyer_org_id=buyer.id if buyer is not None and not isinstance(buyer, tuple) else None,
        buyer_name=buyer[0] if isinstance(buyer, tuple) else buyer.name,
        buyer_credit_code=buyer[1] if isinstance(buyer, tuple) else buyer.credit_code,
        buyer_local=buyer[2] if isinstance(buyer, tuple) else buyer.local,
        seller_org_id=seller.id if seller is not None and not isinstance(seller, tuple) else None,
        seller_name=seller[0] if isinstance(seller, tuple) else seller.name,
        seller_credit_code=seller[1] if isinstance(seller, tuple) else seller.credit_code,
        seller_local=seller[2] if isinstance(seller, tuple) else seller.local,
        signed_on=registered_on - timedelta(days=20),
        contract_amount=Decimal(amount),
        technology_amount=Decimal(tech),
        registered_technology_amount=Decimal(registered_tech) if registered_tech else None,
        tech_field=kw.pop("tech_field", TechField.NEW_MATERIALS),
        ip_type=IPType.KNOW_HOW,
        status=status,
        registered_on=registered_on if status != ContractStatus.SUBMITTED else None,
        registration_no=("T" + uuid.uuid4().hex[:20].upper()) if status != ContractStatus.SUBMITTED else None,
        **kw,
    )
    session.add(contract)
    session.flush()
    return contract


@pytest.fixture(scope="module")
def dataset(app):
    """Contracts of YEAR in every state and combination of local / outside / not-on-the-platform parties."""
    with app.app_context():
        s = db.session
        town_org = make_org(s, "enterprise", name=f"偃师市{unique_name('')}耐材有限公司", town="山化镇")
        local_inst = make_org(s, "new_rd_institution", name=f"偃师市{unique_name('')}研究院", town="缑氏镇")
        outside_uni = make_org(s, "university", name=f"{unique_name('')}大学", local=False, town=None)
        unlinked_local = (f"偃师市{unique_name('')}未注册公司", unique_credit_code(), True)
        outside_co = (f"郑州{unique_name('')}科技有限公司", unique_credit_code("410105"), False)
        R, T, V, S = (ContractStatus.REGISTERED, ContractStatus.TERMINATED, ContractStatus.REVOKED,
                      ContractStatus.SUBMITTED)  # fmt: skip
        rows = [
            (town_org, outside_uni, R, date(YEAR, 1, 15), "1234567.89", "1000000.00", None),
            (town_org, local_inst, T, date(YEAR, 3, 2), "50000.05", "40000.00", "30000.00"),
            (outside_co, local_inst, R, date(YEAR, 3, 31), "777.77", "700.00", None),
            (unlinked_local, outside_uni, R, date(YEAR, 11, 30), "20000.00", "20000.00", None),
            (outside_co, outside_uni, R, date(YEAR, 6, 1), "99999.99", "99999.99", None),  # no local party
            (town_org, outside_uni, V, date(YEAR, 5, 5), "8888888.88", "8888888.88", None),  # revoked: never counts
            (town_org, outside_uni, S, date(YEAR, 5, 6), "7777777.77", "7777777.77", None),  # not registered
        ]
        for buyer, seller, status, on, amount, tech, reg in rows:
            add_contract(s, buyer, seller, status, on, amount, tech, reg, contract_type=ContractType.CONSULTING)
        s.commit()
        return {"town_org": town_org.id, "local_inst": local_inst.id}


def independent(app, year: int | None = None):
    """The figures straight from the contract table, summed here in Decimal."""
    with app.app_context():
        sql = (
            "SELECT c.contract_amount, COALESCE(c.registered_technology_amount, c.technology_amount), "
            "c.buyer_local, c.seller_local, c.registered_on, b.town, s.town "
            "FROM contract c LEFT JOIN organisation b ON b.id = c.buyer_org_id "
            "LEFT JOIN organisation s ON s.id = c.seller_org_id "
            "WHERE c.status IN ('registered', 'terminated') AND c.registered_on IS NOT NULL"
        )
        rows = db.session.execute(text(sql)).all()
    out = []
    for amount, tech, buyer_local, seller_local, registered_on, btown, stown in rows:
        on = registered_on if isinstance(registered_on, date) else date.fromisoformat(str(registered_on)[:10])
        if year is None or on.year == year:
            out.append((money(amount), money(tech), bool(buyer_local), bool(seller_local), on, btown, stown))
    return out


def total(rows, pick=lambda r: True, col=0) -> Decimal:
    return sum((r[col] for r in rows if pick(r)), Decimal("0.00"))


def test_statistics_equal_the_contracts_sums(app, dataset):
    rows = independent(app, YEAR)
    with app.app_context():
        result = svc.statistics(db.session, date.today(), YEAR)
    sides = {r[0].split("（")[0]: r[1:] for r in result.table("sides").rows}
    assert sides["技术输出"] == [
        sum(1 for r in rows if r[3]),
        total(rows, lambda r: r[3]),
        total(rows, lambda r: r[3], 1),
    ]
    assert sides["技术吸纳"] == [
        sum(1 for r in rows if r[2]),
        total(rows, lambda r: r[2]),
        total(rows, lambda r: r[2], 1),
    ]
    either = lambda r: r[2] or r[3]  # noqa: E731
    assert sides["本市单位为买方或卖方"] == [
        sum(1 for r in rows if either(r)),
        total(rows, either),
        total(rows, either, 1),
    ]
    assert sides["全部登记合同"] == [len(rows), total(rows), total(rows, col=1)]
    # the fixture's own contracts, as a check on the check: the revoked and the submitted ones are out
    assert total(rows) >= Decimal("1405345.70")

    by_month = {r[0]: r[1:] for r in result.table("by_month").rows}
    assert by_month[f"{YEAR}-03"][1] == total(rows, lambda r: r[4].month == 3)
    assert sum(r[0] for r in by_month.values()) == len(rows)
    assert [r[1:] for r in result.table("by_year").rows] == [[len(rows), total(rows), total(rows, col=1)]]

    towns = {r[0]: r[1:] for r in result.table("by_town").rows}
    in_town = lambda r: r[2] and r[5] == "山化镇"  # noqa: E731 - a local buyer in the fixture's town
    assert towns["山化镇"] == [
        0,
        Decimal("0.00"),
        Decimal("0.00"),
        sum(1 for r in rows if in_town(r)),
        total(rows, in_town),
        total(rows, in_town, 1),
    ]
    unlinked = lambda r: r[2] and r[5] is None  # noqa: E731 - a local buyer not on the platform
    assert towns["未关联"][3:] == [sum(1 for r in rows if unlinked(r)), total(rows, unlinked), total(rows, unlinked, 1)]


def test_target_progress_equals_the_contracts_sum(app, dataset):
    with app.app_context():
        target = Target(
            code=unique_name("t")[:40], name="测试成交额目标", metric="contract_amount",
            target_value=Decimal("5000000.00"), unit="元", period_start=date(YEAR, 3, 1),
            deadline=date(YEAR, 12, 31), contract_side="either", categories=[], levels=[], sort_order=99,
        )  # fmt: skip
        db.session.add(target)
        db.session.commit()
        target_id = target.id
        view = next(v for v in svc.targets(db.session, date.today()) if v.target.id == target_id)
    rows = independent(app)
    expected = total(rows, lambda r: (r[2] or r[3]) and date(YEAR, 3, 1) <= r[4] <= date(YEAR, 12, 31))
    assert view.progress.actual == expected
    assert view.progress.percent == (expected * 100 / Decimal("5000000")).quantize(Decimal("0.1"))
    assert dict(view.side_totals)["技术输出（本市单位为卖方）"] == total(
        rows, lambda r: r[3] and date(YEAR, 3, 1) <= r[4] <= date(YEAR, 12, 31)
    )
    assert view.monthly.rows[-1][2] == expected  # the cumulative trend ends at the figure


def test_pages_show_the_figures_and_the_export_holds_the_same_numbers(app, client, dataset):
    login(client, "bureau")
    rows = independent(app, YEAR)
    figure = f"{total(rows):,.2f}"
    html = client.get(f"{DASH}/stats?year={YEAR}").get_data(as_text=True)
    assert figure in html
    assert 'type="application/json" id="chart-data-by_year"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "cdn" not in html.lower()

    resp = client.get(f"{DASH}/export/statistics.xlsx?year={YEAR}")
    assert (
        resp.status_code == 200 and resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["按登记年度"]
    assert [c.value for c in ws[1]] == ["年度", "合同数（份）", "成交额（元）", "技术交易额（元）"]
    assert ws["A2"].value == str(YEAR)
    assert ws["B2"].value == len(rows)
    assert money(ws["C2"].value) == total(rows) and money(ws["D2"].value) == total(rows, col=1)
    assert "按技术领域" in wb.sheetnames and "技术输出与技术吸纳（本市单位）" in wb.sheetnames

    csv_text = client.get(f"{DASH}/export/by_year.csv?year={YEAR}").data.decode("utf-8-sig")
    assert f"{YEAR},{len(rows)},{total(rows)},{total(rows, col=1)}" in csv_text


def test_the_index_page_states_the_measure(client, dataset):
    login(client, "bureau")
    html = client.get(f"{DASH}/").get_data(as_text=True)
    assert "本市单位为买方或卖方" in html and "每份合同计一次" in html
    assert "技术合同成交额累计" in html and "<progress" in html
    assert "月均增量" in html or "暂无足够数据预测" in html or "已到期" in html


def test_broker_section_waits_for_the_cases_feature(client, monkeypatch):
    monkeypatch.setattr(svc, "_cases_model", lambda: None)
    login(client, "bureau")
    html = client.get(f"{DASH}/stats").get_data(as_text=True)
    assert html.count("对接项目功能上线后显示") == 2


# --- the registry ---------------------------------------------------------------------------------


def sheet(*rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(list(SHEET_HEADERS))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def good_row(name: str, category="科技型中小企业", year=2024, code="", town="商城街道"):
    return [name, "", code, category, "国家级", year, None, "", town, "是", ""]


def registry_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RegistryEntry))


def post_import(client, data: io.BytesIO, valid_only=False, name="名录.xlsx"):
    form = {"csrf_token": csrf_token(client, f"{DASH}/registry/import"), "file": (data, name)}
    if valid_only:
        form["valid_only"] = "y"
    return client.post(f"{DASH}/registry/import", data=form, content_type="multipart/form-data")


def test_import_rejects_bad_rows_with_their_numbers_and_imports_nothing(app, client):
    login(client, "bureau")
    before = registry_count(app)
    a, b = f"偃师市{unique_name('')}有限公司", f"偃师市{unique_name('')}有限公司"
    content = sheet(good_row(a), good_row(b, category="独角兽企业"), good_row(b, year=2099), good_row(a)).getvalue()
    resp = post_import(client, io.BytesIO(content))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "第3行：类别“独角兽企业”不在名录类别中" in html
    assert "第4行：认定年度应在" in html
    assert "第5行：与第2行重复。" in html
    assert registry_count(app) == before

    resp = post_import(client, io.BytesIO(content), valid_only=True)
    assert resp.status_code == 302
    assert registry_count(app) == before + 1
    with app.app_context():
        entry = db.session.scalar(select(RegistryEntry).where(RegistryEntry.name == a))
        assert entry.category.label == "科技型中小企业" and entry.created_by_id is not None
        audit_row = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "registry_import").order_by(AuditEntry.id.desc())
        )
        assert audit_row.detail["entry_ids"] == [entry.id] and audit_row.detail["skipped_rows"] == [3, 4, 5]


def test_import_links_units_on_the_platform_and_refuses_non_xlsx(app, client, dataset):
    login(client, "bureau")
    with app.app_context():
        org = db.session.get(Organisation, dataset["town_org"])
        name, code = org.name, org.credit_code
    resp = post_import(client, sheet(good_row(name, category="高新技术企业", code=code, town="山化镇")))
    assert resp.status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(RegistryEntry).where(RegistryEntry.credit_code == code))
        assert entry.org_id == dataset["town_org"]
    resp = post_import(client, io.BytesIO("名称,类别\n".encode()), name="名录.csv")
    assert resp.status_code == 422 and "只能导入Excel工作簿" in resp.get_data(as_text=True)
    resp = post_import(client, sheet(good_row(name, category="高新技术企业", code=code, town="山化镇")))
    assert resp.status_code == 422 and "已在名录中" in resp.get_data(as_text=True)


def test_template_downloads_and_the_form_adds_one_entry(app, client):
    login(client, "bureau")
    resp = client.get(f"{DASH}/registry/template.xlsx")
    assert resp.status_code == 200
    assert tuple(c.value for c in load_workbook(io.BytesIO(resp.data)).worksheets[0][1]) == SHEET_HEADERS
    name = f"偃师市{unique_name('')}众创空间"
    form = {"name": name, "category": "makerspace", "level": "luoyang", "recognized_year": "2022", "local": "y",
            "town": "伊洛街道"}  # fmt: skip
    resp = client.post(f"{DASH}/registry/new", data={**form, "csrf_token": csrf_token(client, f"{DASH}/registry/new")})
    assert resp.status_code == 302
    resp = client.post(f"{DASH}/registry/new", data={**form, "csrf_token": csrf_token(client, f"{DASH}/registry/new")})
    assert resp.status_code == 422 and "已在名录中" in resp.get_data(as_text=True)
    bad = {**form, "recognized_year": "22", "name": name + "2"}
    resp = client.post(f"{DASH}/registry/new", data={**bad, "csrf_token": csrf_token(client, f"{DASH}/registry/new")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "认定年度应在1985年至" in html and f'value="{name}2"' in html  # input kept


def test_transfer_institutions_feed_the_reward_calculator(app):
    from techmarket.rewards.model import Institution

    with app.app_context():
        institutions = registry_svc.transfer_institutions(db.session)
    assert institutions and all(isinstance(i, Institution) for i in institutions)
    assert {i.level for i in institutions} <= {"national", "provincial", "luoyang"}
    assert any(i.name == "偃师市科创技术转移服务有限公司" and i.level == "provincial" for i in institutions)


# --- targets and tasks ----------------------------------------------------------------------------


def own_target(app) -> int:
    with app.app_context():
        target = Target(
            code=unique_name("e")[:40], name="测试平台目标", metric="registry_count", target_value=Decimal("10"),
            unit="个", period_start=date(2021, 1, 1), deadline=date(2030, 12, 31), categories=["makerspace"],
            levels=[], count_mode="recognitions", sort_order=100,
        )  # fmt: skip
        db.session.add(target)
        db.session.commit()
        return target.id


def test_edit_target_is_audited_and_a_stale_form_keeps_the_input(app, client):
    target_id = own_target(app)
    login(client, "bureau")
    url = f"{DASH}/targets/{target_id}/edit"
    form = {"name": "测试平台目标", "target_value": "200", "period_start": "2021-01-01", "deadline": "2030-12-31",
            "note": "新方案", "version": "1"}  # fmt: skip
    resp = client.post(url, data={**form, "target_value": "1.5", "csrf_token": csrf_token(client, url)})
    assert resp.status_code == 422 and "数量目标应为整数" in resp.get_data(as_text=True)
    resp = client.post(url, data={**form, "csrf_token": csrf_token(client, url)})
    assert resp.status_code == 302
    with app.app_context():
        target = db.session.get(Target, target_id)
        assert target.target_value == Decimal("200") and target.version == 2
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "target_update",
                                                           AuditEntry.object_id == str(target_id)))  # fmt: skip
        assert entry.detail["changes"]["target_value"] == ["10.00", "200"]
    resp = client.post(url, data={**form, "target_value": "300", "csrf_token": csrf_token(client, url)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and 'value="300"' in html and "已被他人修改" in html


PDF = b"%PDF-1.4\n% progress report\n%%EOF\n"


def test_task_reports_with_attachments_and_the_quarter_list(app, client):
    login(client, "bureau")
    with app.app_context():
        task = db.session.scalar(select(PolicyTask).where(PolicyTask.number == 19))
        task_id = task.id
        assert task.departments == "市科技局、财政局、统计局、工信局"
        assert db.session.scalar(select(func.count()).select_from(PolicyTask)) == 19
    page = client.get(f"{DASH}/tasks").get_data(as_text=True)
    assert "（十九）" in page and "强化督查和宣传" in page
    url = f"{DASH}/tasks/{task_id}"
    token = csrf_token(client, url)
    html = client.get(url).get_data(as_text=True)
    form_token = html.split('name="form_token" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": token, "form_token": form_token, "reported_on": date.today().isoformat(),
            "department": "市科技局", "text": "召开第四季度督办会。"}  # fmt: skip
    resp = client.post(
        f"{url}/reports", data={**data, "files": [(io.BytesIO(b"<html>"), "x.pdf")]}, content_type="multipart/form-data"
    )
    assert resp.status_code == 422 and "只能上传PDF" in resp.get_data(as_text=True)
    resp = client.post(
        f"{url}/reports",
        data={**data, "files": [(io.BytesIO(PDF), "督办会纪要.pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    resp = client.post(f"{url}/reports", data=data, content_type="multipart/form-data")  # double submission
    assert resp.status_code == 302
    with app.app_context():
        reports = db.session.scalars(select(TaskReport).where(TaskReport.form_token == form_token)).all()
        assert len(reports) == 1 and [f.original_name for f in reports[0].files] == ["督办会纪要.pdf"]
        file_id = reports[0].files[0].id
        assert db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "task_report_add", AuditEntry.object_id == str(task_id))
        )
    download = client.get(f"{DASH}/tasks/files/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    page = client.get(f"{DASH}/tasks").get_data(as_text=True)
    row = page.split("强化督查和宣传")[1].split("</tr>")[0]
    assert "已报告" in row
    future = {**data, "form_token": "x" + form_token[1:], "reported_on": (date.today() + timedelta(days=3)).isoformat()}
    resp = client.post(f"{url}/reports", data=future, content_type="multipart/form-data")
    assert resp.status_code == 422 and "报告日期不能晚于今天" in resp.get_data(as_text=True)


def test_an_entry_links_to_a_unit_that_joins_the_platform_later(app, client):
    from techmarket.domain.registry import EntryCategory, EntryData, Level

    code, name = unique_credit_code(), f"偃师市{unique_name('')}后注册有限公司"
    with app.app_context():
        data = EntryData(name, EntryCategory.TECH_SME, Level.NATIONAL, 2023, credit_code=code, town="高龙镇")
        entry = registry_svc.add_entry(db.session, None, data)
        assert entry.org_id is None
        org = make_org(db.session, name=name, credit_code=code, town="高龙镇")
        db.session.commit()
        org_id = org.id
    login(client, "bureau")
    html = client.get(f"{DASH}/registry", query_string={"q": name}).get_data(as_text=True)
    assert f'href="/orgs/{org_id}">已关联' in html


def test_editing_an_entry_is_audited_old_to_new(app, client):
    from techmarket.domain.registry import EntryCategory, EntryData, Level

    name = f"偃师市{unique_name('')}众创空间"
    with app.app_context():
        entry = registry_svc.add_entry(db.session, None, EntryData(name, EntryCategory.MAKERSPACE, Level.CITY, 2022))
        db.session.commit()
        entry_id = entry.id
    login(client, "bureau")
    url = f"{DASH}/registry/{entry_id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert f'value="{name}"' in html and 'value="2022"' in html
    form = {"name": name, "category": "makerspace", "level": "luoyang", "recognized_year": "2022", "local": "y",
            "town": "", "csrf_token": csrf_token(client, url)}  # fmt: skip
    assert client.post(url, data=form).status_code == 302
    with app.app_context():
        assert db.session.get(RegistryEntry, entry_id).level.value == "luoyang"
        row = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "registry_update", AuditEntry.object_id == str(entry_id))
        )
        assert row.detail["changes"] == {"level": ["city", "luoyang"]}


def test_names_are_escaped_in_tables_and_chart_data(app, client, dataset):
    evil = "</script><img src=x onerror=alert(1)>"
    with app.app_context():
        add_contract(
            db.session,
            (f"偃师{evil}{unique_name('')}", unique_credit_code(), True),
            (f"外地{evil}", unique_credit_code("410105"), False),
            ContractStatus.REGISTERED,
            date(2018, 5, 1),
            "999999999.99",
            "1.00",
        )
        db.session.commit()
    login(client, "bureau")
    html = client.get(f"{DASH}/stats?year=2018").get_data(as_text=True)
    assert evil not in html
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html  # the table
    assert "\\u003c/script\\u003e" in html  # the chart's JSON block

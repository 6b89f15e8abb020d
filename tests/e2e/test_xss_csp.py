"""Stored XSS in a listing's text fields never runs in a real browser, and pages raise no CSP violations.

An institute lists an achievement and an enterprise posts a need, both carrying
``<img src=x onerror=alert(1)>`` in every text field, sharing terms so that the matcher pairs them (the
<mark> highlighter then renders the payload). Every page that shows them is opened: review queue,
detail pages with recommendations, browse and search, home page, owner's list, broker queue.
No dialog may open, no <img src=x> element may exist, and the console must show no CSP violation.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.e2e

PAYLOAD = "<img src=x onerror=alert(1)>"
XSS = {}


def injected(page) -> int:
    return page.locator("img[src='x']").count()


def visit(actors, page, url: str, label: str, *, shows_payload: bool = True) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert injected(page) == 0, f"{url}: the payload became an element"
    if shows_payload:
        assert PAYLOAD in page.inner_text("main"), f"{url}: the payload is not shown as text"
    actors.shot(page, f"xss-{label}")


def test_payload_listings_are_inert(actors, browser_log) -> None:
    dialogs_before = len(browser_log.dialogs)
    institute = actors.page("institute", "institute")
    institute.goto("/achievements/new")
    institute.fill("#title", f"葡萄霜霉病生物防治菌剂{PAYLOAD}")
    institute.fill("#summary", f"葡萄霜霉病拮抗菌剂，防效80%以上。{PAYLOAD}")
    institute.fill("#description", f"针对葡萄霜霉病筛选的枯草芽孢杆菌拮抗菌剂，葡萄园田间防效稳定。{PAYLOAD}")
    institute.select_option("#field", "agriculture")
    institute.fill("#keywords", f"葡萄，霜霉病，{PAYLOAD}")
    institute.select_option("#maturity", "small_batch")
    institute.select_option("#ip_type", "know_how")
    institute.check("input[name=cooperation][value=license]")
    institute.fill("#team", f"植保团队{PAYLOAD}")
    institute.fill("#contact_name", f"赵{PAYLOAD}"[:50])
    institute.get_by_role("button", name="保存并提交审核").click()
    XSS["achievement"] = int(re.search(r"/achievements/(\d+)$", institute.url).group(1))

    enterprise = actors.page("xss-enterprise", "enterprise")
    enterprise.goto("/needs/new")
    enterprise.fill("#title", f"葡萄园霜霉病年年暴发{PAYLOAD}")
    enterprise.fill("#description", f"葡萄霜霉病每年雨季暴发，化学药剂防效下降。{PAYLOAD}")
    enterprise.fill("#expected_outcome", f"找到葡萄霜霉病生物防治办法。{PAYLOAD}")
    enterprise.select_option("#field", "agriculture")
    enterprise.fill("#deadline", (date.today() + timedelta(days=200)).isoformat())
    enterprise.check("input[name=cooperation][value=license]")
    enterprise.fill("#confidential_details", f"保密{PAYLOAD}")
    enterprise.get_by_role("button", name="保存并提交审核").click()
    XSS["need"] = int(re.search(r"/needs/(\d+)$", enterprise.url).group(1))

    bureau = actors.page("bureau", "bureau")
    visit(actors, bureau, "/bureau/listings", "review-queue")
    for title in ("葡萄霜霉病生物防治菌剂", "葡萄园霜霉病年年暴发"):
        card = bureau.locator(".card", has_text=title)
        card.locator("select[name=decision]").select_option("approve")
        card.get_by_role("button", name="提交").click()
        assert injected(bureau) == 0

    anonymous = actors.page("anonymous")
    visit(actors, anonymous, f"/achievements/{XSS['achievement']}", "achievement")
    visit(actors, anonymous, f"/needs/{XSS['need']}", "need")
    visit(actors, anonymous, "/achievements/?q=霜霉病", "search")
    visit(actors, anonymous, "/needs/", "needs-browse")
    visit(actors, anonymous, "/", "home")
    visit(actors, enterprise, f"/needs/{XSS['need']}", "need-owner")
    recs = enterprise.locator("section[aria-labelledby=recs-title]")
    assert recs.locator(f"a[href$='/achievements/{XSS['achievement']}']").count() == 1, recs.inner_text()
    visit(actors, enterprise, "/my/listings", "my-listings")
    broker = actors.page("broker", "broker")
    visit(actors, broker, "/broker/queue?field=agriculture", "broker-queue")

    assert browser_log.dialogs[dialogs_before:] == []


def test_no_dialogs_console_errors_or_csp_violations(actors, browser_log) -> None:
    """Over every page the e2e run opened (the walk and the payload pages)."""
    assert actors.pages, "no page was opened"
    assert browser_log.dialogs == []
    assert browser_log.csp_violations() == []
    assert browser_log.errors == []


def test_the_csp_blocks_an_injected_handler_and_the_console_shows_it(browser, e2e_server: str) -> None:
    """Control for the checks above: markup injected behind the server's back is stopped by the CSP, and
    the violation is visible in the console that the other tests watch."""
    context = browser.new_context(base_url=e2e_server)
    try:
        page = context.new_page()
        console: list[str] = []
        dialogs: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto("/")
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=alert(1)>')")
        page.wait_for_timeout(300)
        assert dialogs == []
        assert any("Content Security Policy" in m for m in console), console
    finally:
        context.close()

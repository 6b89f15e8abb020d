"""Route × role matrix: every URL rule of the app, every role, the expected status.

A new route fails ``test_every_route_is_in_the_matrix`` until its expectations are written here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from techmarket.domain.accounts import OrgKind, Role, Verification
from techmarket.extensions import db
from techmarket.models import Organisation, User
from tests.conftest import any_csrf_token, login
from tests.web.contracts_factory import matrix_contracts

ROLES = ["anonymous", "enterprise", "institute", "broker", "bureau", "admin"]
ANON, ENT, INST, BROKER, BUREAU, ADMIN = ROLES


def everyone(status):
    return dict.fromkeys(ROLES, status)


SIGNED_IN = {ANON: 302, ENT: 200, INST: 200, BROKER: 200, BUREAU: 200, ADMIN: 200}
BUREAU_ONLY = {ANON: 302, ENT: 403, INST: 403, BROKER: 403, BUREAU: 200, ADMIN: 200}
GUESTS_ONLY = {ANON: 200, ENT: 302, INST: 302, BROKER: 302, BUREAU: 302, ADMIN: 302}
# POSTs below carry a valid CSRF token and an empty form: allowed roles get 422 (nothing changes).
BUREAU_POST = {ANON: 302, ENT: 403, INST: 403, BROKER: 403, BUREAU: 422, ADMIN: 422}
# Contracts: the parties and the broker see theirs, the bureau sees all, everyone else gets 404.
PARTIES_ONLY = {ANON: 302, ENT: 200, INST: 200, BROKER: 200, BUREAU: 403, ADMIN: 403}
PARTIES_POST = {ANON: 302, ENT: 422, INST: 422, BROKER: 422, BUREAU: 403, ADMIN: 403}
HIDDEN_BUT_BUREAU = {ANON: 302, ENT: 404, INST: 404, BROKER: 404, BUREAU: 200, ADMIN: 200}

# endpoint -> list of (method, url template, expectations by role)
MATRIX = {
    "contracts.index": [("GET", "/contracts/", SIGNED_IN)],
    "contracts.new": [("GET", "/contracts/new", PARTIES_ONLY), ("POST", "/contracts/new", PARTIES_POST)],
    "contracts.detail": [
        ("GET", "/contracts/{deal_contract}", {**SIGNED_IN}),
        ("GET", "/contracts/{registered_contract}", {**SIGNED_IN, BROKER: 404}),
        ("GET", "/contracts/{other_contract}", HIDDEN_BUT_BUREAU),
        ("GET", "/contracts/999999", {**everyone(404), ANON: 302}),
    ],
    "contracts.edit": [
        ("GET", "/contracts/{deal_contract}/edit", PARTIES_ONLY),
        ("POST", "/contracts/{deal_contract}/edit", PARTIES_POST),
        # registered: read-only (409) for the parties; not the demo broker's contract (404)
        ("GET", "/contracts/{registered_contract}/edit", {**PARTIES_ONLY, ENT: 409, INST: 409, BROKER: 404}),
        ("GET", "/contracts/{other_contract}/edit", {**HIDDEN_BUT_BUREAU, BUREAU: 403, ADMIN: 403}),
    ],
    "contracts.submit": [
        # the seller side and the broker may submit; the draft lacks the contract text, so 409
        ("POST", "/contracts/{deal_contract}/submit", {**BUREAU_POST, INST: 409, BROKER: 409, BUREAU: 403, ADMIN: 403}),
        ("POST", "/contracts/{other_contract}/submit", {**HIDDEN_BUT_BUREAU, BUREAU: 403, ADMIN: 403}),
    ],
    "contracts.review": [
        ("POST", "/contracts/{deal_contract}/review", BUREAU_POST),
        ("POST", "/contracts/{other_contract}/review", {**HIDDEN_BUT_BUREAU, BUREAU: 422, ADMIN: 422}),
    ],
    "contracts.change_status": [
        ("POST", "/contracts/{registered_contract}/status", {**BUREAU_POST, BROKER: 404}),
    ],
    "contracts.payment_new": [
        ("GET", "/contracts/{deal_contract}/payments/new", PARTIES_ONLY),
        ("POST", "/contracts/{deal_contract}/payments/new", PARTIES_POST),
        ("GET", "/contracts/{other_contract}/payments/new", {**HIDDEN_BUT_BUREAU, BUREAU: 403, ADMIN: 403}),
    ],
    "contracts.upload": [
        ("POST", "/contracts/{deal_contract}/files", PARTIES_POST),
        ("POST", "/contracts/{other_contract}/files", {**HIDDEN_BUT_BUREAU, BUREAU: 403, ADMIN: 403}),
    ],
    "contracts.download": [
        ("GET", "/contracts/{deal_contract}/files/{deal_file}", SIGNED_IN),
        ("GET", "/contracts/{other_contract}/files/{other_file}", HIDDEN_BUT_BUREAU),
        # a file of another contract under a visible contract's URL: not found for everyone
        ("GET", "/contracts/{deal_contract}/files/{other_file}", {**everyone(404), ANON: 302}),
    ],
    "static": [("GET", "/static/app.css", everyone(200))],
    "bootstrap.static": [("GET", "/bootstrap/static/css/bootstrap.min.css", everyone(200))],
    "main.index": [("GET", "/", everyone(200))],
    "main.dashboard": [("GET", "/dashboard", SIGNED_IN)],
    "auth.login": [("GET", "/login", GUESTS_ONLY)],
    "auth.register": [("GET", "/register", GUESTS_ONLY)],
    "auth.logout": [("GET", "/logout", everyone(405)), ("POST", "/logout", everyone(302))],
    "auth.change_password": [("GET", "/account/password", SIGNED_IN)],
    "orgs.directory": [("GET", "/orgs/", everyone(200))],
    "orgs.profile": [
        ("GET", "/orgs/{verified_org}", everyone(200)),
        # an unverified unit is visible to its members and the bureau only
        ("GET", "/orgs/{pending_org}", {ANON: 404, ENT: 404, INST: 404, BROKER: 404, BUREAU: 200, ADMIN: 200}),
        ("GET", "/orgs/{enterprise_org}", everyone(200)),
        ("GET", "/orgs/999999", everyone(404)),
    ],
    "orgs.edit": [
        ("GET", "/orgs/{enterprise_org}/edit", {ANON: 302, ENT: 200, INST: 403, BROKER: 403, BUREAU: 403, ADMIN: 200}),
        ("GET", "/orgs/{institute_org}/edit", {ANON: 302, ENT: 403, INST: 200, BROKER: 403, BUREAU: 403, ADMIN: 200}),
        ("GET", "/orgs/{bureau_org}/edit", {ANON: 302, ENT: 403, INST: 403, BROKER: 403, BUREAU: 403, ADMIN: 200}),
    ],
    "bureau.verifications": [("GET", "/bureau/verifications", BUREAU_ONLY)],
    "bureau.audit_log": [("GET", "/bureau/audit", BUREAU_ONLY)],
    "bureau.decide_org": [
        ("GET", "/bureau/orgs/{pending_org}/decision", everyone(405)),
        ("POST", "/bureau/orgs/{pending_org}/decision", BUREAU_POST),
        ("POST", "/bureau/orgs/{bureau_org}/decision", {**BUREAU_POST, BUREAU: 403, ADMIN: 403}),
    ],
    "bureau.decide_broker": [
        ("POST", "/bureau/brokers/{pending_broker}/decision", BUREAU_POST),
        ("POST", "/bureau/brokers/{enterprise_user}/decision", {**BUREAU_POST, BUREAU: 403, ADMIN: 403}),
    ],
}

OWNER_ONLY_GET = {ANON: 302, ENT: 200, INST: 403, BROKER: 403, BUREAU: 403, ADMIN: 403}
PRIVATE_LISTING = {ANON: 404, ENT: 404, INST: 404, BROKER: 404, BUREAU: 200, ADMIN: 200}
MATRIX.update(
    {
        "listings.browse": [
            ("GET", "/achievements/", everyone(200)),
            ("GET", "/needs/", everyone(200)),
            ("GET", "/achievements/?q=轴承&min=abc", everyone(400)),
        ],
        "listings.detail": [
            ("GET", "/achievements/{published_achievement}", everyone(200)),
            ("GET", "/needs/{enterprise_need}", everyone(200)),
            ("GET", "/achievements/{other_draft}", PRIVATE_LISTING),
            ("GET", "/needs/{other_pending_need}", PRIVATE_LISTING),
            ("GET", "/needs/999999", everyone(404)),
        ],
        "listings.create": [
            ("GET", "/achievements/new", {ANON: 302, ENT: 403, INST: 200, BROKER: 403, BUREAU: 403, ADMIN: 403}),
            ("GET", "/needs/new", OWNER_ONLY_GET),
        ],
        "listings.edit": [
            ("GET", "/needs/{enterprise_need}/edit", OWNER_ONLY_GET),
            ("GET", "/achievements/{other_draft}/edit", {**PRIVATE_LISTING, ANON: 302, BUREAU: 403, ADMIN: 403}),
        ],
        # empty POSTs: the owner gets 400 (no action given) or 422 (empty form); nobody else gets past the check
        "listings.owner_action": [
            (
                "POST",
                "/needs/{enterprise_need}/action",
                {ANON: 302, ENT: 400, INST: 403, BROKER: 403, BUREAU: 403, ADMIN: 403},
            )
        ],
        "listings.review": [("POST", "/needs/{enterprise_need}/review", BUREAU_POST)],
        "listings.review_queue": [("GET", "/bureau/listings", BUREAU_ONLY)],
        "listings.mine": [("GET", "/my/listings", SIGNED_IN)],
        "listings.grant": [
            (
                "POST",
                "/needs/{enterprise_need}/access",
                {ANON: 302, ENT: 422, INST: 403, BROKER: 403, BUREAU: 403, ADMIN: 403},
            )
        ],
        "listings.revoke": [
            (
                "POST",
                "/needs/{enterprise_need}/access/999999/revoke",
                {ANON: 302, ENT: 422, INST: 403, BROKER: 403, BUREAU: 403, ADMIN: 403},
            )
        ],
    }
)

CASE_ONLY = {ANON: 302, ENT: 403, INST: 404, BROKER: 403, BUREAU: 403, ADMIN: 403}
MATRIX.update(
    {
        "cases.queue": [
            ("GET", "/broker/queue", {ANON: 302, ENT: 403, INST: 403, BROKER: 200, BUREAU: 403, ADMIN: 403})
        ],
        "cases.claim": [
            ("POST", "/broker/claim", {ANON: 302, ENT: 403, INST: 403, BROKER: 400, BUREAU: 403, ADMIN: 403})
        ],
        "cases.dismiss": [
            ("POST", "/broker/dismiss", {ANON: 302, ENT: 403, INST: 403, BROKER: 400, BUREAU: 403, ADMIN: 403})
        ],
        "cases.my_cases": [("GET", "/cases/", SIGNED_IN)],
        # the enterprise is the case's buyer, the broker its broker; the university is no party: 404 (not even told it exists)
        "cases.detail": [
            ("GET", "/cases/{case}", {ANON: 302, ENT: 200, INST: 404, BROKER: 200, BUREAU: 200, ADMIN: 200}),
            ("GET", "/cases/999999", {ANON: 302, ENT: 404, INST: 404, BROKER: 404, BUREAU: 404, ADMIN: 404}),
        ],
        "cases.start": [
            ("POST", "/cases/start", {ANON: 302, ENT: 400, INST: 400, BROKER: 403, BUREAU: 403, ADMIN: 403})
        ],
        "cases.answer": [("POST", "/cases/{case}/answer", {**CASE_ONLY, ENT: 422})],
        "cases.entry": [("POST", "/cases/{case}/entry", {**CASE_ONLY, BROKER: 422})],
        "cases.message": [("POST", "/cases/{case}/message", {**CASE_ONLY, ENT: 422, BROKER: 422})],
        "cases.status": [("POST", "/cases/{case}/status", {**CASE_ONLY, BROKER: 422})],
        "cases.invite": [("POST", "/cases/{case}/invite", {**CASE_ONLY, ENT: 422})],
        "cases.notifications": [("GET", "/notifications", SIGNED_IN)],
        "cases.mark_read": [("POST", "/notifications/read", everyone(302))],
        "cases.notification_settings": [("GET", "/notifications/settings", SIGNED_IN)],
        "cases.bureau_overview": [("GET", "/bureau/cases", BUREAU_ONLY)],
    }
)

# The bureau's dashboard (targets, statistics, registry, policy tasks): bureau staff only.
DASH = "/bureau/dashboard"
MATRIX.update(
    {
        "dashboard.index": [("GET", f"{DASH}/", BUREAU_ONLY)],
        "dashboard.statistics": [
            ("GET", f"{DASH}/stats", BUREAU_ONLY),
            ("GET", f"{DASH}/stats?year=2025", BUREAU_ONLY),
        ],
        "dashboard.export": [
            ("GET", f"{DASH}/export/by_year.xlsx", BUREAU_ONLY),
            ("GET", f"{DASH}/export/by_town.csv", BUREAU_ONLY),
            ("GET", f"{DASH}/export/targets.xlsx", BUREAU_ONLY),
            ("GET", f"{DASH}/export/targets.csv", BUREAU_ONLY),
            ("GET", f"{DASH}/export/statistics.csv", {**BUREAU_ONLY, BUREAU: 404, ADMIN: 404}),
            ("GET", f"{DASH}/export/registry.csv", BUREAU_ONLY),
            ("GET", f"{DASH}/export/tasks.xlsx", BUREAU_ONLY),
            ("GET", f"{DASH}/export/nothing.xlsx", {**BUREAU_ONLY, BUREAU: 404, ADMIN: 404}),
        ],
        "dashboard.edit_target": [
            ("GET", f"{DASH}/targets/{{dash_target}}/edit", BUREAU_ONLY),
            ("POST", f"{DASH}/targets/{{dash_target}}/edit", BUREAU_POST),
        ],
        "dashboard.registry": [("GET", f"{DASH}/registry", BUREAU_ONLY)],
        "dashboard.new_entry": [
            ("GET", f"{DASH}/registry/new", BUREAU_ONLY),
            ("POST", f"{DASH}/registry/new", BUREAU_POST),
        ],
        "dashboard.revoke_entry": [("POST", f"{DASH}/registry/{{dash_entry}}/revoke", BUREAU_POST)],
        "dashboard.edit_entry": [
            ("GET", f"{DASH}/registry/{{dash_entry}}/edit", BUREAU_ONLY),
            ("POST", f"{DASH}/registry/{{dash_entry}}/edit", BUREAU_POST),
        ],
        "dashboard.registry_template": [("GET", f"{DASH}/registry/template.xlsx", BUREAU_ONLY)],
        "dashboard.import_registry": [
            ("GET", f"{DASH}/registry/import", BUREAU_ONLY),
            ("POST", f"{DASH}/registry/import", BUREAU_POST),
        ],
        "dashboard.tasks": [("GET", f"{DASH}/tasks", BUREAU_ONLY)],
        "dashboard.task": [("GET", f"{DASH}/tasks/{{dash_task}}", BUREAU_ONLY)],
        "dashboard.add_report": [("POST", f"{DASH}/tasks/{{dash_task}}/reports", BUREAU_POST)],
        "dashboard.task_file": [("GET", f"{DASH}/tasks/files/999999", {**BUREAU_ONLY, BUREAU: 404, ADMIN: 404})],
    }
)

NOT_FOUND_FOR_BUREAU = {ANON: 302, ENT: 403, INST: 403, BROKER: 403, BUREAU: 404, ADMIN: 404}
MATRIX.update(
    {
        "awards.rounds": [("GET", "/bureau/rewards/", BUREAU_ONLY), ("POST", "/bureau/rewards/", BUREAU_POST)],
        "awards.round_detail": [
            ("GET", "/bureau/rewards/{round}", BUREAU_ONLY),
            ("GET", "/bureau/rewards/999999", NOT_FOUND_FOR_BUREAU),
        ],
        "awards.recompute": [("POST", "/bureau/rewards/999999/recompute", NOT_FOUND_FOR_BUREAU)],
        "awards.exclude": [("POST", "/bureau/rewards/{round}/exclude", BUREAU_POST)],
        "awards.prior_award": [("POST", "/bureau/rewards/{round}/prior", BUREAU_POST)],
        "awards.remove_adjustment": [
            ("POST", "/bureau/rewards/{round}/adjustments/999999/delete", {**BUREAU_POST, BUREAU: 409, ADMIN: 409})
        ],
        "awards.approve": [("POST", "/bureau/rewards/999999/approve", NOT_FOUND_FOR_BUREAU)],
        "awards.export": [
            ("GET", "/bureau/rewards/{round}/export.xlsx", BUREAU_ONLY),
            ("GET", "/bureau/rewards/{round}/export.csv", BUREAU_ONLY),
        ],
        "awards.my_rewards": [("GET", "/my/rewards", SIGNED_IN)],
    }
)

CASES = [
    pytest.param(endpoint, method, url, role, expected[role], id=f"{endpoint}-{method}-{url}-{role}")
    for endpoint, rows in MATRIX.items()
    for method, url, expected in rows
    for role in ROLES
]


@pytest.fixture(scope="module")
def ids(app):
    with app.app_context():

        def org_of(username):
            return db.session.scalar(select(User).where(User.username == username)).org_id

        pending_broker = db.session.scalar(
            select(User.id).where(User.role == Role.BROKER, User.broker_status == Verification.PENDING)
        )
        if pending_broker is None:
            from tests.conftest import make_user

            pending_broker = make_user(db.session, "broker", broker_status=Verification.PENDING).id
            db.session.commit()
        from techmarket.domain.listings import ListingStatus
        from techmarket.models import Achievement, Need

        mine = {org_of("enterprise"), org_of("institute")}

        def listing(model, status, own):
            stmt = select(model.id).where(model.status == status).order_by(model.id)
            stmt = stmt.where(model.org_id.in_(mine) if own else model.org_id.not_in(mine))
            return db.session.scalar(stmt)

        from techmarket.models import MatchCase

        need_id = listing(Need, ListingStatus.PUBLISHED, own=True)
        achievement_id = listing(Achievement, ListingStatus.PUBLISHED, own=False)
        case = db.session.scalar(
            select(MatchCase).where(MatchCase.need_id == need_id, MatchCase.achievement_id == achievement_id)
        )
        if case is None:
            broker_id = db.session.scalar(select(User.id).where(User.username == "broker"))
            case = MatchCase(need_id=need_id, achievement_id=achievement_id, broker_id=broker_id)
            db.session.add(case)
            db.session.commit()
        from techmarket.models import RewardRound

        reward_round = db.session.scalar(select(RewardRound).where(RewardRound.year == 2020))
        if reward_round is None:
            reward_round = RewardRound(year=2020, policy_id="yanshi-2021", status="draft")
            db.session.add(reward_round)
            db.session.commit()
        return {
            "round": reward_round.id,
            "case": case.id,
            "published_achievement": listing(Achievement, ListingStatus.PUBLISHED, own=False),
            "enterprise_need": listing(Need, ListingStatus.PUBLISHED, own=True),
            "other_draft": listing(Achievement, ListingStatus.DRAFT, own=False),
            "other_pending_need": listing(Need, ListingStatus.PENDING, own=False),
            "enterprise_org": org_of("enterprise"),
            "institute_org": org_of("institute"),
            "bureau_org": org_of("bureau"),
            "enterprise_user": db.session.scalar(select(User.id).where(User.username == "enterprise")),
            "verified_org": db.session.scalar(
                select(Organisation.id).where(
                    Organisation.status == Verification.VERIFIED, Organisation.kind == OrgKind.UNIVERSITY
                )
            ),
            "pending_org": db.session.scalar(
                select(Organisation.id).where(Organisation.status == Verification.PENDING).order_by(Organisation.id)
            ),
            "pending_broker": pending_broker,
            **matrix_contracts(app, db.session),
            **dashboard_ids(db.session),
        }


@pytest.fixture(scope="module")
def clients(app):
    from techmarket.extensions import limiter

    limiter.reset()
    result = {}
    for role in ROLES:
        c = app.test_client()
        if role != ANON:
            login(c, role)  # the seeded demo accounts are named after their roles
        result[role] = c
    return result


def dashboard_ids(session):
    from techmarket.models import PolicyTask, RegistryEntry, Target

    return {
        "dash_target": session.scalar(select(Target.id).order_by(Target.id)),
        "dash_entry": session.scalar(select(RegistryEntry.id).order_by(RegistryEntry.id)),
        "dash_task": session.scalar(select(PolicyTask.id).order_by(PolicyTask.id)),
    }


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(MATRIX), f"missing: {endpoints - set(MATRIX)}; stale: {set(MATRIX) - endpoints}"


@pytest.mark.parametrize(("endpoint", "method", "url", "role", "expected"), CASES)
def test_route_role_matrix(app, clients, ids, endpoint, method, url, role, expected):
    client = clients[role]
    path = url.format(**ids)
    if method == "GET":
        resp = client.get(path)
    elif endpoint == "auth.logout":
        # logging out would end the shared session: use a throwaway client signed in as the same role
        client = app.test_client()
        if role != ANON:
            login(client, role)
        resp = client.post(path, data={"csrf_token": any_csrf_token(client)})
        if role != ANON:  # logout ends every session of the user, the shared one too: sign it in again
            clients[role] = app.test_client()
            login(clients[role], role)
    else:
        resp = client.post(path, data={"csrf_token": any_csrf_token(client)})
    resp.close()  # static files are streamed
    assert resp.status_code == expected, f"{role} {method} {path}"
    if expected == 302 and role == ANON and endpoint not in ("auth.logout",):
        assert "/login" in resp.headers["Location"]

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

ROLES = ["anonymous", "enterprise", "institute", "broker", "bureau", "admin"]
ANON, ENT, INST, BROKER, BUREAU, ADMIN = ROLES


def everyone(status):
    return dict.fromkeys(ROLES, status)


SIGNED_IN = {ANON: 302, ENT: 200, INST: 200, BROKER: 200, BUREAU: 200, ADMIN: 200}
BUREAU_ONLY = {ANON: 302, ENT: 403, INST: 403, BROKER: 403, BUREAU: 200, ADMIN: 200}
GUESTS_ONLY = {ANON: 200, ENT: 302, INST: 302, BROKER: 302, BUREAU: 302, ADMIN: 302}
# POSTs below carry a valid CSRF token and an empty form: allowed roles get 422 (nothing changes).
BUREAU_POST = {ANON: 302, ENT: 403, INST: 403, BROKER: 403, BUREAU: 422, ADMIN: 422}

# endpoint -> list of (method, url template, expectations by role)
MATRIX = {
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

        return {
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

"""Use cases of the marketplace: draft, edit, submit, review, close, renew, expire, search."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from techmarket import matchindex
from techmarket import search as text_search
from techmarket.domain.accounts import OrgKind, Verification
from techmarket.domain.listings import (
    Cooperation,
    IPType,
    ListingStatus,
    Maturity,
    TechField,
    TransitionError,
    add_months,
    cooperation_mask,
    next_status,
)
from techmarket.models import Achievement, ListingTerm, Need, NeedAccess, Organisation, User
from techmarket.models.types import utcnow
from techmarket.permissions import listing_owner_kind_ok, publish_refusal_reason
from techmarket.services import audit
from techmarket.services.accounts import ServiceError

MODELS: dict[str, type[Achievement] | type[Need]] = {"achievement": Achievement, "need": Need}
DEFAULT_ACHIEVEMENT_MONTHS = 12


@dataclass(frozen=True)
class AchievementData:
    title: str
    summary: str
    description: str
    field: TechField
    keywords: list[str]
    maturity: Maturity
    trl: int | None
    ip_type: IPType
    patent_numbers: list[str]
    cooperation: list[Cooperation]
    price: Decimal | None
    team: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    pilot_base: bool = False


@dataclass(frozen=True)
class NeedData:
    title: str
    description: str
    field: TechField
    expected_outcome: str
    budget_min: Decimal | None
    budget_max: Decimal | None
    deadline: date
    cooperation: list[Cooperation]
    confidential_details: str = ""
    anonymous: bool = False


def _index_parts(listing: Achievement | Need) -> list[str]:
    if isinstance(listing, Achievement):
        return [listing.title, listing.summary, listing.description, " ".join(listing.keywords or ())]
    return [listing.title, listing.description, listing.expected_outcome]  # never the confidential part


def reindex(session: Session, listing: Achievement | Need) -> None:
    session.execute(delete(ListingTerm).where(ListingTerm.kind == listing.kind, ListingTerm.listing_id == listing.id))
    terms = text_search.index_terms(_index_parts(listing))
    session.add_all(ListingTerm(kind=listing.kind, term=t, listing_id=listing.id) for t in sorted(terms))


def _values(data: AchievementData | NeedData) -> dict[str, Any]:
    values = asdict(data)
    values["cooperation_mask"] = cooperation_mask(values.pop("cooperation"))
    return values


def create(
    session: Session, actor: User, kind: str, data: AchievementData | NeedData, *, ip: str | None = None
) -> Achievement | Need:
    if not listing_owner_kind_ok(kind, actor.org):
        raise ServiceError("技术需求由企业发布，科技成果由高校、科研院所等技术输出方发布。")
    listing = MODELS[kind](org=actor.org, created_by_id=actor.id, status=ListingStatus.DRAFT, **_values(data))
    session.add(listing)
    session.flush()
    reindex(session, listing)
    audit.record(
        session, "create_listing", actor_id=actor.id, object_type=kind, object_id=listing.id, ip=ip, title=listing.title
    )
    return listing


def update(
    session: Session,
    actor: User,
    listing: Achievement | Need,
    data: AchievementData | NeedData,
    expected_version: int,
    *,
    ip: str | None = None,
) -> dict[str, list[Any]]:
    """Apply an edit; a published listing stays published and the change is recorded field by field."""
    if listing.version != expected_version:
        raise ServiceError("该信息已被他人修改，请刷新页面查看最新内容后再编辑（您填写的内容仍保留在表单中）。")
    changes = audit.apply_changes(listing, _values(data))
    if not changes:
        return changes
    if isinstance(listing, Need) and "deadline" in changes and listing.status == ListingStatus.PUBLISHED:
        listing.expires_on = listing.deadline
    session.flush()
    reindex(session, listing)
    matchindex.bump_version(session)
    audit.record(
        session,
        "edit_listing",
        actor_id=actor.id,
        object_type=listing.kind,
        object_id=listing.id,
        ip=ip,
        status=listing.status.value,
        changes=changes,
    )
    return changes


def transition(
    session: Session,
    actor: User,
    listing: Achievement | Need,
    action: str,
    *,
    today: date,
    reason: str = "",
    new_deadline: date | None = None,
    validity_months: int = DEFAULT_ACHIEVEMENT_MONTHS,
    ip: str | None = None,
) -> None:
    old = listing.status
    if action == "expire" or (old == ListingStatus.PUBLISHED and listing.current_status(today) != old):
        old = listing.current_status(today)  # a published listing past its date is treated as expired
    try:
        new = next_status(old, action)
    except TransitionError as exc:
        raise ServiceError(str(exc)) from exc
    if action == "submit":
        refusal = publish_refusal_reason(actor, listing.org)
        if refusal:
            raise ServiceError(refusal)
        if isinstance(listing, Need) and listing.deadline < today:
            raise ServiceError("需求截止日期已过，请先修改截止日期再提交。")
    if action == "reject":
        reason = reason.strip()
        if not reason:
            raise ServiceError("驳回时必须填写驳回原因。", "reason")
        listing.reject_reason = reason
    if action in ("submit", "approve"):
        listing.reject_reason = None
    if action == "approve":
        listing.published_at = utcnow()
        listing.expires_on = _expiry(listing, today, validity_months)
    if action == "renew":
        if isinstance(listing, Need):
            if new_deadline is None or new_deadline < today:
                raise ServiceError("续期需要填写一个不早于今天的新截止日期。", "deadline")
            listing.deadline = new_deadline
        listing.expires_on = _expiry(listing, today, validity_months)
    listing.status = new
    session.flush()
    matchindex.bump_version(session)
    audit.record(
        session,
        f"listing_{action}",
        actor_id=actor.id,
        object_type=listing.kind,
        object_id=listing.id,
        ip=ip,
        old=old.value,
        new=new.value,
        reason=reason or None,
    )


def _expiry(listing: Achievement | Need, today: date, months: int) -> date:
    return listing.deadline if isinstance(listing, Need) else add_months(today, months)


def expire_due(session: Session, today: date) -> int:
    """Flip published listings past their date to 已过期 (run daily: ``flask listings expire``)."""
    count = 0
    for model in MODELS.values():
        rows = session.scalars(select(model).where(model.status == ListingStatus.PUBLISHED, model.expires_on < today))
        for listing in rows:
            listing.status = ListingStatus.EXPIRED
            matchindex.bump_version(session)
            audit.record(
                session,
                "listing_expire",
                object_type=listing.kind,
                object_id=listing.id,
                old="published",
                new="expired",
            )
            count += 1
    session.flush()
    return count


def grants(session: Session, need: Need) -> tuple[frozenset[int], frozenset[int]]:
    rows = session.execute(select(NeedAccess.org_id, NeedAccess.user_id).where(NeedAccess.need_id == need.id)).all()
    return frozenset(o for o, _ in rows if o), frozenset(u for _, u in rows if u)


def grant_access(session: Session, actor: User, need: Need, credit_code: str, *, ip: str | None = None) -> NeedAccess:
    org = session.scalar(select(Organisation).where(Organisation.credit_code == credit_code))
    if org is None or org.status != Verification.VERIFIED or org.kind == OrgKind.BUREAU:
        raise ServiceError("平台上没有该统一社会信用代码对应的已认证单位。", "credit_code")
    if org.id == need.org_id:
        raise ServiceError("本单位成员本来就能查看保密信息。", "credit_code")
    existing = session.scalar(select(NeedAccess).where(NeedAccess.need_id == need.id, NeedAccess.org_id == org.id))
    if existing is not None:
        return existing
    access = NeedAccess(need_id=need.id, org_id=org.id, granted_by_id=actor.id)
    session.add(access)
    session.flush()
    audit.record(
        session,
        "grant_need_access",
        actor_id=actor.id,
        object_type="need",
        object_id=need.id,
        ip=ip,
        org_id=org.id,
        org_name=org.name,
    )
    return access


def revoke_access(session: Session, actor: User, need: Need, access_id: int, *, ip: str | None = None) -> None:
    access = session.get(NeedAccess, access_id)
    if access is None or access.need_id != need.id:
        raise ServiceError("该授权不存在或已被撤销。")
    session.delete(access)
    session.flush()
    audit.record(
        session,
        "revoke_need_access",
        actor_id=actor.id,
        object_type="need",
        object_id=need.id,
        ip=ip,
        org_id=access.org_id,
        user_id=access.user_id,
    )


# --- search -------------------------------------------------------------------------------------------


@dataclass
class Filters:
    q: str = ""
    field: TechField | None = None
    maturity: Maturity | None = None
    cooperation: Cooperation | None = None
    owner_kind: OrgKind | None = None
    town: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    pilot_base: bool = False
    sort: str = "newest"
    terms: list[str] = dataclass_field(default_factory=list)


def search_ids(kind: str, filters: Filters, today: date) -> Select:
    """Ids of published, unexpired listings matching every filter, in display order.

    Only ids are selected, so the public-listing index (status, published_at, expires_on) covers the
    common case; the organisation is joined only when a filter needs it.
    """
    model = MODELS[kind]
    stmt = select(model.id).where(
        model.status == ListingStatus.PUBLISHED, or_(model.expires_on.is_(None), model.expires_on >= today)
    )
    for term in filters.terms:
        stmt = stmt.where(
            model.id.in_(select(ListingTerm.listing_id).where(ListingTerm.kind == kind, ListingTerm.term == term))
        )
    if filters.owner_kind or filters.town:
        stmt = stmt.join(Organisation, Organisation.id == model.org_id)
        if filters.owner_kind:
            stmt = stmt.where(Organisation.kind == filters.owner_kind)
        if filters.town:
            stmt = stmt.where(Organisation.town == filters.town)
    if filters.field:
        stmt = stmt.where(model.field == filters.field)
    if filters.cooperation:
        stmt = stmt.where(model.cooperation_mask.op("&")(filters.cooperation.bit) != 0)
    if kind == "achievement":
        if filters.maturity:
            stmt = stmt.where(model.maturity == filters.maturity)
        if filters.pilot_base:
            stmt = stmt.where(model.pilot_base.is_(True))
        if filters.min_amount is not None:
            stmt = stmt.where(model.price >= filters.min_amount)
        if filters.max_amount is not None:
            stmt = stmt.where(model.price <= filters.max_amount)
    else:
        # a budget range overlaps the asked range; 面议 (no figures) is left out once a range is asked
        if filters.min_amount is not None:
            stmt = stmt.where(func.coalesce(model.budget_max, model.budget_min) >= filters.min_amount)
        if filters.max_amount is not None:
            stmt = stmt.where(func.coalesce(model.budget_min, model.budget_max) <= filters.max_amount)
    if filters.sort == "deadline":
        return stmt.order_by(model.expires_on.asc(), model.id.desc())
    return stmt.order_by(model.published_at.desc(), model.id.desc())


@dataclass
class Page:
    """One page of results, with what the pagination macro needs."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    def iter_pages(self, edge: int = 2, around: int = 2) -> Iterator[int | None]:
        last = 0
        for n in range(1, self.pages + 1):
            if n <= edge or abs(n - self.page) <= around or n > self.pages - edge:
                if last and n - last > 1:
                    yield None
                yield n
                last = n


_SEARCH_CACHE: OrderedDict[tuple, tuple[int, list[int]]] = OrderedDict()
_SEARCH_CACHE_SIZE = 2048
_search_lock = threading.Lock()


def _filters_key(filters: Filters) -> tuple:
    return (
        filters.field,
        filters.maturity,
        filters.cooperation,
        filters.owner_kind,
        filters.town,
        filters.min_amount,
        filters.max_amount,
        filters.pilot_base,
        filters.sort,
        tuple(filters.terms),
    )


def search(session: Session, kind: str, filters: Filters, today: date, page: int, per_page: int) -> Page:
    """Count and fetch one page in two cheap steps: ids from the index, then those rows only.

    The ids and the total are cached per worker under the listings version (``matching_state``, bumped
    with every change that can alter what is public) and the day, so a busy list page costs one small
    query for the version and one for its 20 rows.
    """
    version = matchindex.db_version(session)
    key = (kind, _filters_key(filters), page, per_page, today, version)
    with _search_lock:
        cached = _SEARCH_CACHE.get(key)
        if cached is not None:
            _SEARCH_CACHE.move_to_end(key)
    if cached is None:
        ids_stmt = search_ids(kind, filters, today)
        total = session.scalar(select(func.count()).select_from(ids_stmt.order_by(None).subquery())) or 0
        page = max(1, min(page, max(1, -(-total // per_page))))
        ids = list(session.scalars(ids_stmt.limit(per_page).offset((page - 1) * per_page)))
        with _search_lock:
            _SEARCH_CACHE[key] = (total, ids)
            while len(_SEARCH_CACHE) > _SEARCH_CACHE_SIZE:
                _SEARCH_CACHE.popitem(last=False)
    else:
        total, ids = cached
        page = max(1, min(page, max(1, -(-total // per_page))))
    model = MODELS[kind]
    rows = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    return Page(items=[rows[i] for i in ids if i in rows], page=page, per_page=per_page, total=total)

"""Daily digests: one message per person (and one for the office webhook) per day, never one per batch.

Why: the emergency office reads one digest in the morning, and alerts that come
as a flood of one message per item stop being read.  A digest lists the alerts raised (opened,
reopened or escalated) since the recipient's previous digest at the locations
the recipient may see — the same scoping as the web pages
(:func:`inventory.stock.permissions.visible_location_ids`) — and counts everything still
outstanding.  Nothing new, no message.

Digests are written to the :class:`~inventory.alerts.models.Notification` outbox in
the run's transaction, unique per (channel, recipient, day), in the
recipient's language (``User.locale``, default Simplified Chinese), and sent
only after that transaction committed (measured: docs/sources.md §9.2).  Delivery claims
each row with a conditional UPDATE, so two senders never send the same row;
a failed send stays pending with its error and is retried with back-off.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import json
from dataclasses import dataclass, field
from typing import Callable, Protocol

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from inventory.alerts.models import (
    Alert,
    AlertPreference,
    AlertState,
    Notification,
    NotificationResend,
    NotificationStatus,
)
from inventory.alerts.services.queries import due_order
from inventory.alerts.services.rules import RULES, describe, rules_in_order
from inventory.core import settings
from inventory.core.db import db
from inventory.core.errors import AlreadyDone, InvalidInput, NotFound
from inventory.core.policy import Role
from inventory.core.sql import dialect_insert
from inventory.stock.permissions import visible_location_ids
from inventory.users.models import User

#: Outbox states as the UI names them.
NOTIFICATION_STATUS_LABELS = {
    NotificationStatus.PENDING: _l("waiting"), NotificationStatus.SENDING: _l("sending"),
    NotificationStatus.SENT: _l("sent"), NotificationStatus.FAILED: _l("failed"),
}
#: Channels as the UI names them.
CHANNEL_LABELS = {"email": _l("E-mail"), "webhook": _l("Group robot (webhook)")}
#: A claimed message whose sender vanished (crash) may be claimed again after this long.
STALE_CLAIM = dt.timedelta(minutes=15)
#: Longest retry delay.
MAX_RETRY_DELAY = dt.timedelta(hours=6)
#: WeCom group-robot markdown content is limited to 4096 bytes of UTF-8 (企业微信 群机器人配置说明:
#: "markdown.content … 最长不超过4096个字节，必须是utf8编码"); 96 bytes are kept spare.
WECOM_MAX_BYTES = 4000


@dataclass
class DigestLine:
    """One alert as a digest shows it: rule label, severity, place, item, lot, message and link."""

    rule: str
    label: str
    severity: str
    location: str
    item: str
    lot: str
    text: str
    url: str


@dataclass
class Digest:
    """The content of one digest for one recipient on ``day`` (ready for the templates).

    ``new_by_rule`` / ``active_by_rule``: (rule label, count) pairs in rule order;
    ``lines`` the first raised alerts; ``more`` how many raised alerts are not listed.
    """

    day: dt.date
    name: str
    new_total: int
    new_by_rule: list[tuple[str, int]] = field(default_factory=list)
    active_total: int = 0
    active_by_rule: list[tuple[str, int]] = field(default_factory=list)
    lines: list[DigestLine] = field(default_factory=list)
    more: int = 0
    centre_url: str = ""
    settings_url: str = ""


def digest_roles() -> set[Role]:
    """Roles that get the e-mail digest by default (``ALERT_DIGEST_ROLES``)."""
    out = set()
    for name in settings.current().digest_roles.split(","):
        try:
            out.add(Role(name.strip()))
        except ValueError:
            continue
    return out - {Role.SYSTEM}


def email_enabled() -> bool:
    """True when an SMTP host is configured (``ALERT_SMTP_HOST``)."""
    return bool(settings.current().smtp_host)


def wants_email_digest(user: User, pref: AlertPreference | None, roles: set[Role]) -> bool:
    """True when ``user`` gets the e-mail digest: active staff with an address, and their
    preference (or, without one, their role's default)."""
    if not user.active or user.password_hash is None or user.role == Role.SYSTEM or not user.email:
        return False
    return pref.email_digest if pref is not None else user.role in roles


def email_recipients() -> list[User]:
    """Users who get today's e-mail digest (by username), with their locations loaded."""
    roles = digest_roles()
    prefs = {p.user_id: p for p in db.session.scalars(select(AlertPreference))}
    users = db.session.scalars(select(User).where(User.active.is_(True), User.email != "")
                               .options(selectinload(User.locations)).order_by(User.username))
    return [u for u in users if wants_email_digest(u, prefs.get(u.id), roles)]


def _pairs(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(str(r.label), counts[r.code]) for r in rules_in_order() if counts.get(r.code)] + [
        (code, n) for code, n in sorted(counts.items()) if code not in RULES and n]


class AlertWindows:
    """What every digest of one run needs from the alert table, read in two queries whatever the
    number of recipients and alerts, so that digests cost the same for 40 keepers as for one.

    A digest covers the open alerts raised in runs (``after_run``, ``through_run``] at the
    recipient's locations; recipients differ only in ``after_run`` (their previous digest) and
    their locations.  Built for the sorted distinct ``after_runs`` t1 < t2 < … of the run's
    recipients: every active alert falls in a *bucket* b = how many of them lie below its
    ``raised_run``, so a recipient whose previous digest was run tj counts the buckets ≥ j.

    * ``counts[location_id][rule]`` = [active alerts, then new alerts per bucket 0..k];
    * ``firsts[(location_id, bucket)]`` = up to ``limit`` (position, alert id) pairs, where the
      position is the alert's place in :func:`~.queries.due_order` among all new alerts; a
      recipient's first lines are the ``limit`` smallest positions over their buckets and
      locations (each location-bucket's own first ``limit`` contain them).

    Memory: at most locations × rules × (k + 1) counts and locations × (k + 1) × ``limit`` pairs.
    """

    def __init__(self, after_runs, through_run: int, limit: int):
        self.thresholds = sorted(set(after_runs))
        self.through_run = through_run
        self.limit = limit
        self.counts: dict[int, dict[str, list[int]]] = {}
        self.firsts: dict[tuple[int, int], list[tuple[int, int]]] = {}
        if not self.thresholds:
            return
        buckets = len(self.thresholds) + 1
        bucket = case(*[(Alert.raised_run > t, len(self.thresholds) - i)
                        for i, t in enumerate(reversed(self.thresholds))], else_=0)
        new = and_(Alert.state == AlertState.OPEN, Alert.raised_run <= through_run)
        for location_id, code, b, active, n in db.session.execute(
                select(Alert.location_id, Alert.rule, bucket, func.count(Alert.id), func.sum(case((new, 1), else_=0)))
                .where(Alert.state != AlertState.RESOLVED).group_by(Alert.location_id, Alert.rule, bucket)):
            cell = self.counts.setdefault(location_id, {}).setdefault(code, [0] * (buckets + 1))
            cell[0] += active
            cell[1 + b] += int(n or 0)
        placed = (select(Alert.id, Alert.location_id, bucket.label("bucket"),
                         func.row_number().over(order_by=due_order()).label("pos"))
                  .where(Alert.state == AlertState.OPEN, Alert.raised_run > self.thresholds[0],
                         Alert.raised_run <= through_run).subquery())
        ranked = select(placed.c.id, placed.c.location_id, placed.c.bucket, placed.c.pos, func.row_number().over(
            partition_by=(placed.c.location_id, placed.c.bucket), order_by=placed.c.pos).label("n")).subquery()
        for alert_id, location_id, b, pos in db.session.execute(
                select(ranked.c.id, ranked.c.location_id, ranked.c.bucket, ranked.c.pos).where(ranked.c.n <= limit)):
            self.firsts.setdefault((location_id, b), []).append((pos, alert_id))

    def _bucket(self, after_run: int) -> int:
        try:
            return self.thresholds.index(after_run) + 1
        except ValueError:
            raise ValueError(f"after_run {after_run} is not one of {self.thresholds}") from None

    def totals(self, ids: set[int] | None, after_run: int) -> tuple[dict[str, int], dict[str, int]]:
        """(new alerts by rule, active alerts by rule) at locations ``ids`` (None = all) for a
        recipient whose previous digest was run ``after_run`` (one of the ``after_runs``)."""
        first = self._bucket(after_run)
        new_counts: dict[str, int] = {}
        active_counts: dict[str, int] = {}
        locations = self.counts.keys() if ids is None else ids
        for location_id in locations:
            for code, cell in self.counts.get(location_id, {}).items():
                active_counts[code] = active_counts.get(code, 0) + cell[0]
                new_counts[code] = new_counts.get(code, 0) + sum(cell[1 + first:])
        return new_counts, active_counts

    def first_ids(self, ids: set[int] | None, after_run: int) -> list[int]:
        """Ids of the first ``limit`` new alerts in :func:`~.queries.due_order` at locations
        ``ids`` (None = all) for a recipient whose previous digest was run ``after_run``."""
        first = self._bucket(after_run)
        if ids is None:
            lists = [v for (_loc, b), v in self.firsts.items() if b >= first]
        else:
            lists = [self.firsts.get((loc, b), ()) for loc in ids for b in range(first, len(self.thresholds) + 1)]
        return [alert_id for _pos, alert_id in heapq.nsmallest(self.limit, itertools.chain.from_iterable(lists))]


def collect(day: dt.date, name: str, ids: set[int] | None, after_run: int, through_run: int, *,
            link: Callable[..., str], english: bool = False, windows: AlertWindows | None = None) -> Digest | None:
    """The digest of alerts raised in runs (``after_run``, ``through_run``] and still open at
    locations ``ids`` (None = all), or None when there is nothing new.  Counts and the first
    lines come from ``windows`` (an :class:`AlertWindows` built for ``through_run`` with
    ``after_run`` among its runs; default: built here, two queries); one more query loads those
    alerts with their location, item and batch.  Lines are in :func:`~.queries.due_order`
    (soonest due first), at most ``ALERT_DIGEST_MAX_LINES``.
    ``link(endpoint, **values)`` makes the absolute URLs of the alert centre, the settings page and
    each alert; ``english`` picks the English names of locations and items.  Render it inside
    ``force_locale`` for the recipient's language."""
    if windows is None:
        windows = AlertWindows([after_run], through_run, settings.current().digest_max_lines)
    new_counts, active_counts = windows.totals(ids, after_run)
    new_total = sum(new_counts.values())
    if not new_total:
        return None
    first = windows.first_ids(ids, after_run)
    loaded = {a.id: a for a in db.session.scalars(
        select(Alert).where(Alert.id.in_(first or [-1]))
        .options(joinedload(Alert.location), joinedload(Alert.item), joinedload(Alert.batch))).unique()}
    digest = Digest(day=day, name=name, new_total=new_total, new_by_rule=_pairs(new_counts),
                    active_total=sum(active_counts.values()), active_by_rule=_pairs(active_counts),
                    centre_url=link("alerts.index"), settings_url=link("alerts.settings"))
    for a in (loaded[i] for i in first):
        r = RULES.get(a.rule)
        digest.lines.append(DigestLine(
            rule=a.rule, label=str(r.label) if r else a.rule, severity=r.severity if r else "warning",
            location=a.location.display_name("en" if english else "zh") if a.location else "",
            item=a.item.display_name("en" if english else "zh") if a.item else "",
            lot=(a.batch.lot_number or a.batch.label_code) if a.batch else "",
            text=describe(a, day), url=link("alerts.detail", alert_id=a.id)))
    digest.more = new_total - len(digest.lines)
    return digest


def fit_markdown(digest: Digest, render: Callable[[Digest], str], limit: int = WECOM_MAX_BYTES) -> str:
    """The markdown ``render(digest)`` (str), at most ``limit`` bytes of UTF-8: when too long,
    whole alert lines are dropped from the end (the most distant due dates: lines are
    soonest first) and counted in the "… and N more" line, so the message keeps its tail —
    that count, the outstanding total and the link to the alert centre.  Binary search over
    the number of lines kept (a dozen renders at most).  Should even the digest without lines
    exceed ``limit`` (it cannot with the stock templates), it is cut at a line break.
    """
    full = render(digest)
    if len(full.encode("utf-8")) <= limit:
        return full

    def keep(n: int) -> str:
        return render(dataclasses.replace(digest, lines=digest.lines[:n],
                                          more=digest.more + len(digest.lines) - n))

    low, high, best = 0, len(digest.lines) - 1, None
    while low <= high:
        mid = (low + high) // 2
        text = keep(mid)
        if len(text.encode("utf-8")) <= limit:
            best, low = text, mid + 1
        else:
            high = mid - 1
    if best is None:  # no room even for the head and tail: cut at a line break
        best = keep(0).encode("utf-8")[:limit].decode("utf-8", errors="ignore").rsplit("\n", 1)[0]
    return best


def _collect_in(locale: str, render: "DigestRenderer", **kwargs) -> Digest | None:
    with force_locale(locale):
        return collect(**kwargs, link=render.link, english=locale.startswith("en"))


def _last_through(channel: str) -> dict[int | None, int]:
    return dict(db.session.execute(
        select(Notification.user_id, func.max(Notification.through_run))
        .where(Notification.channel == channel).group_by(Notification.user_id)).all())


def _add(**values) -> bool:
    """Insert one outbox row unless its ``dedup_key`` exists; True when it was inserted.
    (RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT through SQLAlchemy.)"""
    table = Notification.__table__
    return db.session.execute(dialect_insert(table).values(**values)
                              .on_conflict_do_nothing(index_elements=["dedup_key"])
                              .returning(table.c.id)).first() is not None


@dataclass
class DigestReport:
    """Digests written by one run: ``created`` as (channel, recipient, alert count); ``skipped``
    recipients with nothing new; ``existing`` recipients whose digest for the day already exists."""

    created: list[tuple[str, str, int]] = field(default_factory=list)
    skipped: int = 0
    existing: int = 0


class DigestRenderer(Protocol):
    """How digests become text: absolute links and the rendered message (the mail module's
    templates, :mod:`inventory.alerts.mail`); a service only calls it."""

    def link(self, endpoint: str, **values) -> str:
        """Absolute URL of ``endpoint`` under ``EXTERNAL_URL``."""

    def content(self, digest: Digest, locale: str, channel: str = "email") -> dict:
        """``{"subject", "text", "html"}`` of ``digest`` in ``locale`` for "email",
        ``{"subject", "text", "markdown"}`` for "webhook"."""


def build_digests(day: dt.date, run: int, now: dt.datetime, *, render: DigestRenderer) -> DigestReport:
    """Write the day's digests to the outbox, inside the alert run's transaction (run ``run``).

    E-mail (when ``ALERT_SMTP_HOST`` is set) to every user of
    :func:`email_recipients`, scoped to :func:`~inventory.stock.permissions.visible_location_ids`;
    one office-wide digest to ``ALERT_WEBHOOK_URL`` when set.  A recipient
    whose digest for ``day`` exists, or who has nothing new, gets none.  ``render`` links and
    renders each digest (:class:`DigestRenderer`).  Queries: the recipients, then two for every
    recipient's counts and first lines together (:class:`AlertWindows`), then one per digest to
    load its lines; no alert is loaded beyond the lines shown.  Flushes.
    """
    report = DigestReport()
    cfg = settings.current()
    existing = set(db.session.scalars(select(Notification.dedup_key).where(Notification.digest_on == day)))
    # Who gets a digest today, and since which run: first, so that one AlertWindows serves them all.
    emails: list[tuple[User, str, int]] = []
    if email_enabled():
        last = _last_through("email")
        for user in email_recipients():
            key = f"digest:email:user:{user.id}:{day.isoformat()}"
            if key in existing:
                report.existing += 1
            else:
                emails.append((user, key, last.get(user.id) or 0))
    hook: tuple[str, int] | None = None
    if cfg.webhook_url:
        key = f"digest:webhook:office:{day.isoformat()}"
        if key in existing:
            report.existing += 1
        else:
            hook = (key, _last_through("webhook").get(None) or 0)
    after_runs = [after for _user, _key, after in emails] + ([hook[1]] if hook else [])
    windows = AlertWindows(after_runs, run, cfg.digest_max_lines)
    for user, key, after in emails:
        locale = cfg.locale_or_default(user.locale)
        digest = _collect_in(locale, render, day=day, name=user.name, ids=visible_location_ids(user),
                             after_run=after, through_run=run, windows=windows)
        if digest is None:
            report.skipped += 1
            continue
        content = render.content(digest, locale)
        if _add(dedup_key=key, channel="email", user_id=user.id, recipient=user.email, locale=locale,
                digest_on=day, through_run=run, alert_count=digest.new_total, subject=content["subject"][:255],
                body_text=content["text"], body_html=content["html"], payload="",
                status=NotificationStatus.PENDING.value, attempts=0, last_error="", created_at=now):
            report.created.append(("email", user.email, digest.new_total))
    if hook is not None:
        key, after = hook
        locale = cfg.webhook_locale
        digest = _collect_in(locale, render, day=day, name="", ids=None, after_run=after, through_run=run,
                             windows=windows)
        if digest is None:
            report.skipped += 1
        else:
            content = render.content(digest, locale, "webhook")
            payload = webhook_payload(digest, content, cfg.webhook_format)
            if _add(dedup_key=key, channel="webhook", user_id=None, recipient="ALERT_WEBHOOK_URL",
                    locale=locale, digest_on=day, through_run=run, alert_count=digest.new_total,
                    subject=content["subject"][:255], body_text=content["text"], body_html="",
                    payload=payload, status=NotificationStatus.PENDING.value, attempts=0, last_error="",
                    created_at=now):
                report.created.append(("webhook", "ALERT_WEBHOOK_URL", digest.new_total))
    db.session.flush()
    return report


def webhook_payload(digest: Digest, content: dict, fmt: str) -> str:
    """The JSON body for the webhook: a WeCom group-robot markdown message (``fmt`` "wecom";
    ``content["markdown"]`` already fits :data:`WECOM_MAX_BYTES`, see :func:`fit_markdown`) or
    the digest as plain JSON (``fmt`` "json")."""
    if fmt == "wecom":
        return json.dumps({"msgtype": "markdown", "markdown": {"content": content["markdown"]}},
                          ensure_ascii=False)
    return json.dumps({
        "date": digest.day.isoformat(), "subject": content["subject"], "new": digest.new_total,
        "outstanding": digest.active_total, "new_by_rule": dict(digest.new_by_rule),
        "outstanding_by_rule": dict(digest.active_by_rule), "more": digest.more, "url": digest.centre_url,
        "alerts": [line.__dict__ for line in digest.lines],
    }, ensure_ascii=False)


# --------------------------------------------------------------------------- delivery


def claim_due(now: dt.datetime, token: str, limit: int = 50) -> list[int]:
    """Claim up to ``limit`` messages that are due (pending and past ``next_attempt_at``, or
    claimed by a sender that vanished more than 15 minutes ago) for sender ``token``.

    One conditional UPDATE: a concurrent sender cannot claim the same rows.
    Returns the claimed ids, oldest first.  Flushes; commit before sending.
    """
    due = or_(
        and_(Notification.status == NotificationStatus.PENDING,
             or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)),
        and_(Notification.status == NotificationStatus.SENDING, Notification.claimed_at < now - STALE_CLAIM))
    ids = select(Notification.id).where(due).order_by(Notification.id).limit(limit).scalar_subquery()
    claimed = db.session.execute(
        update(Notification).where(Notification.id.in_(ids), due)
        .values(status=NotificationStatus.SENDING, claimed_token=token, claimed_at=now)
        .returning(Notification.id).execution_options(synchronize_session=False)).scalars().all()
    return sorted(claimed)


def record_outcome(notification_id: int, token: str, error: str | None, now: dt.datetime) -> Notification | None:
    """Record the result of sending a claimed message: sent, or (``error``) one more failed
    attempt — pending again with back-off (``ALERT_RETRY_MINUTES`` doubling, at most 6 h)
    or failed after ``ALERT_SEND_MAX_ATTEMPTS``.  Returns None when the claim was lost.  Flushes."""
    msg = db.session.get(Notification, notification_id)
    if msg is None or msg.claimed_token != token:
        return None
    msg.attempts += 1
    msg.claimed_token = None
    if error is None:
        msg.status = NotificationStatus.SENT
        msg.sent_at = now
        msg.last_error = ""
        msg.next_attempt_at = None
    else:
        cfg = settings.current()
        msg.last_error = error[:2000]
        if msg.attempts >= cfg.send_max_attempts:
            msg.status = NotificationStatus.FAILED
            msg.next_attempt_at = None
        else:
            delay = dt.timedelta(minutes=cfg.retry_minutes * 2 ** (msg.attempts - 1))
            msg.status = NotificationStatus.PENDING
            msg.next_attempt_at = now + min(delay, MAX_RETRY_DELAY)
    db.session.flush()
    return msg


def waiting() -> tuple[int, dt.datetime | None]:
    """(messages still to be sent — pending, due or not, and claimed —, the earliest
    ``next_attempt_at`` among pending ones that are not due at once, or None); one query."""
    count, first = db.session.execute(
        select(func.count(Notification.id), func.min(Notification.next_attempt_at))
        .where(Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]))).one()
    return int(count or 0), first


def resend(notification_id: int, *, user: User, request_token: str, now: dt.datetime) -> Notification:
    """Put a digest whose sending failed for good back in the outbox (an administrator's
    "send again", e.g. after the mail server or robot was fixed): pending and due at once,
    with a fresh retry budget; the next delivery pass sends it.  The attempts and the error
    that stopped it are kept in a :class:`~inventory.alerts.models.NotificationResend` row with
    ``user`` and ``now``.

    ``request_token`` is the form's one-time token: a second post with the same token (double
    tap, back and resend) raises AlreadyDone (``repeated_form``) and changes nothing.
    Raises NotFound for an unknown message and InvalidInput when the token is missing or the
    message has not failed (pending, sending or sent: nothing to send again).  Access is the
    caller's check (administrators).  Flushes.
    """
    token = (request_token or "").strip()
    if not token or len(token) > 64:
        raise InvalidInput(_l("The form is incomplete; reload the page and try again."), field="request_token")
    if db.session.scalar(select(NotificationResend.id).where(NotificationResend.request_token == token)):
        raise AlreadyDone(_l("This digest was already sent again from this form; nothing was done twice."),
                          repeated_form=True)
    msg = db.session.get(Notification, notification_id)
    if msg is None:
        raise NotFound(_l("There is no such digest."), field="notification")
    if msg.status != NotificationStatus.FAILED:
        raise InvalidInput(_l("Only a digest whose sending failed can be sent again; this one is %(status)s.",
                              status=NOTIFICATION_STATUS_LABELS[msg.status]), field="notification")
    db.session.add(NotificationResend(notification_id=msg.id, request_token=token, user_id=user.id, at=now,
                                      attempts_before=msg.attempts, error_before=msg.last_error or ""))
    msg.status = NotificationStatus.PENDING
    msg.attempts = 0
    msg.next_attempt_at = None
    msg.claimed_token = None
    db.session.flush()
    return msg


def outbox_page(page: int, per_page: int = 50) -> tuple[list[Notification], bool]:
    """Messages newest first (admin page), with their user loaded; (rows, has next page)."""
    rows = list(db.session.scalars(
        select(Notification).options(joinedload(Notification.user))
        .order_by(Notification.id.desc()).limit(per_page + 1).offset((page - 1) * per_page)))
    return rows[:per_page], len(rows) > per_page


def outbox_counts() -> dict[str, int]:
    """Messages by status value ("pending", "sending", "sent", "failed"), in that order."""
    found = {getattr(s, "value", s): n for s, n in db.session.execute(
        select(Notification.status, func.count(Notification.id)).group_by(Notification.status))}
    return {s.value: found[s.value] for s in NotificationStatus if s.value in found}


# --------------------------------------------------------------------------- preferences


def preference_for(user: User) -> tuple[bool, bool]:
    """(gets the e-mail digest, has an explicit preference) for ``user``."""
    pref = db.session.get(AlertPreference, user.id)
    return wants_email_digest(user, pref, digest_roles()), pref is not None


def set_preferences(user: User, *, email_digest: bool, locale: str, now: dt.datetime) -> AlertPreference:
    """Store ``user``'s choice of the daily e-mail digest and the language of digests (and of
    the app when no language is chosen in the session: ``User.locale``).

    Raises InvalidInput (field ``locale``) for a language the app does not have,
    and (field ``email_digest``) when turning the e-mail digest on without an
    e-mail address.  Flushes.
    """
    if locale not in settings.current().languages:
        raise InvalidInput(_l("Choose one of the offered languages."), field="locale")
    if email_digest and not user.email:
        raise InvalidInput(_l("You have no e-mail address; ask the emergency office to add one."),
                           field="email_digest")
    pref = db.session.get(AlertPreference, user.id)
    if pref is None:
        pref = AlertPreference(user_id=user.id)
        db.session.add(pref)
    pref.email_digest = bool(email_digest)
    pref.updated_at = now
    user.locale = locale
    db.session.flush()
    return pref

"""Welfare settings and the exposure budget.

An analyst's view settings are the organisation's defaults (from `Settings`) with
their own overrides. Viewing time is counted from the audit log: each item page
view until the analyst's next recorded action, at most `MAX_VIEW_SECONDS`. A break
is prompted every `break_every_minutes` of viewing since the last break, and once
today's viewing reaches `daily_view_minutes` no image is shown (hash-only) until
the next day.
"""

import dataclasses
import datetime as dt
import typing as t

from vigil.config import Settings
from vigil.store.audit import AuditStore

#: One view counts at most this long: a page left open is not five hours of viewing.
MAX_VIEW_SECONDS = 300
USER_KEYS = ("blur_level", "greyscale", "sepia", "hash_only")


@dataclasses.dataclass(frozen=True)
class ViewSettings:
    blur_level: int
    greyscale: bool
    sepia: bool
    hash_only: bool


@dataclasses.dataclass(frozen=True)
class Exposure:
    viewed_today_s: float
    since_break_s: float
    daily_limit_s: float
    break_every_s: float

    @property
    def over_budget(self) -> bool:
        return self.viewed_today_s >= self.daily_limit_s

    @property
    def break_due(self) -> bool:
        return self.since_break_s >= self.break_every_s


def view_settings(settings: Settings, overrides: t.Mapping[str, t.Any]) -> ViewSettings:
    def pick(key: str, default: t.Any, kind: type) -> t.Any:
        value = overrides.get(key, default)
        return (
            value
            if isinstance(value, kind) and not (kind is int and isinstance(value, bool))
            else default
        )

    blur = pick("blur_level", settings.blur_level, int)
    return ViewSettings(
        blur_level=max(0, min(6, blur)),
        greyscale=pick("greyscale", settings.greyscale, bool),
        sepia=pick("sepia", settings.sepia, bool),
        hash_only=pick("hash_only", settings.hash_only, bool),
    )


def exposure(
    audit: AuditStore, actor: str, settings: Settings, now: dt.datetime
) -> Exposure:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    records = audit.records_of(actor, since=start)
    viewed = since_break = 0.0
    for record, following in zip(records, [*records[1:], None], strict=True):
        if record.action == "break":
            since_break = 0.0
            continue
        if record.action != "view":
            continue
        end = following.at if following is not None else now
        seconds = min(MAX_VIEW_SECONDS, max(0.0, (end - record.at).total_seconds()))
        viewed += seconds
        since_break += seconds
    return Exposure(
        viewed_today_s=viewed,
        since_break_s=since_break,
        daily_limit_s=settings.daily_view_minutes * 60.0,
        break_every_s=settings.break_every_minutes * 60.0,
    )

"""Budget periods: calendar days, weeks (from Monday) and months in a time zone, or "total".

A period is named by its start: local midnight of the day, of the Monday, of the first of the
month, converted to UTC with the offset in force at that midnight (zoneinfo handles DST, so a
day can last 23 or 25 hours); "total" starts at 0 and never ends. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

PERIODS = ("daily", "weekly", "monthly", "total")
MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Period:
    start_ms: int
    end_ms: int  # 0: never ends ("total")


def _local_start(period: str, local: datetime) -> tuple[datetime, datetime]:
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    if period == "daily":
        start, end = day, day + timedelta(days=1)
    elif period == "weekly":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _utc_ms(local: datetime) -> int:
    # Wall-clock arithmetic above keeps tzinfo; converting picks the offset of that instant.
    return int(local.astimezone(UTC).timestamp() * 1000)


@lru_cache(maxsize=4096)
def _period_of_minute(period: str, timezone: str, minute: int) -> Period:
    if period == "total":
        return Period(0, 0)
    local = datetime.fromtimestamp(minute * 60, ZoneInfo(timezone))
    start, end = _local_start(period, local)
    return Period(_utc_ms(start), _utc_ms(end))


def period_of(period: str, timezone: str, now_ms: int) -> Period:
    """The period containing `now_ms` (time zone offsets are whole minutes: cache per minute)."""
    return _period_of_minute(period, timezone, now_ms // MINUTE_MS)


def valid_timezone(name: str) -> bool:
    return name in available_timezones()

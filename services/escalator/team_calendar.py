"""The team's calendar: business hours, weekends and holidays, in the team's time zone. Pure.

A moment is placed in the team's zone and named by the periods it falls in (`business_hours`
or `off_hours`, and `weekend`, `holiday` when they apply); the policy's `time` condition asks
for any of them. Public holidays come from the `holidays` package for the configured
countries; company days off are listed as dates. The clock is always passed in.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

import holidays as public_holidays
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Period = Literal["business_hours", "off_hours", "weekend", "holiday"]
PERIODS: tuple[Period, ...] = ("business_hours", "off_hours", "weekend", "holiday")

_DURATION = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: object) -> object:
    """`30d`, `12h`, `45m`, `2w` as a timedelta; anything else is left for pydantic to refuse."""
    if isinstance(value, str):
        found = _DURATION.match(value)
        if not found:
            raise ValueError(
                f"write a duration as a number and m, h, d or w (e.g. 30d), not {value!r}"
            )
        return timedelta(**{_UNITS[found[2]]: int(found[1])})
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def describe_duration(span: timedelta) -> str:
    """The way the policy writes it: 30d, 12h, 45m."""
    minutes = int(span.total_seconds() // 60)
    for unit, size in (("d", 24 * 60), ("h", 60)):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _clock_time(value: object) -> object:
    # YAML reads an unquoted 09:00 as the number 540 (base 60).
    if isinstance(value, int):
        raise ValueError('write times quoted, e.g. "09:00"')
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BusinessHours(_Strict):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: ClockTime = time(9)
    end: ClockTime = time(18)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError(f"business hours end ({self.end}) must be after start ({self.start})")
        return self


class Holidays(_Strict):
    countries: list[str] = Field(
        default_factory=list, description="Public holidays of these countries (ISO 3166 codes)."
    )
    dates: list[date] = Field(default_factory=list, description="Company days off.")

    @field_validator("countries")
    @classmethod
    def _supported(cls, countries: list[str]) -> list[str]:
        known = public_holidays.list_supported_countries()
        unknown = [c for c in countries if c not in known]
        if unknown:
            raise ValueError(f"no public holiday calendar for {unknown} (ISO 3166 codes, e.g. RU)")
        return countries


@lru_cache(maxsize=64)
def _public(country: str, year: int) -> public_holidays.HolidayBase:
    return public_holidays.country_holidays(country, years=year)


@lru_cache(maxsize=8)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


class TeamCalendar(_Strict):
    timezone: str
    business_hours: BusinessHours = BusinessHours()
    weekend: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[5:]))
    holidays: Holidays = Holidays()

    def local(self, at: datetime) -> datetime:
        return at.astimezone(zone(self.timezone))

    def holiday(self, day: date) -> str | None:
        """The holiday's name, if `day` is one."""
        if day in self.holidays.dates:
            return "company day off"
        for country in self.holidays.countries:
            name = _public(country, day.year).get(day)
            if name:
                return str(name)
        return None

    def business_day(self, day: date) -> bool:
        """A day of business hours: one of their weekdays, and no holiday."""
        return WEEKDAYS[day.weekday()] in self.business_hours.days and not self.holiday(day)

    def periods(self, at: datetime) -> frozenset[Period]:
        local = self.local(at)
        weekday = WEEKDAYS[local.weekday()]
        found: set[Period] = set()
        if weekday in self.weekend:
            found.add("weekend")
        if self.holiday(local.date()):
            found.add("holiday")
        hours = self.business_hours
        open_now = (
            self.business_day(local.date())
            and hours.start <= local.time().replace(tzinfo=None) < hours.end
        )
        found.add("business_hours" if open_now else "off_hours")
        return frozenset(found)

    def after_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of business hours after `start`: the hours outside business
        hours, and holidays, do not count (a promise made on a Saturday falls on Monday).
        In UTC. Refuses a calendar without a business day (it would never come)."""
        left = timedelta(minutes=minutes)
        local, tz = self.local(start), zone(self.timezone)
        day, hours = local.date(), self.business_hours
        for _ in range(3 * 366):
            if self.business_day(day):
                begin = max(datetime.combine(day, hours.start, tz), local)
                closes = datetime.combine(day, hours.end, tz)
                if begin + left <= closes:
                    return (begin + left).astimezone(UTC)
                left -= max(closes - begin, timedelta(0))
            day += timedelta(days=1)
        raise ValueError("no business hours within three years: no business days?")

    def moment(self, at: datetime) -> dict[str, Any]:
        """When `at` is for the team, in parts (JSON values): weekday, local time, zone, the
        periods it falls in and the holiday's name, if any."""
        local = self.local(at)
        return {
            "weekday": WEEKDAYS[local.weekday()],
            "local": f"{local:%Y-%m-%d %H:%M}",
            "timezone": self.timezone,
            "periods": [p for p in PERIODS if p in self.periods(at)],
            "holiday": self.holiday(local.date()),
        }

    def describe(self, at: datetime) -> str:
        """`Sat 2022-03-26 11:02 Europe/Moscow: weekend, off hours`, naming a holiday."""
        m = self.moment(at)
        names = [
            f"holiday ({m['holiday']})" if p == "holiday" and m["holiday"] else p.replace("_", " ")
            for p in m["periods"]
        ]
        return f"{m['weekday'].capitalize()} {m['local']} {m['timezone']}: {', '.join(names)}"

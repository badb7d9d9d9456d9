"""Time-zone resolution: order of evidence, DST-correct zones, bad names."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from classifiers.timezones import (
    country_timezone,
    is_valid_timezone,
    locale_country,
    resolve_timezone,
)
from classifiers.types import ClassifierInput


def resolve(language: str | None = None, **fields: str) -> tuple[str | None, str]:
    return resolve_timezone(ClassifierInput(text="x", **fields), language)


@pytest.mark.parametrize(
    ("fields", "language", "expected"),
    [
        (
            {"timezone": "Asia/Manila", "locale": "en-US", "country": "US"},
            "en",
            ("Asia/Manila", "customer"),
        ),
        ({"timezone": "Mars/Olympus", "locale": "pt-BR"}, None, ("America/Sao_Paulo", "locale")),
        ({"locale": "en_GB.UTF-8", "country": "US"}, None, ("Europe/London", "locale")),
        ({"locale": "fr", "country": "ca"}, None, ("America/Toronto", "country")),
        ({"locale": "zh-Hant-TW"}, None, ("Asia/Taipei", "locale")),
        ({"phone": "+1 415 555 0100"}, "en", ("America/Los_Angeles", "phone")),
        ({"phone": "+49 30 1234567"}, None, ("Europe/Berlin", "phone")),
        ({"phone": "020 7946 0958", "locale": "en"}, None, (None, "none")),
        ({"phone": "02 9374 4000", "country": "ZZ"}, "en", ("America/New_York", "language")),
        ({"phone": "not a phone"}, "ja", ("Asia/Tokyo", "language")),
        ({}, "tl", ("Asia/Manila", "language")),
        ({}, "xx", (None, "none")),
        ({}, None, (None, "none")),
    ],
)
def test_strongest_evidence_wins(
    fields: dict[str, str], language: str | None, expected: tuple[str | None, str]
) -> None:
    assert resolve(language, **fields) == expected


def test_national_numbers_use_the_known_region() -> None:
    # Without "+", the number is read in the customer's country or locale region.
    assert resolve(phone="(02) 9374 4000", country="AU") == ("Australia/Sydney", "country")
    assert resolve(phone="(415) 555-0100", locale="en") == (None, "none")
    assert resolve(phone="(415) 555-0100", locale="en-US") == ("America/New_York", "locale")


def test_countries_with_several_zones_use_the_most_populous() -> None:
    assert country_timezone("BR") == "America/Sao_Paulo"
    assert country_timezone("us") == "America/New_York"
    assert country_timezone("RU") == "Europe/Moscow"
    assert country_timezone("JP") == "Asia/Tokyo"
    assert country_timezone("XX") is None
    assert country_timezone("USA") is None


def test_locale_regions() -> None:
    assert locale_country("pt-BR") == "BR"
    assert locale_country("es_419") is None  # a UN region, not a country
    assert locale_country("de") is None
    assert locale_country("") is None
    assert locale_country("!!") is None


@pytest.mark.parametrize(
    ("country", "winter", "summer"),
    [("US", -5, -4), ("AU", 11, 10), ("DE", 1, 2), ("BR", -3, -3), ("IN", 5.5, 5.5)],
)
def test_resolved_zones_follow_daylight_saving(country: str, winter: float, summer: float) -> None:
    zone, source = resolve(country=country)
    assert source == "country" and zone is not None
    tz = ZoneInfo(zone)
    january = datetime(2025, 1, 15, 12, tzinfo=tz).utcoffset()
    july = datetime(2025, 7, 15, 12, tzinfo=tz).utcoffset()
    assert january == timedelta(hours=winter)
    assert july == timedelta(hours=summer)


def test_dst_gap_and_fold_are_well_defined_in_a_resolved_zone() -> None:
    zone, _ = resolve(phone="+1 212 555 0100")
    assert zone == "America/New_York"
    tz = ZoneInfo(zone)
    # 2025-03-09 02:30 does not exist in New York, 2025-11-02 01:30 happens twice.
    assert datetime(2025, 3, 9, 1, 59, tzinfo=tz).utcoffset() == timedelta(hours=-5)
    assert datetime(2025, 3, 9, 3, 0, tzinfo=tz).utcoffset() == timedelta(hours=-4)
    assert datetime(2025, 11, 2, 1, 30, fold=0, tzinfo=tz).utcoffset() == timedelta(hours=-4)
    assert datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=tz).utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Kyiv", "America/Argentina/Buenos_Aires", "Asia/Kolkata", "Etc/GMT+5"]
)
def test_valid_zone_names(name: str) -> None:
    assert is_valid_timezone(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        " UTC",
        "Mars/Olympus",
        "Europe/Nowhere",
        "../etc/passwd",
        "/etc/localtime",
        "Europe/../UTC",
        "EST5EDT\x00",
        "utc/",
    ],
)
def test_invalid_zone_names(name: str) -> None:
    assert not is_valid_timezone(name)

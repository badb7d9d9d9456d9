"""The customer's time zone, from the strongest evidence a ticket carries.

Order of evidence, strongest first (``timezone_source``):

1. ``customer``: an explicit, valid IANA zone on the customer;
2. ``locale``: the region of the customer's locale (``pt-BR`` -> Brazil);
3. ``country``: the customer's ISO 3166-1 country;
4. ``phone``: the phone number's country code and, where the numbering plan
   tells, its area code (``phonenumbers`` geographic data: +1 415 -> Los Angeles);
5. ``language``: the country where most speakers of the ticket's language live
   (a weak last resort, only for languages with such a centre);
6. ``none``: no evidence.

A country with several zones maps to the zone where most of its people live
(Brazil -> Sao Paulo, not Noronha), from the table below, else to the first
zone ``pytz`` lists (``zone.tab`` order).
"""

from __future__ import annotations

import functools
import zoneinfo

import langcodes
import phonenumbers
import pytz
from phonenumbers import timezone as phone_timezone

from classifiers.types import ClassifierInput

# Most populous zone of countries spanning several zones.
MAIN_ZONE: dict[str, str] = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "KZ": "Asia/Almaty",
    "CN": "Asia/Shanghai",
    "MN": "Asia/Ulaanbaatar",
    "ID": "Asia/Jakarta",
    "MY": "Asia/Kuala_Lumpur",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "DE": "Europe/Berlin",
    "CD": "Africa/Kinshasa",
    "GL": "America/Nuuk",
    "PF": "Pacific/Tahiti",
    "KI": "Pacific/Tarawa",
    "FM": "Pacific/Pohnpei",
}

# Country with the most native speakers of a language, for languages that
# have a clear centre. English, Spanish, Arabic and the like are also centred
# on one country here (the largest), which is why this is the weakest evidence.
LANGUAGE_COUNTRY: dict[str, str] = {
    "en": "US",
    "es": "MX",
    "pt": "BR",
    "fr": "FR",
    "de": "DE",
    "it": "IT",
    "nl": "NL",
    "pl": "PL",
    "ru": "RU",
    "uk": "UA",
    "tr": "TR",
    "ar": "EG",
    "hi": "IN",
    "bn": "BD",
    "zh": "CN",
    "ja": "JP",
    "ko": "KR",
    "vi": "VN",
    "id": "ID",
    "ms": "MY",
    "tl": "PH",
    "th": "TH",
    "fa": "IR",
    "ur": "PK",
    "ta": "IN",
    "he": "IL",
    "el": "GR",
    "cs": "CZ",
    "sk": "SK",
    "hu": "HU",
    "ro": "RO",
    "bg": "BG",
    "hr": "HR",
    "sl": "SI",
    "sv": "SE",
    "da": "DK",
    "nb": "NO",
    "fi": "FI",
    "is": "IS",
    "lt": "LT",
    "lv": "LV",
    "et": "EE",
    "mk": "MK",
    "ca": "ES",
    "sr": "RS",
    "bs": "BA",
    "sq": "AL",
    "ka": "GE",
    "hy": "AM",
}


@functools.cache
def is_valid_timezone(name: str) -> bool:
    """True if ``name`` is an IANA zone this machine's ``zoneinfo`` can load."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@functools.cache
def country_timezone(country: str) -> str | None:
    """The zone where most people of an ISO 3166-1 alpha-2 country live, if known."""
    code = country.strip().upper()
    if len(code) != 2 or not code.isalpha():
        return None
    zone = MAIN_ZONE.get(code)
    if zone is None:
        zones = pytz.country_timezones.get(code)
        zone = zones[0] if zones else None
    return zone if zone is not None and is_valid_timezone(zone) else None


@functools.cache
def locale_country(locale: str) -> str | None:
    """The region of a locale tag (``pt-BR``, ``en_US.UTF-8``, ``zh-Hant-TW``), if any."""
    tag = locale.split(".")[0].split("@")[0].replace("_", "-").strip()
    if not tag:
        return None
    try:
        territory = langcodes.Language.get(tag).territory
    except (ValueError, LookupError):
        return None
    return territory if territory and len(territory) == 2 else None


@functools.cache
def phone_timezone_of(phone: str, region: str | None) -> str | None:
    """The zone of a phone number; ``region`` helps parse numbers without ``+``."""
    try:
        number = phonenumbers.parse(phone, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    zones = [z for z in phone_timezone.time_zones_for_number(number) if is_valid_timezone(z)]
    if len(zones) == 1:
        return zones[0]
    # Several zones (no area-code detail): the country's main zone.
    country = phonenumbers.region_code_for_number(number)
    return country_timezone(country) if country else None


def resolve_timezone(item: ClassifierInput, language: str | None = None) -> tuple[str | None, str]:
    """The customer's zone and which evidence gave it (see the module docstring)."""
    if item.timezone and is_valid_timezone(item.timezone):
        return item.timezone, "customer"
    region = locale_country(item.locale) if item.locale else None
    if region:
        zone = country_timezone(region)
        if zone:
            return zone, "locale"
    if item.country:
        zone = country_timezone(item.country)
        if zone:
            return zone, "country"
    if item.phone:
        zone = phone_timezone_of(item.phone, item.country or region)
        if zone:
            return zone, "phone"
    if language and language in LANGUAGE_COUNTRY:
        zone = country_timezone(LANGUAGE_COUNTRY[language])
        if zone:
            return zone, "language"
    return None, "none"

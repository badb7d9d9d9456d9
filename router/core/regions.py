"""Customer regions for data residency: how a ticket's region is derived.

A ticket's region is ``customer.region`` when the platform sends one; otherwise it
comes from ``customer.country`` through a country -> region table. The built-in table
names the regimes that restrict where support data may be processed:

* ``EU``: the European Economic Area (the 27 EU members plus Iceland, Liechtenstein and
  Norway), because the GDPR applies to all of them alike;
* ``UK``: Great Britain and Northern Ireland (``GB``), under the UK GDPR since 2021.

Any other known country is ``ROW`` (rest of the world); a ticket without country or
region is ``UNKNOWN``, which only pools open to every region (``*``) or that list
``UNKNOWN`` may receive, because such a customer may well be in a restricted region.
A config may replace the table (``residency.regions``), e.g. to add ``BR`` for LGPD.
"""

from __future__ import annotations

from collections.abc import Mapping

from router.core.domain import Customer

ANY_REGION = "*"
REST_OF_WORLD = "ROW"
UNKNOWN_REGION = "UNKNOWN"

EEA_COUNTRIES: tuple[str, ...] = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    "IS", "LI", "NO",
)  # fmt: skip

DEFAULT_REGIONS: Mapping[str, tuple[str, ...]] = {
    "EU": EEA_COUNTRIES,
    "UK": ("GB",),
}


def country_table(regions: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Invert a region -> countries table into country -> region."""
    return {country: region for region, countries in regions.items() for country in countries}


def customer_region(customer: Customer, table: Mapping[str, str]) -> str:
    """The residency region of a customer (see the module docstring)."""
    if customer.region:
        return customer.region.strip().upper() or UNKNOWN_REGION
    if customer.country:
        return table.get(customer.country.strip().upper(), REST_OF_WORLD)
    return UNKNOWN_REGION

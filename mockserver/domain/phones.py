"""Phone numbers: normalization to E.164 with `phonenumbers`, and the digit
forms that phone search matches against."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from .._exceptions import InvalidPhone

__all__ = ["is_phone_region", "normalize_phone", "phone_search_digits"]


def is_phone_region(code: str) -> bool:
    """A region with a phone numbering plan (MK, XK, AL, ...)."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS


@lru_cache(maxsize=4096)
def normalize_phone(raw: str, region: str | None) -> tuple[str, str | None]:
    """`raw` as (E.164, region). A number without a country code needs `region`.

    `00` international prefixes are read as `+` whatever the region, since
    that is what a person pasting "00355..." means. Kept for numbers sent
    again (parsing is a large share of a write: bench/README.md); a refused
    number raises every time.

    Decided: a valid number of no country (a non-geographic code: +800
    freephone, +882/+883 international networks, ...) has region None, so
    `phone_country` is stored null. phonenumbers calls its region "001",
    which is no two-letter region (the spec's `Patient.phone_country` is
    `^[A-Z]{2}$`); refusing the number instead would turn away a number
    libphonenumber holds valid.
    """
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    international = text.startswith("+")
    if not international and not region:
        raise InvalidPhone("no_country")
    try:
        number = phonenumbers.parse(text, None if international or region is None else region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidPhone() from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    found = phonenumbers.region_code_for_number(number)
    if found == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return e164, None
    return e164, found or (region.upper() if region else None)


def phone_search_digits(e164: str | None) -> str:
    """The digits phone search looks in: the E.164 digits and the national form
    (trunk prefix + national number), e.g. "355691234567 0691234567". The
    national form comes from the number's own country code, never from the
    stored `phone_country` (a hint, kept as sent under some decisions)."""
    if not e164:
        return ""
    digits = e164.lstrip("+")
    country_code, trunk = _prefixes(digits[:3])
    national = trunk + digits[len(country_code) :] if country_code else ""
    return f"{digits} {national}" if national and national != digits else digits


@lru_cache(maxsize=1024)
def _prefixes(head: str) -> tuple[str, str]:
    """(country calling code, national trunk prefix) of the numbers whose
    digits start with `head`, from phonenumbers' metadata. Calling codes are
    prefix-free, so the first (shortest) known one is the number's."""
    for size in range(1, len(head) + 1):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(head[:size]))
        if regions:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
            # A non-geographic code (+800, ...) has no national form.
            return (head[:size], metadata.national_prefix or "") if metadata else ("", "")
    return "", ""

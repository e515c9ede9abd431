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
def normalize_phone(raw: str, region: str | None) -> tuple[str, str]:
    """`raw` as (E.164, region). A number without a country code needs `region`.

    `00` international prefixes are read as `+` whatever the region, since
    that is what a person pasting "00355..." means. Kept for numbers sent
    again (phonenumbers takes ~60 us a number, a third of a write); a refused
    number raises every time.
    """
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and not region:
        raise InvalidPhone("no_country")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") or region is None else region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidPhone() from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(number) or (region or "").upper()


def phone_search_digits(e164: str | None, region: str | None) -> str:
    """The digits phone search looks in: the E.164 digits and the national form
    (trunk prefix + national number), e.g. "355691234567 0691234567"."""
    if not e164:
        return ""
    digits = e164.lstrip("+")
    national = _national_form(digits, region) if region else ""
    return f"{digits} {national}" if national else digits


def _national_form(digits: str, region: str) -> str:
    country_code, trunk = _region_prefixes(region.upper())
    if country_code and digits.startswith(country_code):
        return trunk + digits[len(country_code):]
    return ""


@lru_cache(maxsize=512)
def _region_prefixes(region: str) -> tuple[str, str]:
    """(country calling code, national trunk prefix) of a region, from phonenumbers' metadata."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return "", ""
    return str(metadata.country_code), metadata.national_prefix or ""

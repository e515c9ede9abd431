"""Realistic generated patients for the mock: clinics in Tirana, Prishtina and Skopje.

Why hand-written: the data has to look like these clinics' patients (Albanian
names with ë and ç, Macedonian names partly stored in Cyrillic, valid local
mobile numbers, EMBG with its checksum) so that search, phone and filter
behaviour is exercised on what real clients send, and it must be fast and
reproducible: `--generate 1000000 --seed N` gives byte-identical records on
every machine. One `random.Random(seed)` drives everything; nothing reads the
clock, and phonenumbers is not called (the number ranges below are the ones
phonenumbers accepts; the tests check that).
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from operator import mul
from random import Random
from typing import Any

from ..domain.text import to_latin

__all__ = [
    "EMPTY_ISSUES",
    "EMPTY_PREFERENCES",
    "GENERATED_SINCE",
    "GENERATED_UNTIL",
    "ROW_FIELDS",
    "embg_check_digit",
    "generate_patients",
    "generate_rows",
]

#: Default window of generated `created_at`: after the fixtures (which end in
#: June 2026) and before today, so that ids stay in creation order when the
#: mock later creates patients "now".
GENERATED_SINCE = "2026-07-01T00:00:00Z"
GENERATED_UNTIL = "2026-11-01T00:00:00Z"

# -- Names --------------------------------------------------------------------------------
# Origins: "al" Albania, "xk" Kosovo, "mk_al" Albanians of North Macedonia,
# "mk" ethnic Macedonians (names kept in Cyrillic, romanized when stored in Latin).

_FIRST: dict[str, tuple[str, str]] = {
    "al": (
        "Arben Ardit Arjan Artan Besnik Bledar Dritan Elton Endri Erion Ervin Fatmir Florian "
        "Gentian Gëzim Ilir Jetmir Klajdi Klodian Kristi Ledio Luan Marsel Olsi Saimir Shpëtim "
        "Sokol Taulant Xhuljan Ylli Agron Edmond Fatos Altin Andi Aldo Armando Enea Erald Mikel",
        "Alba Anila Arta Blerina Brunilda Dëshira Dorina Elira Elona Enkeleda Entela Ermira Fjona "
        "Flutura Gentiana Jonida Klea Kejsi Lindita Lorena Megi Mirela Ornela Rudina Sara Teuta "
        "Valbona Xhensila Ana Maria Eriona Irena Manjola Erjona Drita Mimoza Silvana Jola Anxhela",
    ),
    "xk": (
        "Agon Agron Arbër Ardian Arianit Besart Besnik Blerim Driton Enis Fatos Fitim Florent "
        "Gazmend Granit Jeton Kushtrim Labinot Leotrim Liridon Mentor Shpend Valon Visar Ylber "
        "Avni Bekim Burim Dardan Edon Egzon Ermal Fisnik Lirim Përparim Qëndrim Rinor Butrint",
        "Albulena Arbnora Ardita Blerta Dafina Donjeta Drita Era Fatjona Fjolla Gresa Hana Jehona "
        "Lirije Lumnije Mimoza Njomza Qëndresa Rrezarta Shpresa Shqipe Teuta Valbona Vjosa Vlora "
        "Zana Arta Besa Diellza Erëblina Lule Blerina Edona Leonora Albana",
    ),
    "mk_al": (
        "Arben Besim Bujar Fatmir Nexhat Ramadan Xhemal Agim Afrim Ylber Artan Blerim Ilir Kujtim "
        "Mevlan Sami Muhamed Izet Nexhmedin Sefer Xhevdet Shaban Refik Qenan Arbnor Adnan Driton "
        "Valmir Bekim Fadil",
        "Albana Drita Fatime Lindita Merita Mimoza Xhevrije Besa Shpresa Teuta Fjolla Arlinda "
        "Nazife Shqipe Mirjeta Vlora Besarta Sara Elmedina Rita Ajshe Valmira Hatixhe Qëndresa",
    ),
    "mk": (
        "Александар Горан Дејан Зоран Игор Никола Стефан Филип Марко Дарко Влатко Благоја Трајче "
        "Ѓорѓи Кирил Љупчо Миле Тони Бојан Владимир Петар Христијан Јован Димитар Огнен Борис "
        "Васил Томе Живко Ѓоко Иван Костадин Ненад Сашко Чедомир Ацо Гоце",
        "Марија Елена Ана Ивана Биљана Снежана Гордана Јасмина Катерина Маја Сања Симона Тања Весна "
        "Жаклина Чеденка Александра Теодора Мила Елисавета Драгана Кристина Наташа Верче Љубица "
        "Јована Ирена Мирјана Ѓурѓица Фросина Благица Славица Даниела Искра Зорица",
    ),
}

_LAST: dict[str, str] = {
    "al": "Hoxha Shehu Çela Leka Dervishi Hysa Koçi Muça Gjoka Prifti Basha Rama Berisha Meta "
    "Duka Mema Kola Kapllani Bregu Tafa Laçi Xhafa Zeneli Hasani Qosja Dushku Marku Ndreu "
    "Topalli Veliu Sula Mëhilli Gjika Deda Lleshi Çaushi Kuçi Brahimi Dema Hoxhaj Gjergji "
    "Kastrati Mullaj Xhelili Zhupa Qorri Shkëmbi Bushati Frashëri Sinani",
    "xk": "Krasniqi Gashi Berisha Morina Hoxha Shala Kelmendi Bytyqi Rexhepi Hyseni Thaçi Zeqiri "
    "Ahmeti Kastrati Haliti Rama Musliu Sylejmani Osmani Mustafa Hajdari Syla Tahiri Qerimi "
    "Dobruna Bajrami Jashari Limani Mehmeti Gjinovci Hasani Kryeziu Maloku Salihu Elezi "
    "Zymberi Llapashtica Begolli Rugova Çitaku Dreshaj Sadriu",
    "mk_al": "Xhaferi Ademi Aliu Ismaili Selmani Memeti Sulejmani Jusufi Rexhepi Bexheti Zeqiri "
    "Iseni Osmani Musliu Asani Imeri Ibraimi Zendeli Idrizi Ramadani Halili Veliu Fazliu "
    "Mustafa Shaqiri Emini Dauti Bajrami Sadiku Qazimi Ahmeti Hoxha Shabani Fetai Ziberi",
    "mk": "Стојановски Трајковски Петровски Николовски Јовановски Ристовски Димитров Георгиев "
    "Ѓорѓиев Трајков Илиевски Стефановски Ангеловски Наумовски Ефтимов Костадинов Спасовски "
    "Митревски Велјановски Тодоровски Блажевски Бошковски Пејчиновски Зафировски Поповски "
    "Андоновски Јанкуловски Ивановски Крстевски Атанасов Кочовски Манчевски Чаловски Шопов "
    "Џамбазов Жежовски Ѓоргиевски Ќосевски Цветковски Најдовски Здравковски Јакимовски "
    "Мицевски Чулев Шуплевски",
}


def _feminine(surname: str) -> str:
    """Macedonian surnames agree with gender: -ски/-ска, -ов/-ова, -ев/-ева."""
    if surname.endswith("ски"):
        return surname[:-1] + "а"
    if surname.endswith(("ов", "ев", "ин")):
        return surname + "а"
    return surname


def _ascii(name: str) -> str:
    """A name as an email's local part would spell it."""
    return to_latin(name, "en").lower().replace("ë", "e").replace("ç", "c").replace(" ", "")


class _Names:
    """One origin's name lists, precomputed per sex and script so that a record costs lookups."""

    def __init__(self, origin: str) -> None:
        male, female = (tuple(part.split()) for part in _FIRST[origin])
        last_m = tuple(_LAST[origin].split())
        last_f = tuple(_feminine(s) for s in last_m) if origin == "mk" else last_m
        # (stored first names, stored last names) for "m"/"f", in the original script...
        self.native = {"m": (male, last_m), "f": (female, last_f)}
        # ...and in Latin (the same for the Albanian origins).
        self.latin = {
            sex: (tuple(to_latin(n, "en") for n in first), tuple(to_latin(n, "en") for n in last))
            for sex, (first, last) in self.native.items()
        }
        self.ascii = {
            sex: (tuple(_ascii(n) for n in first), tuple(_ascii(n) for n in last))
            for sex, (first, last) in self.native.items()
        }


_ORIGINS = ("al", "xk", "mk_al", "mk")
_NAMES: dict[str, _Names] = {}  # filled on first use: importing the module stays cheap

# Who comes to a clinic in each country: origin -> weight.
_ORIGIN_MIX: dict[str | None, dict[str, float]] = {
    "AL": {"al": 92, "xk": 5, "mk_al": 2, "mk": 1},
    "XK": {"xk": 88, "al": 6, "mk_al": 5, "mk": 1},
    "MK": {"mk": 62, "mk_al": 33, "xk": 3, "al": 2},
    None: {"al": 33, "xk": 33, "mk": 21, "mk_al": 13},
}
_HOME = {"al": "AL", "xk": "XK", "mk_al": "MK", "mk": "MK"}
_CYRILLIC_SHARE = 0.30  # of ethnic Macedonian names, stored as written in Cyrillic

# -- Contact details ----------------------------------------------------------------------

_CALLING_CODE = {"AL": "355", "XK": "383", "MK": "389"}
# Mobile prefixes (national significant number) and how many digits follow;
# all inside phonenumbers' mobile patterns for the region.
_MOBILE: dict[str, tuple[tuple[str, int], ...]] = {
    "AL": (("69", 7), ("69", 7), ("69", 7), ("68", 7), ("67", 7)),
    "XK": (("44", 6), ("44", 6), ("49", 6), ("45", 6), ("43", 6), ("48", 6), ("46", 6)),
    "MK": (("70", 6), ("71", 6), ("72", 6), ("75", 6), ("76", 6), ("77", 6), ("78", 6)),
}

_DOMAINS: dict[str, tuple[tuple[str, float], ...]] = {
    "AL": (("gmail.com", 48), ("yahoo.com", 14), ("hotmail.com", 14), ("outlook.com", 10),
           ("abissnet.al", 8), ("albmail.com", 6)),
    "XK": (("gmail.com", 50), ("hotmail.com", 16), ("yahoo.com", 10), ("outlook.com", 10),
           ("ipko.net", 8), ("kujtesa.net", 6)),
    "MK": (("gmail.com", 46), ("yahoo.com", 14), ("hotmail.com", 14), ("outlook.com", 10),
           ("t-home.mk", 10), ("live.com", 6)),
}  # fmt: skip

_LOCALES: dict[str, tuple[tuple[str | None, float], ...]] = {
    "al": (("sq", 70), ("en", 8), (None, 22)),
    "xk": (("sq", 72), ("en", 8), (None, 20)),
    "mk_al": (("sq", 55), ("mk", 15), ("en", 5), (None, 25)),
    "mk": (("mk", 66), ("en", 9), (None, 25)),
}

_BLOOD = (("O+", 35), ("A+", 32), ("B+", 13), ("AB+", 5), ("O-", 6), ("A-", 6), ("B-", 2),
          ("AB-", 1))  # fmt: skip
_ALLERGIES = ("Penicillin", "Latex", "Lidocaine", "Amoxicillin", "Ibuprofen", "Aspirin",
              "Chlorhexidine", "Nickel", "Penicillin, latex", "Articaine", "Codeine")  # fmt: skip
_CONDITIONS = ("Asthma", "Type 2 diabetes", "Hypertension", "Pregnant (2nd trimester)",
               "Hepatitis B", "On warfarin", "Heart valve replacement", "Epilepsy",
               "Osteoporosis, on bisphosphonates", "Hypothyroidism", "Type 1 diabetes")  # fmt: skip
_RELATIONSHIPS = ("spouse", "mother", "father", "sister", "brother", "daughter", "son", "partner")
_INSURERS: dict[str, tuple[str, ...]] = {
    "AL": ("Sigal Uniqa", "Albsig", "Eurosig", "Intersig", "Sigma Interalbanian"),
    "XK": ("Sigal Uniqa Kosova", "Illyria", "Elsig", "Kosova e Re", "Prisig", "Dardania"),
    "MK": ("Triglav Osiguruvanje", "Eurolink", "Sava Osiguruvanje", "Uniqa", "Halk Osiguruvanje"),
}
_VIP_NOTES = ("Prefers morning appointments", "Family of clinic staff", "Corporate dental plan",
              "Long-standing patient, ask for Dr. preference", "Needs a quiet waiting room",
              "Book double slots for implant follow-ups")  # fmt: skip
_MEDICAL_ISSUES = ("bruxism", "gingivitis", "periodontitis", "dental anxiety", "sensitive teeth",
                   "tmj disorder", "dry mouth", "orthodontic treatment", "implant", "caries risk")  # fmt: skip
_CHANNELS = ("sms", "sms", "email", "phone", "viber", "whatsapp")
_REMINDER_HOURS = ("24", "24", "48", "2", "72")

_AL_DECADE = "ABCDEFGHIJKLMNOPQRSTUVW"  # Albanian NID: first letter is the decade from 1900
_AL_CHECK = "ABCDEFGHIJKLMNOPQRSTUVW"
_EMBG_WEIGHTS = (7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_MK_REGIONS = ("45", "45", "45", "41", "42", "43", "44", "46", "47", "48", "49")

_DAY_MS = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_BIRTH_FIRST = date(1936, 1, 1).toordinal()
_BIRTH_DAYS = date(2023, 12, 31).toordinal() - _BIRTH_FIRST


def embg_check_digit(first12: str) -> int | None:
    """The EMBG control digit of its first 12 digits, or None when none exists
    (a remainder of 1 gives 10, a number that is never issued)."""
    if len(first12) != len(_EMBG_WEIGHTS):
        raise ValueError(f"an EMBG's first 12 digits, not {first12!r}")
    total = sum(map(mul, _EMBG_WEIGHTS, map(int, first12)))
    k = 11 - total % 11
    if k == 10:
        return None
    return 0 if k == 11 else k


def _mobile(rnd: Callable[[], float], region: str) -> str:
    """A mobile number's national significant digits (no trunk 0)."""
    prefixes = _MOBILE[region]
    prefix, digits = prefixes[int(rnd() * len(prefixes))]
    if region == "AL" and prefix != "69":  # 67x / 68x: x is 2-9
        return f"{prefix}{2 + int(rnd() * 8)}{int(rnd() * 10**6):06d}"
    return f"{prefix}{int(rnd() * 10**digits):0{digits}d}"


def _parse_utc(text: str) -> int:
    """Epoch milliseconds of an ISO 8601 UTC timestamp."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _weighted(pairs: Sequence[tuple[Any, float]]) -> tuple[tuple[Any, ...], tuple[float, ...], float]:
    values = tuple(v for v, _ in pairs)
    cumulative: list[float] = []
    total = 0.0
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    return values, tuple(cumulative), total


#: The fields of a generated row (`generate_rows`), in the order of a stored
#: record's keys; `created_at` and `updated_at` as epoch milliseconds.
ROW_FIELDS: tuple[str, ...] = (
    "id", "account_id", "first_name", "last_name", "email", "phone", "phone_e164",
    "phone_country", "birthdate", "gender", "personal_no", "external_id", "legacy_id",
    "preferred_doctor_id", "locale", "is_active", "created_at", "updated_at", "allergies",
    "medical_conditions", "blood_type", "emergency_contact_name", "emergency_contact_relationship",
    "emergency_contact_phone", "insurance_provider", "insurance_id", "vip", "vip_start_date",
    "vip_expiration_date", "vip_notes", "preferences", "medical_issues",
)  # fmt: skip
_CREATED, _UPDATED = ROW_FIELDS.index("created_at"), ROW_FIELDS.index("updated_at")
_PREFERENCES_AT, _ISSUES_AT = ROW_FIELDS.index("preferences"), ROW_FIELDS.index("medical_issues")
#: The empty containers of every row that has none: one each, shared (rows are
#: read, never changed in place; `generate_patients` gives each record its own).
EMPTY_PREFERENCES: dict[str, str] = {}
EMPTY_ISSUES: list[str] = []
# The expansion fields of a patient who has none (three in four).
_NOT_EXPANDED = (None, None, None, None, None, None, None, None, False, None, None, None,
                 EMPTY_PREFERENCES, EMPTY_ISSUES)  # fmt: skip


def generate_patients(
    n: int,
    *,
    seed: int,
    account_id: int,
    start_id: int,
    country: str | None = None,
    since: str = GENERATED_SINCE,
    until: str = GENERATED_UNTIL,
    updated_until: str | None = None,
) -> Iterator[dict[str, Any]]:
    """`n` stored patient records with ids `start_id`, `start_id + 1`, ...

    `country` (AL, XK, MK) is the clinic's: it sets the mix of names, phones and
    national ids; None mixes all three. `created_at` rises with the id across
    [since, until); `updated_at` is never earlier, and never after
    `updated_until` (default `until`). The same arguments give the same
    records, byte for byte.
    """
    rows = generate_rows(
        n,
        seed=seed,
        account_id=account_id,
        start_id=start_id,
        country=country,
        since=since,
        until=until,
        updated_until=updated_until,
    )
    stamps: dict[int, str] = {}  # the window spans few days: format each date once

    def stamp(epoch_ms: int) -> str:
        days, rest = divmod(epoch_ms, _DAY_MS)
        day = stamps.get(days)
        if day is None:
            day = stamps[days] = date.fromordinal(_EPOCH_ORDINAL + days).isoformat()
        seconds, millis = divmod(rest, 1000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{day}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"

    for row in rows:
        record = dict(zip(ROW_FIELDS, row, strict=True))
        created, updated = row[_CREATED], row[_UPDATED]
        record["created_at"] = created_at = stamp(created)
        record["updated_at"] = created_at if updated == created else stamp(updated)
        record["preferences"] = dict(row[_PREFERENCES_AT])
        record["medical_issues"] = list(row[_ISSUES_AT])
        yield record


def generate_rows(
    n: int,
    *,
    seed: int,
    account_id: int,
    start_id: int,
    country: str | None = None,
    since: str = GENERATED_SINCE,
    until: str = GENERATED_UNTIL,
    updated_until: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The patients of `generate_patients` as tuples of `ROW_FIELDS`, ready to
    store: timestamps as epoch ms, equal values shared (names, dates, the empty
    containers), nothing formatted only to be parsed back. A store of a
    million is built from these (bench/README.md has the costs)."""
    if country not in _ORIGIN_MIX:
        raise ValueError(f"country must be AL, XK, MK or None, not {country!r}")
    if n < 0:
        raise ValueError("n must be 0 or more")
    if not _NAMES:
        _NAMES.update({origin: _Names(origin) for origin in _ORIGINS})

    rng = Random(seed)
    rnd = rng.random

    def pick(seq: Sequence[Any]) -> Any:
        return seq[int(rnd() * len(seq))]

    def weighted(table: tuple[tuple[Any, ...], tuple[float, ...], float]) -> Any:
        values, cumulative, total = table
        return values[bisect(cumulative, rnd() * total)]

    origin_values, origin_cumulative, origin_total = _weighted(list(_ORIGIN_MIX[country].items()))
    locales = {origin: _weighted(pairs) for origin, pairs in _LOCALES.items()}
    domains = {region: _weighted(pairs) for region, pairs in _DOMAINS.items()}
    blood = _weighted(_BLOOD)
    doctors = tuple(account_id * 10 + k for k in range(1, 6))

    start_ms, end_ms = _parse_utc(since), _parse_utc(until)
    edit_end_ms = _parse_utc(updated_until) if updated_until else end_ms
    step = max(1, (end_ms - start_ms) // max(n, 1))
    births: dict[int, tuple[date, str]] = {}  # ~32k birthdays among a million: one date and one string each

    def phone_number(region: str) -> tuple[str, str]:
        """(as typed, E.164) of a mobile number in `region`."""
        national = _mobile(rnd, region)
        e164 = f"+{_CALLING_CODE[region]}{national}"
        style = rnd()
        if style < 0.40:
            typed = e164
        elif style < 0.75:  # national, as printed locally: 069 123 4567 / 044 123 456
            typed = f"0{national[:2]} {national[2:5]} {national[5:]}"
        elif style < 0.90:
            typed = f"+{_CALLING_CODE[region]} {national[:2]} {national[2:5]} {national[5:]}"
        else:
            typed = "0" + national
        return typed, e164

    def personal_no(origin: str, born: date, sex: str) -> str:
        serial = int(rnd() * 1000)
        if origin == "al":
            month = born.month + (50 if sex == "f" else 0)
            body = f"{born.year % 10}{month:02d}{born.day:02d}{serial:03d}"
            letter = _AL_CHECK[int(body) % 23]  # illustrative: the real rule is unpublished
            return f"{_AL_DECADE[(born.year - 1900) // 10]}{body}{letter}"
        if origin == "xk":
            return f"{1 + int(rnd() * 9)}{int(rnd() * 10**9):09d}"
        while True:  # EMBG: DDMMYYY RR BBB K; BBB 000-499 men, 500-999 women
            number = (
                f"{born.day:02d}{born.month:02d}{born.year % 1000:03d}{pick(_MK_REGIONS)}"
                f"{(serial % 500) + (500 if sex == 'f' else 0):03d}"
            )
            digit = embg_check_digit(number)
            if digit is not None:
                return f"{number}{digit}"
            serial += 1

    # Every draw below is in the order the records have always been drawn in:
    # the same seed gives the same patients as it always has (tests pin them).
    for index in range(n):
        pid = start_id + index
        origin = origin_values[bisect(origin_cumulative, rnd() * origin_total)]
        names = _NAMES[origin]
        sex = "f" if rnd() < 0.53 else "m"
        first_names, last_names = names.native[sex]
        first_i = int(rnd() * len(first_names))
        last_i = int(rnd() * len(last_names))
        if origin == "mk" and rnd() < _CYRILLIC_SHARE:
            first_name, last_name = first_names[first_i], last_names[last_i]
        else:
            latin = names.latin[sex]
            first_name, last_name = latin[0][first_i], latin[1][last_i]
        clinic = country or _HOME[origin]

        roll = rnd()
        gender = ("female" if sex == "f" else "male") if roll < 0.96 else ("other" if roll < 0.975 else None)

        born: date | None = None
        birthdate: str | None = None
        if rnd() < 0.93:
            ordinal = _BIRTH_FIRST + int(rnd() * _BIRTH_DAYS)
            birth = births.get(ordinal)
            if birth is None:
                day = date.fromordinal(ordinal)
                birth = births[ordinal] = (day, day.isoformat())
            born, birthdate = birth

        email = None
        if rnd() < 0.86:
            ascii_names = names.ascii[sex]
            first_a, last_a = ascii_names[0][first_i], ascii_names[1][last_i]
            shape = rnd()
            if shape < 0.30:
                local = f"{first_a}.{last_a}"
            elif shape < 0.45:
                local = f"{first_a}{last_a}"
            elif shape < 0.55:
                local = f"{first_a}_{last_a}"
            elif shape < 0.65:
                local = f"{first_a[0]}{last_a}"
            elif shape < 0.80:
                local = f"{first_a}.{last_a}{born.year % 100 if born else 1 + int(rnd() * 99):02d}"
            elif shape < 0.90:
                local = f"{first_a}{last_a}{1 + int(rnd() * 999)}"
            else:
                local = f"{last_a}.{first_a}"
            email = f"{local}@{weighted(domains[clinic])}"

        phone = phone_e164 = phone_country = None
        if rnd() < 0.92:
            phone_country = clinic if rnd() < 0.9 else pick(_REGIONS)
            phone, phone_e164 = phone_number(phone_country)

        slot = start_ms + index * step
        created = slot + int(rnd() * step)
        if step >= 2000:  # whole seconds, as most stamps are
            created -= created % 1000
            if created < slot:
                created += 1000
        is_active = rnd() >= 0.10
        if is_active and rnd() < 0.55:
            updated = created
        else:  # edited (archiving is an edit) some time later, within the window
            room = edit_end_ms - created
            updated = created + 1 + int(rnd() * (room - 1) if room > 1 else 0)
            if updated - updated % 1000 > created:
                updated -= updated % 1000

        national_no = personal_no(origin, born, sex) if born and rnd() < 0.55 else None
        external_id = f"ext_{pid}" if rnd() < 0.15 else None
        legacy_id = f"LEG-{10000 + int(rnd() * 90000)}" if rnd() < 0.08 else None
        doctor = pick(doctors) if rnd() < 0.30 else None
        locale = weighted(locales[origin])
        expansion = (
            _expand(rng, pick, weighted, blood, clinic, origin, created, updated) if rnd() < 0.25 else _NOT_EXPANDED
        )
        yield (
            pid,
            account_id,
            first_name,
            last_name,
            email,
            phone,
            phone_e164,
            phone_country,
            birthdate,
            gender,
            national_no,
            external_id,
            legacy_id,
            doctor,
            locale,
            is_active,
            created,
            updated,
            *expansion,
        )


_REGIONS = ("AL", "XK", "MK")


def _expand(
    rng: Random,
    pick: Callable[[Sequence[Any]], Any],
    weighted: Callable[[Any], Any],
    blood: Any,
    clinic: str,
    origin: str,
    created_ms: int,
    updated_ms: int,
) -> tuple[Any, ...]:
    """The expansion fields (from `allergies` to `medical_issues`, in
    `ROW_FIELDS` order) a clinic fills in for about a quarter of its patients."""
    rnd = rng.random
    allergies = pick(_ALLERGIES) if rnd() < 0.45 else None
    conditions = pick(_CONDITIONS) if rnd() < 0.40 else None
    blood_type = weighted(blood) if rnd() < 0.50 else None
    contact_name = contact_relationship = contact_phone = None
    if rnd() < 0.55:
        names = _NAMES[origin]
        sex = "f" if rnd() < 0.5 else "m"
        first, last = names.latin[sex]
        contact_name = f"{pick(first)} {pick(last)}"
        contact_relationship = pick(_RELATIONSHIPS)
        national = _mobile(rnd, clinic)
        contact_phone = f"+{_CALLING_CODE[clinic]}{national}"
    insurer = insurance_id = None
    if rnd() < 0.45:
        insurer = pick(_INSURERS[clinic])
        insurance_id = f"{clinic}-{rng.randrange(2018, 2027)}-{rng.randrange(10**6):06d}"
    preferences: dict[str, str] = EMPTY_PREFERENCES
    if rnd() < 0.5:
        preferences = {
            "contact_channel": pick(_CHANNELS),
            "reminder_hours_before": pick(_REMINDER_HOURS),
        }
    issues: list[str] = EMPTY_ISSUES
    if rnd() < 0.4:
        issues = sorted(set(rng.sample(_MEDICAL_ISSUES, 1 + int(rnd() * 2.2))))
    vip, vip_start, vip_end, vip_notes = False, None, None, None
    if rnd() < 0.12:  # ~3% of all patients
        # Made VIP on a day between creation and the last edit.
        start_day = (created_ms + rng.randrange(updated_ms - created_ms + 1)) // _DAY_MS
        start = date.fromordinal(_EPOCH_ORDINAL + start_day)
        vip = True
        vip_start = start.isoformat()
        vip_end = date.fromordinal(start.toordinal() + 365).isoformat()
        vip_notes = pick(_VIP_NOTES)
    return (
        allergies,
        conditions,
        blood_type,
        contact_name,
        contact_relationship,
        contact_phone,
        insurer,
        insurance_id,
        vip,
        vip_start,
        vip_end,
        vip_notes,
        preferences,
        issues,
    )

"""Countries (ISO 3166-1 alpha-2), their UN M49 sub-regions, and languages (ISO 639-1)."""
from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale

from solidarity.errors import ValidationError

# UN M49 sub-regions (https://unstats.un.org/unsd/methodology/m49/). Neither pycountry nor Babel
# ships the containment table, and the packages that do pull in pandas, so the standard's table
# is kept here; a test checks that every ISO country has exactly one region.
_M49 = {
    "011": "BJ BF CV CI GM GH GN GW LR ML MR NE NG SH SN SL TG",
    "014": "BI KM DJ ER ET KE MG MW MU YT MZ RE RW SC SO SS UG TZ ZM ZW IO TF",
    "015": "DZ EG LY MA SD TN EH",
    "017": "AO CM CF TD CG CD GQ GA ST",
    "018": "BW SZ LS NA ZA",
    "005": "AR BO BV BR CL CO EC FK GF GY PY PE GS SR UY VE",
    "013": "BZ CR SV GT HN MX NI PA",
    "021": "BM CA GL PM US",
    "029": "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI",
    "030": "CN HK MO KP JP MN KR TW",
    "034": "AF BD BT IN IR MV NP PK LK",
    "035": "BN KH ID LA MY MM PH SG TH TL VN",
    "143": "KZ KG TJ TM UZ",
    "145": "AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE",
    "151": "BY BG CZ HU PL MD RO RU SK UA",
    "154": "AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB",
    "039": "AL AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES",
    "155": "AT BE FR DE LI LU MC NL CH",
    "053": "AU CX CC HM NZ NF",
    "054": "FJ NC PG SB VU",
    "057": "GU KI MH FM NR MP PW UM",
    "061": "AS CK PF NU PN WS TK TO TV WF",
    "010": "AQ",
}
REGION_OF: dict[str, str] = {cc: region for region, ccs in _M49.items() for cc in ccs.split()}
REGIONS: tuple[str, ...] = tuple(sorted(_M49))


@lru_cache(maxsize=None)
def region_name(code: str, locale: str = "en") -> str:
    return Locale.parse(locale).territories.get(code, code)


def country_name(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code)
    return found.name if found else code


def clean_country(value: object, field: str = "country") -> str:
    code = str(value or "").strip().upper()
    if not code:
        raise ValidationError(field, "is required")
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(field, f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def clean_region(value: object, field: str = "regions") -> str:
    code = str(value or "").strip()
    if code not in _M49:
        raise ValidationError(field, f"{value!r} is not a UN M49 sub-region code")
    return code


def clean_language(value: object, field: str = "languages") -> str:
    code = str(value or "").strip().lower()
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise ValidationError(field, f"{value!r} is not an ISO 639-1 language code")
    return code


def clean_languages(values: object, field: str = "languages", *, required: bool = True) -> list[str]:
    if isinstance(values, str):
        values = [v for v in values.replace(",", " ").split() if v]
    if not isinstance(values, (list, tuple)):
        raise ValidationError(field, "must be a list of ISO 639-1 codes")
    cleaned = list(dict.fromkeys(clean_language(v, field) for v in values))
    if required and not cleaned:
        raise ValidationError(field, "name at least one language")
    return cleaned

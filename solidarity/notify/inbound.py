"""Read an inbound SMS into one command. Pure: no database, no clock, no Flask.

People type on cheap phones under stress, so parsing forgives case, spacing, punctuation, extra
words and a few languages' yes/no. The first word decides for answers and keywords; otherwise any
threat word anywhere makes it a report (`we are being RAIDED`), `HELP <kind>` too (`HELP LEGAL`).
A word of 4 to 8 digits is the organisation's PIN (reports and answers); a message of only a
6-digit code confirms the number it comes from (members/phones.py).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

YES = {"YES", "Y", "YEP", "OUI", "SI", "SÍ", "SIM", "NDIO", "ДА", "نعم"}
NO = {"NO", "N", "NON", "NAO", "NÃO", "HAPANA", "НЕТ", "لا"}
STOP = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}  # Twilio's opt-out words
START = {"START", "UNSTOP", "OPTIN"}
HELP = {"HELP", "INFO"}
CHECKIN = {"OK", "SAFE"}

THREAT_WORDS = {
    "RAID": "raid", "RAIDED": "raid", "RAIDING": "raid",
    "ARREST": "detention", "ARRESTED": "detention", "ARRESTS": "detention", "DETENTION": "detention",
    "DETAINED": "detention", "DETAIN": "detention",
    "FREEZE": "asset_freeze", "FROZEN": "asset_freeze",
    "EXPULSION": "expulsion", "EXPELLED": "expulsion", "DEPORTED": "expulsion", "DEPORTATION": "expulsion",
    "DEREGISTRATION": "deregistration", "DEREGISTERED": "deregistration",
    "SMEAR": "media_attack", "MEDIA": "media_attack",
    "UPHEAVAL": "political_upheaval", "COUP": "political_upheaval",
}
HELP_WORDS = {
    "LEGAL": "legal", "LAWYER": "legal", "LAW": "legal",
    "COMMS": "communications", "COMMUNICATIONS": "communications", "COMMUNICATION": "communications",
    "PR": "communications",
    "DIPLOMATIC": "diplomatic", "EMBASSY": "diplomatic",
    "DIGITAL": "digital_security", "SECURITY": "digital_security", "CYBER": "digital_security",
    "FUNDS": "emergency_funds", "MONEY": "emergency_funds", "CASH": "emergency_funds",
    "EMERGENCY": "emergency_funds",
    "RELOCATION": "relocation", "RELOCATE": "relocation", "EVACUATE": "relocation", "SHELTER": "relocation",
}

_WORD = re.compile(r"[^\W_]+")
_PIN = re.compile(r"\d{4,8}")
_REF = re.compile(r"[A-Z0-9]{4,8}")
_CODE = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class Command:
    kind: str  # answer | stop | start | help | checkin | intake | code | unknown
    accept: bool | None = None
    ref: str | None = None
    threat_type: str | None = None
    needs: tuple[str, ...] = ()
    pin: str | None = None


def _words(body: str) -> list[str]:
    return [w.upper() for w in _WORD.findall(body or "")]


def _ref_after(words: list[str]) -> str | None:
    """The reference in what follows a keyword: the next word if it looks like one, else the last word
    with a digit (`YES we will help K7QFH`)."""
    if words and _REF.fullmatch(words[0]) and not _PIN.fullmatch(words[0]):
        return words[0]
    coded = [w for w in words if _REF.fullmatch(w) and any(c.isdigit() for c in w) and not _PIN.fullmatch(w)]
    return coded[-1] if coded else None


def _needs(words: Iterable[str], help_types: Iterable[str]) -> tuple[str, ...]:
    known = set(help_types)
    found = []
    for word in words:
        code = HELP_WORDS.get(word) or (word.lower() if word.lower() in known else None)
        if code in known and code not in found:
            found.append(code)
    return tuple(found)


def parse(body: str, help_types: Iterable[str]) -> Command:
    """One command from an SMS body. `help_types` are the configured codes (HELP_TYPES)."""
    words = _words(body)
    if not words:
        return Command("unknown")
    first, rest = words[0], words[1:]
    pin = next((w for w in words if _PIN.fullmatch(w)), None)
    if first in STOP and len(words) <= 2:
        return Command("stop")
    if first in START and len(words) <= 2:
        return Command("start")
    if first in YES or first in NO:
        return Command("answer", accept=first in YES, ref=_ref_after(rest), pin=pin)
    if _CODE.fullmatch("".join(words)) and all(w.isdigit() for w in words):
        return Command("code", pin="".join(words))  # "123456" or "123 456"
    if first in CHECKIN:
        return Command("checkin", ref=_ref_after(rest))
    threats = [THREAT_WORDS[w] for w in words if w in THREAT_WORDS]
    needs = _needs(words, help_types)
    if threats:
        return Command("intake", threat_type=threats[0], needs=needs, pin=pin)
    if first in HELP:
        if needs:
            return Command("intake", threat_type="other", needs=needs, pin=pin)
        return Command("help")
    return Command("unknown")

"""Inbound SMS parsing: forgiving of case, spacing, punctuation and extra words."""
from __future__ import annotations

import pytest

from solidarity.notify.inbound import Command, parse

HELP_TYPES = ["legal", "communications", "diplomatic", "digital_security", "emergency_funds", "relocation",
              "psychosocial"]


@pytest.mark.parametrize("body, expected", [
    ("YES K7QFH", Command("answer", accept=True, ref="K7QFH")),
    ("  yes   k7qfh  ", Command("answer", accept=True, ref="K7QFH")),
    ("Yes, k7qfh!", Command("answer", accept=True, ref="K7QFH")),
    ("no K7QFH thanks", Command("answer", accept=False, ref="K7QFH")),
    ("YES we can help with K7QFH", Command("answer", accept=True, ref="K7QFH")),
    ("YES", Command("answer", accept=True)),
    ("no.", Command("answer", accept=False)),
    ("Oui K7QFH", Command("answer", accept=True, ref="K7QFH")),
    ("ndio", Command("answer", accept=True)),
    ("НЕТ K7QFH", Command("answer", accept=False, ref="K7QFH")),
    ("نعم K7QFH", Command("answer", accept=True, ref="K7QFH")),
    ("STOP", Command("stop")),
    ("stop ", Command("stop")),
    ("Unsubscribe", Command("stop")),
    ("START", Command("start")),
    ("HELP", Command("help")),
    ("help me", Command("help")),
    ("info", Command("help")),
    ("OK K7QFH", Command("checkin", ref="K7QFH")),
    ("ok", Command("checkin")),
    ("RAID", Command("intake", threat_type="raid")),
    ("we are being raided now", Command("intake", threat_type="raid")),
    ("raid 4821", Command("intake", threat_type="raid", pin="4821")),
    ("4821 RAID LEGAL", Command("intake", threat_type="raid", needs=("legal",), pin="4821")),
    ("ARRESTED", Command("intake", threat_type="detention")),
    ("detention", Command("intake", threat_type="detention")),
    ("Freeze", Command("intake", threat_type="asset_freeze")),
    ("expulsion", Command("intake", threat_type="expulsion")),
    ("DEREGISTRATION", Command("intake", threat_type="deregistration")),
    ("smear", Command("intake", threat_type="media_attack")),
    ("media", Command("intake", threat_type="media_attack")),
    ("COUP", Command("intake", threat_type="political_upheaval")),
    ("upheaval, need relocation", Command("intake", threat_type="political_upheaval", needs=("relocation",))),
    ("HELP LEGAL", Command("intake", threat_type="other", needs=("legal",))),
    ("help legal comms 123456", Command("intake", threat_type="other", needs=("legal", "communications"),
                                        pin="123456")),
    ("HELP PSYCHOSOCIAL", Command("intake", threat_type="other", needs=("psychosocial",))),
    ("help raid", Command("intake", threat_type="raid")),
    ("hello", Command("unknown")),
    ("", Command("unknown")),
    ("???", Command("unknown")),
    ("K7QFH", Command("unknown")),
])
def test_parse(body, expected):
    assert parse(body, HELP_TYPES) == expected

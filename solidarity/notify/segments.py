"""How many SMS segments a text costs (3GPP TS 23.038 GSM-7 default alphabet, else UCS-2).

A text made only of GSM-7 characters fits 160 septets in one segment (extension characters such
as € or { take two); anything else makes the whole message UCS-2, with 70 UTF-16 code units in
one segment. Multi-part messages lose room to the concatenation header: 153 and 67 per part.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Measure:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int

    @property
    def single(self) -> bool:
        return self.segments == 1


def measure(text: str) -> Measure:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return Measure("GSM-7", units, _segments(units, 160, 153))
    units = len(text.encode("utf-16-le")) // 2
    return Measure("UCS-2", units, _segments(units, 70, 67))


def _segments(units: int, single: int, part: int) -> int:
    return 1 if units <= single else math.ceil(units / part)


# Typography that phones and translators produce and GSM-7 lacks, with its plain twin.
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"',
                        "\u00bb": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ",
                        "\u202f": " "})


def fold_to_gsm7(text: str) -> str:
    """Drop the accents GSM-7 lacks (á -> a, ç -> c) and keep the ones it has (é, ñ, ü)."""
    out = []
    for ch in text.translate(_PLAIN):
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        else:
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(c in GSM7_BASIC for c in base) else ch)
    return "".join(out)


def fit(text: str) -> str:
    """`text` itself when it fits one segment, else its GSM-7 folding when that does.

    Latin-script languages keep their accents whenever the UCS-2 limit allows; a longer French,
    Spanish or Portuguese text is sent the way people type SMS, without the accents that would
    double its cost. Arabic or Cyrillic text is never folded (there is nothing to fold to).
    """
    if measure(text).single:
        return text
    folded = fold_to_gsm7(text)
    return folded if measure(folded).single else text

"""What text we accept from anyone: the one rule for every field, on every path (web, API, SMS, CLI).

Two kinds of character are refused:

- everywhere (every string of every request, see `http.refuse_hostile_input`, and every text a
  service stores): NUL and the other control characters except tab and line breaks, and lone
  surrogates. No one types them; they break PostgreSQL (NUL), the encryption (a lone surrogate is
  not UTF-8) and logs and terminals (escape sequences).
- in names and other single-line texts: invisible format characters, bidirectional controls above
  all (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C), zero-width spaces and joiners and the
  byte-order mark (Unicode category Cf). They make a name read differently from what it is
  ("Trojan Source": a right-to-left override turns "Haki" + U+202E + "hctaW" into an impostor) or
  make two names look alike. Zero-width (non-)joiners are kept between two non-ASCII letters, where
  Persian, Urdu and Indic scripts need them to spell words; that is the only place they are kept.

Longer texts (incident details, notes, playbook steps) may hold direction marks: Arabic or Hebrew
paragraphs mixed with numbers legitimately use them, and pages show all user text isolated
(`<bdi>`, `dir="auto"`), so it cannot reorder what surrounds it.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from solidarity.errors import ValidationError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_JOINERS = "\u200c\u200d"
INVISIBLE_MESSAGE = "Remove the invisible formatting characters (such as direction marks or zero-width spaces)."


def is_whole(text: str) -> bool:
    """Whether int(text) gives a whole number of sane size. Not str.isdigit(): it is true of "²",
    which int() refuses, and of thousands of digits, which int() refuses past 4300."""
    return 0 < len(text) <= 18 and text.isdecimal()


def hostile(text: str) -> str | None:
    """Why `text` cannot be stored anywhere, or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    if "\ud800" <= found.group() <= "\udfff":
        return "holds a broken character (a lone UTF-16 surrogate); send valid Unicode text"
    return f"holds a control character (U+{ord(found.group()):04X}); remove it"


def _joined_letters(text: str, i: int) -> bool:
    before, after = text[i - 1:i], text[i + 1:i + 2]
    return all(ch and not ch.isascii() and unicodedata.category(ch)[0] in "LM" for ch in (before, after))


def invisible(text: str) -> bool:
    """Whether `text` holds a format character a name or single line must not hold."""
    return any(unicodedata.category(ch) == "Cf" and not (ch in _JOINERS and _joined_letters(text, i))
               for i, ch in enumerate(text))


def check(text: str, field: str, *, line: bool) -> str:
    """`text` itself, or a ValidationError naming `field`."""
    problem = hostile(text)
    if problem:
        raise ValidationError(field, problem)
    if line and invisible(text):
        raise ValidationError(field, INVISIBLE_MESSAGE)
    return text


def clean_text(value: Any, field: str, limit: int, *, line: bool = False, required: bool = False) -> str | None:
    """Optional free text: None or stripped text of at most `limit` characters, checked as above.
    `line` for a single line (a title, a summary), which also refuses invisible format characters."""
    if value is None and not required:
        return None
    if value is not None and not isinstance(value, str):
        raise ValidationError(field, "must be text")
    text = check((value or "").strip(), field, line=line)
    if required and not text:
        raise ValidationError(field, "is required")
    if len(text) > limit:
        raise ValidationError(field, f"use at most {limit} characters (now {len(text)})")
    return text or None


def clean_name(value: Any, field: str = "name", limit: int = 200) -> str:
    """A person's or an organisation's name: required, on one line, spaces collapsed."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(field, "must be text")
    text = check(" ".join((value or "").split()), field, line=True)
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > limit:
        raise ValidationError(field, f"use at most {limit} characters")
    return text

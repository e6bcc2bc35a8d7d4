"""What someone holding a copy of the database sees: file bytes on SQLite, a pg_dump on PostgreSQL.

Used by the tests that prove plaintext never reaches storage. A needle is searched as written, as
hex (how PostgreSQL prints bytea) and as base64 at every byte alignment (how a careless layer
might "hide" it), so wrapping a plaintext in an encoding does not pass for encryption.
"""
from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from sqlalchemy.engine import Engine


def raw_dump(engine: Engine) -> bytes:
    """Everything stored, as bytes. On SQLite the main file and its write-ahead log, free pages included."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        parts = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
        # Read in another process: closing a descriptor of the database file in this one would drop
        # the POSIX locks SQLite holds on it, and a later close would then delete the live WAL.
        return subprocess.run(["cat", *map(str, filter(Path.exists, parts))],
                              check=True, capture_output=True).stdout
    # pg_dump in another process, as someone copying the database would: every table, bytea as hex.
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--data-only", "--no-owner", f"--dbname={url}"],
                          check=True, capture_output=True).stdout


def encodings(needle: str) -> list[bytes]:
    """The needle plain, as hex, and as standard and URL-safe base64 at each of the three alignments."""
    raw = needle.encode()
    found = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).rstrip(b"=")
        # Drop the characters that mix in the padding bytes before and after the needle.
        core = encoded[(0, 2, 3)[shift]: len(encoded) - 2]
        found += [core, core.replace(b"+", b"-").replace(b"/", b"_")]
    return found


def leaks(dump: bytes, needles: list[str]) -> list[str]:
    """The needles (by their plain form) found in the dump in any encoding."""
    return [n for n in needles if any(form in dump for form in encodings(n))]

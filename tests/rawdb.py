"""What someone holding a copy of the database sees: file bytes on SQLite, every column as text on PostgreSQL.

Used by the tests that prove plaintext never reaches storage. A needle is searched as written, as
hex (how PostgreSQL prints bytea) and as base64 at every byte alignment (how a careless layer
might "hide" it), so wrapping a plaintext in an encoding does not pass for encryption.
"""
from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
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
    chunks: list[bytes] = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for column in inspect(conn).get_columns(table):
                name = column["name"]
                rows = conn.execute(text(f'SELECT CAST("{name}" AS TEXT), "{name}" FROM "{table}"'))
                for as_text, value in rows:
                    if as_text is not None:
                        chunks.append(as_text.encode())
                    if isinstance(value, (bytes, memoryview)):  # bytea prints as hex; look at the bytes too
                        chunks.append(bytes(value))
    return b"\n".join(chunks)


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

"""Envelope encryption and keyed blind indexes. Imports nothing of ours and nothing of Flask.

Master keys (from configuration, never the database) wrap per-record data keys; data keys encrypt
values with AES-256-GCM. Every ciphertext names its data key in an authenticated header and is
bound through associated data to the table, column and row it was written for, so a flipped byte
or a value copied onto another row fails authentication instead of decrypting.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VALUE_FORMAT = b"\x01"  # bump when the layout below changes; old rows keep decrypting by version
_NONCE = 12
_KEY = 32


class KeyConfigError(Exception):
    """Raised for malformed key material or configuration."""


class IntegrityError(Exception):
    """A ciphertext or wrapped key failed authentication, or its data key was destroyed."""


@dataclass(frozen=True)
class WrappedKey:
    master_kid: str
    wrapped: bytes


def generate_master_key() -> str:
    """A new master key in the `kid:base64` form that SOLIDARITY_ENCRYPTION_KEYS takes."""
    kid = "k" + datetime.now(timezone.utc).strftime("%Y%m%d") + secrets.token_hex(3)
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(_KEY)).decode()}"


def generate_secret() -> str:
    return base64.urlsafe_b64encode(os.urandom(_KEY)).decode()


def parse_master_keys(spec: str) -> dict[str, bytes]:
    """Parse `kid1:key1,kid2:key2` (newest first). Order matters: the first key wraps."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kid, sep, b64 = item.partition(":")
        if not sep or not kid:
            raise KeyConfigError("each encryption key must look like 'kid:base64key'")
        key = decode_key(b64)
        if kid in keys:
            raise KeyConfigError(f"encryption key id {kid!r} appears twice")
        keys[kid] = key
    if not keys:
        raise KeyConfigError("no encryption key given")
    return keys


def decode_key(b64: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigError("key is not valid base64") from exc
    if len(key) != _KEY:
        raise KeyConfigError(f"key must be {_KEY} bytes, got {len(key)}")
    return key


class Keyring:
    """Master keys for wrapping data keys, plus the separate key for blind indexes and MACs."""

    def __init__(self, master_keys: dict[str, bytes], index_key: bytes):
        if not master_keys:
            raise KeyConfigError("a keyring needs at least one master key")
        self._masters = dict(master_keys)
        self.primary_kid = next(iter(master_keys))
        self._index_key = index_key
        # Unwrapping is cheap but runs on every decrypted field; cache by wrapped bytes so a
        # re-wrapped or destroyed key never hits a stale entry.
        self._unwrap = lru_cache(maxsize=4096)(self._unwrap_uncached)

    # -- data keys ---------------------------------------------------------------------------
    def new_data_key(self, key_id: uuid.UUID) -> WrappedKey:
        return self.wrap(key_id, AESGCM.generate_key(bit_length=256))

    def wrap(self, key_id: uuid.UUID, data_key: bytes) -> WrappedKey:
        nonce = os.urandom(_NONCE)
        master = AESGCM(self._masters[self.primary_kid])
        wrapped = nonce + master.encrypt(nonce, data_key, self._wrap_aad(key_id, self.primary_kid))
        return WrappedKey(self.primary_kid, wrapped)

    def unwrap(self, key_id: uuid.UUID, wrapped: WrappedKey) -> bytes:
        return self._unwrap(key_id, wrapped.master_kid, wrapped.wrapped)

    def rewrap(self, key_id: uuid.UUID, wrapped: WrappedKey) -> WrappedKey:
        return self.wrap(key_id, self.unwrap(key_id, wrapped))

    def _unwrap_uncached(self, key_id: uuid.UUID, kid: str, blob: bytes) -> bytes:
        master = self._masters.get(kid)
        if master is None:
            raise IntegrityError(f"master key {kid!r} is not configured")
        try:
            return AESGCM(master).decrypt(blob[:_NONCE], blob[_NONCE:], self._wrap_aad(key_id, kid))
        except InvalidTag as exc:
            raise IntegrityError("wrapped data key failed authentication") from exc

    @staticmethod
    def _wrap_aad(key_id: uuid.UUID, kid: str) -> bytes:
        return b"solidarity/data-key/" + key_id.bytes + kid.encode()

    # -- values ------------------------------------------------------------------------------
    @staticmethod
    def encrypt(data_key: bytes, key_id: uuid.UUID, plaintext: str, context: str) -> bytes:
        """Encrypt `plaintext`; `context` (e.g. 'users.email:<row id>') is bound as associated data."""
        header = VALUE_FORMAT + key_id.bytes
        nonce = os.urandom(_NONCE)
        body = AESGCM(data_key).encrypt(nonce, plaintext.encode(), header + context.encode())
        return header + nonce + body

    @staticmethod
    def key_id_of(blob: bytes) -> uuid.UUID:
        if len(blob) < 1 + 16 + _NONCE + 16 or blob[:1] != VALUE_FORMAT:
            raise IntegrityError("not a ciphertext of a known format")
        return uuid.UUID(bytes=bytes(blob[1:17]))

    @staticmethod
    def decrypt(data_key: bytes, blob: bytes, context: str) -> str:
        blob = bytes(blob)
        header, nonce, body = blob[:17], blob[17 : 17 + _NONCE], blob[17 + _NONCE :]
        try:
            return AESGCM(data_key).decrypt(nonce, body, header + context.encode()).decode()
        except InvalidTag as exc:
            raise IntegrityError(f"ciphertext for {context.split(':')[0]} failed authentication") from exc

    # -- blind index and MACs ----------------------------------------------------------------
    def blind_index(self, purpose: str, normalised_value: str) -> str:
        """Keyed, deterministic digest for exact lookups; useless to anyone without the index key."""
        return self.mac(f"index/{purpose}", normalised_value.encode()).hex()

    def mac(self, purpose: str, data: bytes) -> bytes:
        subkey = hmac.new(self._index_key, purpose.encode(), hashlib.sha256).digest()
        return hmac.new(subkey, data, hashlib.sha256).digest()

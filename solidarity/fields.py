"""Column types shared by every model: UTC-aware timestamps, per-record data keys, encrypted fields."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, LargeBinary, String, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column, object_session

from solidarity.clock import utcnow
from solidarity.crypto import IntegrityError, WrappedKey
from solidarity.errors import DecryptionError
from solidarity.extensions import db, keyring


class UTCDateTime(TypeDecorator):
    """Always hands back aware UTC datetimes; refuses naive ones so local time never sneaks in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class DataKey(db.Model):
    """One record's data key, stored only wrapped by a master key. Destroying it shreds the record."""

    __tablename__ = "data_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    master_kid: Mapped[str | None] = mapped_column(String(40), index=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def create(cls) -> DataKey:
        key_id = new_id()
        wrapped = keyring().new_data_key(key_id)
        return cls(id=key_id, master_kid=wrapped.master_kid, wrapped=wrapped.wrapped, created_at=utcnow())

    def plaintext(self) -> bytes:
        if self.wrapped is None or self.master_kid is None:
            raise DecryptionError("this record's data key was destroyed")
        try:
            return keyring().unwrap(self.id, WrappedKey(self.master_kid, self.wrapped))
        except IntegrityError as exc:
            raise DecryptionError(str(exc)) from exc

    def rewrap(self) -> bool:
        """Re-wrap under the newest master key; False if there was nothing to do."""
        ring = keyring()
        if self.wrapped is None or self.master_kid == ring.primary_kid:
            return False
        try:
            new = ring.rewrap(self.id, WrappedKey(self.master_kid, self.wrapped))
        except IntegrityError as exc:
            raise DecryptionError(str(exc)) from exc
        self.master_kid, self.wrapped = new.master_kid, new.wrapped
        return True

    def destroy(self, at: datetime) -> None:
        self.master_kid = None
        self.wrapped = None
        self.destroyed_at = at


class KeyHolder:
    """Mixin for records that own a data key (organisations, incidents, coordinators' accounts)."""

    def data_key_for_writing(self) -> DataKey:
        if self.data_key is None:  # type: ignore[attr-defined]
            self.data_key = DataKey.create()  # type: ignore[attr-defined]
        return self.data_key  # type: ignore[attr-defined]


class Encrypted:
    """A model attribute stored as AEAD ciphertext in `<name>_ct`, bound to table, column and row.

    The owning model says whose data key protects it through `key_holder()`. With `index=True`
    a keyed blind index of the normalised value is kept in `<name>_index` for exact lookups.
    """

    def __init__(self, *, index: bool = False):
        self.index = index

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column = f"{name}_ct"
        self.index_column = f"{name}_index"

    def __eq__(self, other: object) -> bool:
        # `User.name == "x"` in a query would otherwise compare this descriptor, be False, and quietly
        # match nothing. Ciphertext cannot be compared in SQL: look up through the blind index.
        raise TypeError(f"{self.name} is encrypted: query it through its blind index, or filter in Python")

    __ne__ = __eq__
    __hash__ = object.__hash__

    def context(self, obj: Any) -> str:
        return f"{obj.__tablename__}.{self.name}:{obj.id}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        blob = getattr(obj, self.column)
        if blob is None:
            return None
        ring = keyring()
        try:
            key_id = ring.key_id_of(blob)
        except IntegrityError as exc:
            raise DecryptionError(str(exc)) from exc
        data_key = (object_session(obj) or db.session).get(DataKey, key_id)
        if data_key is None:
            raise DecryptionError("data key not found")
        try:
            return ring.decrypt(data_key.plaintext(), blob, self.context(obj))
        except IntegrityError as exc:
            raise DecryptionError(str(exc)) from exc

    def __set__(self, obj: Any, value: str | None) -> None:
        if obj.id is None:
            obj.id = new_id()  # the row id is part of the associated data, so it must exist now
        if value is None:
            setattr(obj, self.column, None)
        else:
            data_key = obj.key_holder().data_key_for_writing()
            setattr(obj, self.column, keyring().encrypt(data_key.plaintext(), data_key.id, value, self.context(obj)))
        if self.index:
            setattr(obj, self.index_column, None if value is None else self.digest(type(obj), value))

    def digest(self, model: type, normalised_value: str) -> str:
        return keyring().blind_index(f"{model.__tablename__}.{self.name}", normalised_value)


def blind_index(model: type, name: str, normalised_value: str) -> str:
    """The index value to compare `<model>.<name>_index` with, e.g. to find a user by email."""
    return model.__dict__[name].digest(model, normalised_value)

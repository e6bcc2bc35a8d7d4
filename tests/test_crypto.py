"""Envelope encryption at rest: tampering is refused, rotation re-wraps, destroyed keys shred."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, update

from solidarity import create_app
from solidarity.crypto import (
    IntegrityError,
    KeyConfigError,
    Keyring,
    decode_key,
    generate_master_key,
    generate_secret,
    parse_master_keys,
)
from solidarity.errors import DecryptionError
from solidarity.extensions import db
from solidarity.fields import DataKey
from solidarity.members.models import User
from solidarity.offers.models import Offer
from tests.factories import bearer

OLD_KID = "ktest1"  # the master key of config/testing.py


def _ring(*keys: str) -> Keyring:
    return Keyring(parse_master_keys(",".join(keys)), decode_key(generate_secret()))


# -- the primitives -----------------------------------------------------------------------------

def test_value_round_trips_and_is_bound_to_its_context():
    ring = _ring(generate_master_key())
    key_id = uuid.uuid4()
    data_key = ring.unwrap(key_id, ring.new_data_key(key_id))
    blob = ring.encrypt(data_key, key_id, "+254711839204", "users.phone:1")
    assert ring.decrypt(data_key, blob, "users.phone:1") == "+254711839204"
    assert ring.key_id_of(blob) == key_id
    for other in ("users.phone:2", "users.email:1", "offers.notes:1"):
        with pytest.raises(IntegrityError):
            ring.decrypt(data_key, blob, other)


@pytest.mark.parametrize("offset", [1, 16, 17, 28, 29, -1])  # key id, nonce, body, tag
def test_any_flipped_byte_fails_authentication(offset):
    ring = _ring(generate_master_key())
    key_id = uuid.uuid4()
    data_key = ring.unwrap(key_id, ring.new_data_key(key_id))
    blob = bytearray(ring.encrypt(data_key, key_id, "a note", "offers.notes:1"))
    blob[offset] ^= 0x01
    with pytest.raises(IntegrityError):
        ring.decrypt(data_key, bytes(blob), "offers.notes:1")


def test_wrapped_data_key_is_bound_to_its_id_and_master_key():
    old, new = generate_master_key(), generate_master_key()
    ring = _ring(old)
    key_id = uuid.uuid4()
    wrapped = ring.new_data_key(key_id)
    with pytest.raises(IntegrityError):
        ring.unwrap(uuid.uuid4(), wrapped)  # a wrapped key copied onto another data key's row
    tampered = type(wrapped)(wrapped.master_kid, wrapped.wrapped[:-1] + bytes([wrapped.wrapped[-1] ^ 1]))
    with pytest.raises(IntegrityError):
        ring.unwrap(key_id, tampered)
    both = _ring(new, old)  # the first key wraps, every key unwraps
    rewrapped = both.rewrap(key_id, wrapped)
    assert rewrapped.master_kid == new.split(":")[0]
    assert both.unwrap(key_id, rewrapped) == ring.unwrap(key_id, wrapped)
    with pytest.raises(IntegrityError, match="not configured"):
        ring.unwrap(key_id, rewrapped)


@pytest.mark.parametrize("spec", ["", "nokid", ":" + "A" * 43, "k1:short", "k1:" + "A" * 43 + ",k1:" + "B" * 43,
                                  "k1:!!notbase64!!"])
def test_malformed_master_keys_are_refused(spec):
    with pytest.raises(KeyConfigError):
        parse_master_keys(spec)


def test_generated_keys_are_distinct_and_parse():
    first, second = generate_master_key(), generate_master_key()
    assert first != second
    assert len(parse_master_keys(f"{first},{second}")) == 2
    assert len(decode_key(generate_secret())) == 32


# -- stored values ------------------------------------------------------------------------------

def _tamper(model: type, row_id, column: str, change) -> None:
    """Rewrite a stored column behind the ORM's back, as someone with write access to the database could."""
    table = model.__table__
    value = db.session.execute(select(table.c[column]).where(table.c.id == row_id)).scalar_one()
    db.session.execute(update(table).where(table.c.id == row_id).values({column: change(value)}))
    db.session.commit()
    db.session.expire_all()


def _flip(offset: int):
    def change(blob):
        blob = bytearray(blob)
        blob[offset] ^= 0x80
        return bytes(blob)
    return change


@pytest.mark.parametrize("offset", [0, 5, 20, 40, -1])
def test_a_flipped_byte_in_a_stored_ciphertext_is_refused(make, offset):
    org = make.org(phone="+254711839204")
    admin = make.admin_of(org)
    _tamper(User, admin.id, "phone_ct", _flip(offset))
    with pytest.raises(DecryptionError):
        _ = admin.phone
    assert admin.email.startswith("admin")  # only the tampered value is refused


def test_a_ciphertext_copied_to_another_row_or_column_is_refused(make):
    org = make.org(phone="+254711839204")
    admin, other = make.admin_of(org), make.user(org, phone="+254722000111")
    stolen_phone, stolen_email = admin.phone_ct, admin.email_ct

    _tamper(User, other.id, "phone_ct", lambda _: stolen_phone)  # same organisation, same data key
    with pytest.raises(DecryptionError):
        _ = other.phone
    _tamper(User, admin.id, "phone_ct", lambda _: stolen_email)  # same row, another column
    with pytest.raises(DecryptionError):
        _ = admin.phone

    first = make.offer(org, notes="first offer's note")
    second = make.offer(org, "relocation", notes="second offer's note")
    _tamper(Offer, second.id, "notes_ct", lambda _: first.notes_ct)
    with pytest.raises(DecryptionError):
        _ = second.notes
    assert first.notes == "first offer's note"

    elsewhere = make.org(phone="+254733000222")  # another organisation, another data key
    _tamper(User, make.admin_of(elsewhere).id, "email_ct", lambda _: stolen_email)
    with pytest.raises(DecryptionError):
        _ = make.admin_of(elsewhere).email


def test_a_tampered_or_swapped_wrapped_data_key_is_refused(make):
    a, b = make.org(phone="+254711839204"), make.org(phone="+254722000111")
    wrapped_b = b.data_key.wrapped
    _tamper(DataKey, a.data_key_id, "wrapped", lambda _: wrapped_b)
    with pytest.raises(DecryptionError):
        _ = make.admin_of(a).phone
    _tamper(DataKey, b.data_key_id, "wrapped", _flip(-1))
    with pytest.raises(DecryptionError):
        _ = make.admin_of(b).phone


def test_each_organisation_has_its_own_data_key_stored_only_wrapped(make):
    a, b = make.org(), make.org()
    coordinator = make.coordinator()
    keys = {a.data_key_id, b.data_key_id, coordinator.data_key_id}
    assert None not in keys and len(keys) == 3
    for data_key in db.session.scalars(select(DataKey)):
        assert data_key.master_kid == OLD_KID
        assert data_key.plaintext() not in data_key.wrapped


def test_a_destroyed_data_key_leaves_its_values_unreadable(make, now):
    org = make.org(phone="+254711839204")
    offer = make.offer(org, notes="meet at the usual place")
    survivor = make.org(phone="+254722000111")
    org.data_key.destroy(now)
    db.session.commit()
    db.session.expire_all()
    for read in (lambda: make.admin_of(org).email, lambda: make.admin_of(org).phone, lambda: offer.notes):
        with pytest.raises(DecryptionError, match="destroyed"):
            read()
    assert make.admin_of(survivor).phone == "+254722000111"  # shredding is per record


# -- rotation through the CLI, in a fresh app on the same database ------------------------------

@contextmanager
def _app_with_keys(app_config, tmp_path, keys: str):
    """Another process of the same deployment, configured with `keys` (as after editing the env)."""
    other = create_app({**app_config, "INSTANCE_PATH": str(tmp_path), "ENCRYPTION_KEYS": keys})
    with other.app_context():
        try:
            yield other
        finally:
            db.session.remove()
            db.engine.dispose()


def _readable(session) -> dict:
    return {**{(u.id, "email"): u.email for u in session.scalars(select(User))},
            **{(u.id, "phone"): u.phone for u in session.scalars(select(User))},
            **{(o.id, "notes"): o.notes for o in session.scalars(select(Offer))}}


def _ciphertexts(session) -> dict:
    return {**{u.id: (u.email_ct, u.phone_ct) for u in session.scalars(select(User))},
            **{o.id: o.notes_ct for o in session.scalars(select(Offer))}}


def test_rotation_rewraps_every_data_key_and_leaves_every_value_readable(app, app_config, make, tmp_path):
    for n in range(3):
        org = make.org(phone=f"+25471183920{n}")
        make.user(org, phone=f"+25472200011{n}")
        make.offer(org, notes=f"note {n}")
    make.coordinator()
    before, stored = _readable(db.session), _ciphertexts(db.session)
    count = db.session.scalar(select(func.count()).select_from(DataKey))
    assert count == 4
    old = app.config["ENCRYPTION_KEYS"]
    new = generate_master_key()
    new_kid = new.split(":")[0]
    db.session.remove()

    with _app_with_keys(app_config, tmp_path / "a", f"{new},{old}") as rotating:
        result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert f"rewrapped {count}, already current 0, destroyed 0" in result.output
        assert new_kid in result.output
        assert db.session.scalar(select(func.count()).where(DataKey.master_kid == OLD_KID)) == 0
        again = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
        assert f"rewrapped 0, already current {count}" in again.output
        status = rotating.test_cli_runner().invoke(args=["keys", "status"])
        assert status.output.split() == [new_kid, str(count)]

    # The old master key can now be retired: the new one alone reads everything.
    with _app_with_keys(app_config, tmp_path / "b", new):
        assert _readable(db.session) == before
        assert _ciphertexts(db.session) == stored  # rotation re-wraps keys; it never re-encrypts values
    with _app_with_keys(app_config, tmp_path / "c", old):
        with pytest.raises(DecryptionError, match="not configured"):
            _readable(db.session)


def test_rotation_counts_destroyed_keys_and_skips_them(app, app_config, make, tmp_path, now):
    make.org(phone="+254711839204")
    shredded = make.org(phone="+254722000111")
    shredded.data_key.destroy(now)
    db.session.commit()
    old = app.config["ENCRYPTION_KEYS"]
    db.session.remove()
    with _app_with_keys(app_config, tmp_path, f"{generate_master_key()},{old}") as rotating:
        result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
        assert "rewrapped 2, already current 0, destroyed 1" in result.output  # the org and the coordinator


def test_rotation_after_the_old_key_was_removed_says_which_key_is_missing(app, app_config, make, tmp_path):
    make.org(phone="+254711839204")
    db.session.remove()
    new = generate_master_key()
    with _app_with_keys(app_config, tmp_path, new) as rotating:  # the operator dropped the old key too early
        result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 1
        assert "rewrapped 0, already current 0, destroyed 0" in result.output
        assert f"2 data key(s) wrapped by '{OLD_KID}' could not be opened" in result.output
        assert db.session.scalar(select(func.count()).where(DataKey.master_kid == OLD_KID)) == 2


def test_a_backup_taken_before_shredding_is_unreadable_once_the_old_master_key_is_retired(
        app, app_config, make, tmp_path, now):
    """Shredding reaches copies made earlier by retiring the master key that wrapped them (README: erasure)."""
    org = make.org(phone="+254711839204")
    backup = {"wrapped": org.data_key.wrapped, "phone_ct": make.admin_of(org).phone_ct}
    key_id, admin_id = org.data_key_id, make.admin_of(org).id
    org.data_key.destroy(now)
    db.session.commit()
    old = app.config["ENCRYPTION_KEYS"]
    new = generate_master_key()
    db.session.remove()
    with _app_with_keys(app_config, tmp_path / "a", f"{new},{old}") as rotating:
        assert rotating.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    with _app_with_keys(app_config, tmp_path / "b", new):
        # Restore the backup's rows into the live database: the new master key alone cannot open them.
        db.session.execute(update(DataKey).where(DataKey.id == key_id).values(master_kid=OLD_KID,
                                                                              wrapped=backup["wrapped"]))
        db.session.execute(update(User).where(User.id == admin_id).values(phone_ct=backup["phone_ct"]))
        db.session.commit()
        with pytest.raises(DecryptionError):
            _ = db.session.get(User, admin_id).phone


def test_keys_generate_prints_keys_an_app_starts_with(app, app_config, tmp_path):
    runner = app.test_cli_runner()
    master = runner.invoke(args=["keys", "generate"]).output.strip()
    index = runner.invoke(args=["keys", "generate", "--blind-index"]).output.strip()
    assert len(parse_master_keys(master)) == 1
    assert len(decode_key(index)) == 32
    assert master != runner.invoke(args=["keys", "generate"]).output.strip()
    started = create_app({**app_config, "INSTANCE_PATH": str(tmp_path), "ENCRYPTION_KEYS": master,
                          "BLIND_INDEX_KEY": index})
    assert started.extensions["solidarity.keyring"].primary_kid == master.split(":")[0]



def test_the_api_refuses_a_tampered_value_instead_of_serving_it(client, make):
    member = make.member(phone="+254711839204")
    _tamper(User, member.admin.id, "phone_ct", _flip(-1))
    response = client.get(f"/api/v1/organisations/{member.org.id}/users", headers=bearer(member.token))
    assert response.status_code == 500
    assert response.json["errors"][0]["message"].endswith("failed authentication")
    assert "+254711839204" not in response.get_data(as_text=True)

"""The optional SMS intake PIN of an organisation (used by the SMS webhook)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from solidarity.audit import AuditEvent
from solidarity.errors import Forbidden, ValidationError
from solidarity.members import service


def test_set_verify_and_clear(make, session, now):
    org = make.org()
    assert not service.verify_sms_pin(org, "1234")  # no PIN set: nothing verifies
    service.set_sms_pin(session, make.admin_of(org), org, " 4821 ", now=now)
    assert org.sms_pin_hash and "4821" not in org.sms_pin_hash
    assert service.verify_sms_pin(org, "4821")
    assert not service.verify_sms_pin(org, "4822")
    assert not service.verify_sms_pin(org, "")
    assert not service.verify_sms_pin(org, None)
    service.set_sms_pin(session, make.admin_of(org), org, "", now=now)
    assert org.sms_pin_hash is None
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(org.id))))
    assert actions[-2:] == ["organisation.sms_pin_set", "organisation.sms_pin_cleared"]


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "١٢٣٤"])
def test_pins_are_four_to_eight_ascii_digits(make, session, now, pin):
    org = make.org()
    with pytest.raises(ValidationError) as caught:
        service.set_sms_pin(session, make.admin_of(org), org, pin, now=now)
    assert caught.value.field == "pin"
    assert org.sms_pin_hash is None


def test_only_admins_and_coordinators_set_it(make, session, now):
    org = make.org()
    with pytest.raises(Forbidden):
        service.set_sms_pin(session, make.user(org), org, "4821", now=now)
    with pytest.raises(Forbidden):
        service.set_sms_pin(session, make.admin_of(make.org()), org, "4821", now=now)
    service.set_sms_pin(session, make.coordinator(), org, "48210000", now=now)
    assert service.verify_sms_pin(org, "48210000")

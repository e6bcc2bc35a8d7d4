"""Who may see and change which organisation's records. Pure functions over users and ids."""
from __future__ import annotations

import uuid

from solidarity.members.models import Role, User, Vetting


def is_member_of(user: User, org_id: uuid.UUID | None) -> bool:
    return user.organisation_id is not None and user.organisation_id == org_id


def is_locked_down(user: User) -> bool:
    """Whether `user` belongs to an organisation under lockdown.

    Its logins may be in an adversary's hands (a seized phone, a coerced member), so until a
    coordinator re-verifies the organisation they act for no one and see nothing of the network.
    """
    org = user.organisation
    return org is not None and org.locked_at is not None


def can_manage_org(user: User, org_id: uuid.UUID) -> bool:
    """Change the organisation's profile, users and offers."""
    return user.is_coordinator or (user.role is Role.org_admin and is_member_of(user, org_id)
                                   and not is_locked_down(user))


def can_read_contacts(user: User, org_id: uuid.UUID) -> bool:
    """Read the phone numbers and emails of an organisation's people.

    Contacts are shared beyond the organisation only with coordinators; a responder learns the
    reporter's contact person only through an incident's disclosure choice, never from here.
    """
    return user.is_coordinator or (is_member_of(user, org_id) and not is_locked_down(user))


def can_vouch(user: User) -> bool:
    """Stand behind applicants: admins of vetted organisations, whose word the network already trusts."""
    org = user.organisation
    return (user.role is Role.org_admin and org is not None and org.vetting_status is Vetting.vetted
            and not is_locked_down(user))

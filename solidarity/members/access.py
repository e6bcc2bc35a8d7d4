"""Who may see and change which organisation's records. Pure functions over users and ids.

`access_state` is the one rule for state that removes a person's access altogether: a disabled
account, an organisation under lockdown, a suspended organisation. Sign-in, the browser-session
loader, the API token loader, the SMS webhook and signed links (which need a sign-in) all ask
`may_act`, and so do the permission rules below, so no path can disagree with another.
"""
from __future__ import annotations

import enum
import uuid

from solidarity.members.models import Role, User, Vetting


class AccessState(str, enum.Enum):
    ok = "ok"
    disabled = "disabled"  # the account: someone left, or lost a phone
    locked_down = "locked_down"  # the organisation: a coordinator's lockdown (incidents/lockdown.py)
    suspended = "suspended"  # the organisation: a coordinator suspended its membership


def access_state(user: User) -> AccessState:
    """Whether `user` may act at all, and if not, why (for the audit trail only: people are told
    nothing more than "email or password is wrong", so a captor learns nothing of a lockdown)."""
    if not user.active:
        return AccessState.disabled
    org = user.organisation
    if org is not None and org.locked_at is not None:
        return AccessState.locked_down
    if org is not None and org.vetting_status is Vetting.suspended:
        return AccessState.suspended
    return AccessState.ok


def may_act(user: User | None) -> bool:
    """Whether `user` may sign in, use a session or token, send trusted SMS, or see anything."""
    return user is not None and access_state(user) is AccessState.ok


def is_member_of(user: User, org_id: uuid.UUID | None) -> bool:
    return user.organisation_id is not None and user.organisation_id == org_id


def can_manage_org(user: User, org_id: uuid.UUID) -> bool:
    """Change the organisation's profile, users and offers."""
    return may_act(user) and (user.is_coordinator or (user.role is Role.org_admin and is_member_of(user, org_id)))


def can_read_contacts(user: User, org_id: uuid.UUID) -> bool:
    """Read the phone numbers and emails of an organisation's people.

    Contacts are shared beyond the organisation only with coordinators; a responder learns the
    reporter's contact person only through an incident's disclosure choice, never from here.
    """
    return may_act(user) and (user.is_coordinator or is_member_of(user, org_id))


def can_vouch(user: User) -> bool:
    """Stand behind applicants: admins of vetted organisations, whose word the network already trusts."""
    org = user.organisation
    return (may_act(user) and user.role is Role.org_admin and org is not None
            and org.vetting_status is Vetting.vetted)

"""An incident's play as a checklist: the version it was given, each step with its recorded progress.

The play text is the network's shared knowledge, but how far an incident has got through it is
incident data: the reporter, coordinators and responders that took the case see and tick it; an
organisation only asked does not.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from solidarity.errors import NotFound
from solidarity.incidents.access import Viewer
from solidarity.incidents.models import Incident

# The incidents service's viewer rule, shared so the checklist follows the same need to know.
from solidarity.incidents.service import READ_ONLY, require_changeable, viewer_for
from solidarity.members.models import User
from solidarity.playbook import service as playbook
from solidarity.playbook.models import ChecklistProgress, PlayStep, PlayVersion

SEES_CHECKLIST = (Viewer.coordinator, Viewer.reporter, Viewer.accepted)


@dataclass(frozen=True)
class StepState:
    step: PlayStep
    progress: ChecklistProgress | None
    can_mark: bool

    @property
    def done(self) -> bool:
        return self.progress is not None and self.progress.done_at is not None


@dataclass(frozen=True)
class Checklist:
    version: PlayVersion  # the version the incident was given, even if a newer one is published now
    steps: list[StepState]

    @property
    def done(self) -> int:
        return sum(state.done for state in self.steps)


def checklist(session: Session, user: User, incident: Incident) -> Checklist | None:
    """The incident's play with its progress, or None when it has no play or `user` may not see it."""
    viewer = viewer_for(session, user, incident)
    if incident.play_version_id is None or viewer not in SEES_CHECKLIST:
        return None
    version = session.get(PlayVersion, incident.play_version_id)
    progress = playbook.progress_for(session, incident.id)
    accepted = viewer is Viewer.accepted
    final = incident.status in READ_ONLY
    return Checklist(version, [StepState(step, progress.get(step.id), not final and
                                         playbook.can_mark(user, incident, step, accepted_responder=accepted))
                               for step in version.steps])


def mark(session: Session, user: User, incident: Incident, step_id: uuid.UUID | str, done: bool, *,
         now: datetime) -> ChecklistProgress:
    """Tick or untick one step of the incident's play (playbook.can_mark says who may)."""
    viewer = viewer_for(session, user, incident)
    if viewer is None:
        raise NotFound("no such incident", field="id")
    require_changeable(incident)
    step = playbook.get_step(session, step_id)
    return playbook.mark_step(session, user, incident, step, done, now=now,
                              accepted_responder=viewer is Viewer.accepted)

"""After-action reviews and the end of a case: completed matches free capacity; ratings reach matching."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from solidarity.errors import Conflict, Forbidden, NotFound, ValidationError
from solidarity.extensions import db
from solidarity.incidents import retention, reviews, service
from solidarity.matching.models import MatchStatus, Review, ReviewRole
from solidarity.matching.service import NeedProfile, rank
from solidarity.notify.models import Notification
from tests.incidents.scenario import build
from tests.rawdb import leaks, raw_dump

NOTE = "Advocate Njeri from Beta Legal got the staff released by Tuesday 0517"


@pytest.fixture
def net(make, session, now):
    """B accepted the legal request and D the communications one; A was asked and never answered."""
    net = build(make, now=now)
    for org in (net.b, net.d):
        service.answer_match(session, make.admin_of(org), net.match_of(session, org), True, now=now)
    return net


def resolve(session, net, now):
    return service.change_status(session, net.reporter, net.incident, "resolved", now=now + timedelta(days=3))


def review_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Review))


# -- The end of a case ----------------------------------------------------------------------------

def test_resolving_completes_accepted_matches_and_reopening_puts_them_back(session, net, now):
    resolve(session, net, now)
    b, a = net.match_of(session, net.b), net.match_of(session, net.a)
    assert (b.status, b.completed_at) == (MatchStatus.completed, now + timedelta(days=3))
    assert a.status is MatchStatus.expired  # never answered: withdrawn, not completed

    service.change_status(session, net.reporter, net.incident, "responding", now=now + timedelta(days=4))
    assert (b.status, b.completed_at) == (MatchStatus.accepted, None)


@pytest.mark.parametrize("path", [("resolved",), ("resolved", "closed"), ("withdrawn",)])
def test_the_end_of_a_case_frees_the_responders_capacity(session, net, now, path):
    # B's legal offer carries one case at a time, and this incident is it.
    profile = NeedProfile(help_type="legal", country="KE", region="014", languages=("en",),
                          reporter_id=net.other.id)
    assert net.b.id not in {c.organisation_id for c in rank(session, profile, limit=10, now=now)}

    for status in path:
        service.change_status(session, net.reporter, net.incident, status, now=now + timedelta(days=3))

    ranked = {c.organisation_id: c for c in rank(session, profile, limit=10, now=now + timedelta(days=3))}
    assert "1 of 1 case free" in ranked[net.b.id].reasons


def test_responders_still_hear_that_a_completed_case_was_closed(session, net, now):
    resolve(session, net, now)
    before = session.scalar(select(func.count()).select_from(Notification))
    service.change_status(session, net.reporter, net.incident, "closed", now=now + timedelta(days=4))
    told = session.scalar(select(func.count()).select_from(Notification)) - before
    assert told >= 2  # B's and D's people, although their matches are completed now


# -- Who reviews whom ------------------------------------------------------------------------------

def test_nothing_is_due_before_the_incident_is_resolved(make, session, net, now):
    assert reviews.due(session, net.reporter, net.incident) == []
    with pytest.raises(Conflict) as caught:
        reviews.leave_review(session, net.reporter, net.incident, net.b.id, 4, now=now)
    assert caught.value.errors[0].field == "status"
    assert review_count(session) == 0


def test_the_reporter_reviews_each_responder_that_took_the_case(make, session, net, now):
    resolve(session, net, now)
    due = reviews.due(session, net.reporter_member, net.incident)
    assert {(d.subject.id, d.role) for d in due} == {(net.b.id, ReviewRole.reporter), (net.d.id, ReviewRole.reporter)}

    review = reviews.leave_review(session, net.reporter_member, net.incident, str(net.b.id), "5", NOTE,
                                  now=now + timedelta(days=4))
    assert (review.rating, review.role, review.note) == (5, ReviewRole.reporter, NOTE)
    assert [d.subject.id for d in reviews.due(session, net.reporter, net.incident)] == [net.d.id]
    assert net.incident.timeline[-1].kind == "reviewed"
    assert "rating" not in net.incident.timeline[-1].data  # the timeline says a review was left, not what it says


def test_each_responder_reviews_the_case_with_the_reporter(make, session, net, now):
    resolve(session, net, now)
    b_admin = make.admin_of(net.b)
    [due] = reviews.due(session, b_admin, net.incident)
    assert (due.subject.id, due.role) == (net.reporter_org.id, ReviewRole.responder)
    reviews.leave_review(session, b_admin, net.incident, net.reporter_org.id, 4, "", now=now)
    assert reviews.due(session, b_admin, net.incident) == []


def test_the_note_is_encrypted_at_rest(make, session, net, now):
    resolve(session, net, now)
    reviews.leave_review(session, net.reporter, net.incident, net.b.id, 2, NOTE, now=now)
    db.session.remove()
    dump = raw_dump(db.engine)
    assert leaks(dump, [NOTE, "Advocate Njeri", "Tuesday 0517"]) == []


@pytest.mark.parametrize(("who", "error"), [
    ("coordinator", Forbidden),  # coordinators read reviews; they do not write them
    ("asked", Forbidden),  # asked but never accepted: it did not work on the case
    ("other", NotFound),  # never heard of the incident
])
def test_who_may_not_review(make, session, net, now, who, error):
    resolve(session, net, now)
    user = {"coordinator": net.coordinator, "asked": make.admin_of(net.a), "other": make.admin_of(net.other)}[who]
    assert reviews.due(session, user, net.incident) == []
    with pytest.raises(error):
        reviews.leave_review(session, user, net.incident, net.reporter_org.id, 3, now=now)
    assert review_count(session) == 0


@pytest.mark.parametrize(("subject", "rating", "note", "fields"), [
    ("b", 0, None, {"rating"}),
    ("b", 6, None, {"rating"}),
    ("b", "five", None, {"rating"}),
    ("b", True, None, {"rating"}),
    ("b", 3, "x" * (reviews.NOTE_MAX + 1), {"note"}),
    ("b", 3, 42, {"note"}),
    ("not-a-uuid", None, None, {"subject_organisation_id", "rating"}),  # every failure named at once
    ("a", 3, None, {"subject_organisation_id"}),  # asked, never accepted: not reviewable
    ("reporter_org", 3, None, {"subject_organisation_id"}),  # an organisation does not review itself
])
def test_bad_reviews_name_the_field_and_write_nothing(session, net, now, subject, rating, note, fields):
    resolve(session, net, now)
    subject_id = getattr(net, subject).id if hasattr(net, subject) else subject
    with pytest.raises(ValidationError) as caught:
        reviews.leave_review(session, net.reporter, net.incident, subject_id, rating, note, now=now)
    assert {e.field for e in caught.value.errors} == fields
    assert review_count(session) == 0


def test_one_review_per_organisation_and_subject(make, session, net, now):
    resolve(session, net, now)
    reviews.leave_review(session, net.reporter, net.incident, net.b.id, 3, now=now)
    with pytest.raises(Conflict) as caught:  # another person of the same organisation
        reviews.leave_review(session, net.reporter_member, net.incident, net.b.id, 5, now=now)
    assert caught.value.errors[0].field == "subject_organisation_id"
    assert review_count(session) == 1


def test_coordinators_read_every_review_and_organisations_their_own(make, session, net, now):
    resolve(session, net, now)
    b_admin = make.admin_of(net.b)
    mine = reviews.leave_review(session, net.reporter, net.incident, net.b.id, 2, now=now)
    theirs = reviews.leave_review(session, b_admin, net.incident, net.reporter_org.id, 5, now=now)
    assert {r.id for r in reviews.visible_reviews(session, net.coordinator, net.incident)} == {mine.id, theirs.id}
    assert [r.id for r in reviews.visible_reviews(session, net.reporter_member, net.incident)] == [mine.id]
    assert [r.id for r in reviews.visible_reviews(session, b_admin, net.incident)] == [theirs.id]  # not B's rating
    with pytest.raises(NotFound):
        reviews.visible_reviews(session, make.admin_of(net.other), net.incident)


def test_a_reporters_rating_ranks_the_responder_on_the_next_incident(make, session, net, now):
    resolve(session, net, now)
    reviews.leave_review(session, net.reporter, net.incident, net.b.id, 1, now=now + timedelta(days=4))
    profile = NeedProfile(help_type="legal", country="KE", region="014", languages=("en",),
                          reporter_id=net.other.id)
    ranked = {c.organisation_id: c for c in rank(session, profile, limit=10, now=now + timedelta(days=5))}
    assert "rated 1.0 of 5 by reporters (1 review)" in ranked[net.b.id].reasons


def test_retention_erases_review_notes_and_authors_but_keeps_ratings(app, session, net, now):
    resolve(session, net, now)
    service.change_status(session, net.reporter, net.incident, "closed", now=now + timedelta(days=4))
    review = reviews.leave_review(session, net.reporter, net.incident, net.b.id, 2, NOTE, now=now + timedelta(days=4))
    later = now + timedelta(days=5 + int(app.config["RETENTION_DAYS"]))
    assert retention.erase_expired(session, now=later) == 1
    session.refresh(review)
    assert (review.note_ct, review.author_id, review.rating) == (None, None, 2)

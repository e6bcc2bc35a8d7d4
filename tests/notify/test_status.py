"""Delivery reports: repeated or out-of-order reports never move a status backwards."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from solidarity.notify import outbox
from solidarity.notify.dispatcher import fail
from solidarity.notify.models import Channel, Delivery, Failure, Notification
from solidarity.notify.service import apply_status


@pytest.fixture
def sent_sms(session, make, now):
    org = make.org()
    user = make.user(org, phone="+254712345611")
    user.notify_email = False
    session.commit()
    (row,) = outbox.enqueue(session, user, "match_request", now=now, ref="K7QFH", help_type="legal")
    row.status, row.provider_id, row.sent_at, row.attempts = Delivery.sent, "SM1", now, 1
    session.commit()
    return row


def report(session, now, status, sid="SM1", **kwargs):
    return apply_status(session, provider_id=sid, status=status, now=now, **kwargs)


def all_rows(session):
    session.expire_all()
    return list(session.scalars(select(Notification)))


def test_delivered_twice_changes_nothing_the_second_time(session, sent_sms, now):
    report(session, now + timedelta(seconds=5), "delivered")
    report(session, now + timedelta(seconds=9), "delivered")
    (row,) = all_rows(session)
    assert (row.status, row.delivered_at) == (Delivery.delivered, now + timedelta(seconds=5))


@pytest.mark.parametrize("late", ["queued", "sending", "sent", "accepted"])
def test_an_earlier_status_arriving_late_is_ignored(session, sent_sms, now, late):
    report(session, now, "delivered")
    report(session, now, late)
    assert all_rows(session)[0].status is Delivery.delivered


def test_sending_after_sent_is_ignored(session, sent_sms, now):
    report(session, now, "sending")
    assert all_rows(session)[0].status is Delivery.sent


def test_failure_marks_failed_and_falls_back_once(session, sent_sms, now):
    report(session, now, "undelivered", error_code="30003")
    report(session, now, "failed", error_code="30003")
    row, fallback = sorted(all_rows(session), key=lambda r: r.fallback_of_id is not None)
    assert (row.status, row.failure, row.last_error) == (Delivery.failed, Failure.undelivered,
                                                         "Twilio reported undelivered (error 30003)")
    assert (fallback.channel, fallback.fallback_of_id) == (Channel.email, row.id)


def test_failure_after_delivery_is_ignored(session, sent_sms, now):
    report(session, now, "delivered")
    report(session, now, "failed", error_code="30008")
    assert [r.status for r in all_rows(session)] == [Delivery.delivered]


def test_a_report_ahead_of_the_worker_finds_the_row_by_its_id(session, sent_sms, now):
    sent_sms.status, sent_sms.provider_id, sent_sms.sent_at = Delivery.sending, None, None
    session.commit()
    row = report(session, now, "sent", sid="SM9", notification_id=str(sent_sms.id))
    assert (row.status, row.provider_id) == (Delivery.sent, "SM9")


def test_a_report_that_it_went_out_corrects_an_ambiguous_failure(session, sent_sms, now):
    sent_sms.provider_id = None
    fail(session, sent_sms, Failure.ambiguous, "timeout", now=now)
    session.commit()
    row = report(session, now, "delivered", sid="SM7", notification_id=str(sent_sms.id))
    assert (row.status, row.failure, row.provider_id) == (Delivery.delivered, None, "SM7")


def test_reports_for_unknown_messages_change_nothing(session, sent_sms, now):
    assert report(session, now, "failed", sid="SMunknown") is None
    assert report(session, now, "failed", sid="SMunknown", notification_id="not-a-uuid") is None
    assert report(session, now, "no-such-status") is not None
    assert [r.status for r in all_rows(session)] == [Delivery.sent]

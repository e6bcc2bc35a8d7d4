"""The console and the incident page cost a fixed number of statements whatever the size of the
network (issue 17): no query per incident, organisation, match or timeline entry (no N+1)."""
from __future__ import annotations

import pytest

from solidarity.clock import utcnow
from tests.factories import sign_in
from tests.incidents import scenario
from tests.statements import counted

CONSOLE_STATEMENTS = 10  # was 9 + one per open incident (each one's data key)
# Was 37. The page composes a dozen sections (the case, matches, checklist, reviews, the conversation
# with its readers, private lines and contact shares), several of which still ask the same few rows
# for themselves (the thread's messages, readers and contact shares twice each); the 10
# needs those sections to share one load, which is incidents/messages.py's to give.
INCIDENT_PAGE_STATEMENTS = 18


def _grow(make, net, size: int) -> None:
    """`size` more organisations offering legal help in Kenya, each with a person, and `size` more
    open incidents of the reporter's: more matches, notifications, timeline entries and actors."""
    for i in range(size):
        org = make.org(f"Legal {i}", country="KE")
        make.offer(org, "legal", countries=["KE"])
        make.user(org, role="member")
    for _ in range(size):
        make.incident(net.reporter, now=utcnow(), severity=4, needs=["legal", "communications"])


def _statements(client, path: str) -> list[str]:
    with counted() as statements:
        page = client.get(path)
    assert page.status_code == 200
    return statements


@pytest.mark.parametrize("size", [0, 4])
def test_the_console_costs_the_same_whatever_the_network(client, make, session, size):
    net = scenario.members(make)
    scenario.file(make, net, now=utcnow())
    _grow(make, net, size)
    sign_in(client, net.coordinator)
    statements = _statements(client, "/coordinator/console")
    assert len(statements) <= CONSOLE_STATEMENTS, "\n".join(statements)


@pytest.mark.parametrize("size", [0, 4])
@pytest.mark.parametrize("who", ["reporter", "responder"])
def test_the_incident_page_costs_the_same_whatever_the_network(client, make, session, size, who):
    net = scenario.members(make)
    scenario.file(make, net, now=utcnow())
    _grow(make, net, size)
    sign_in(client, net.reporter if who == "reporter" else net.a.users[0])
    statements = _statements(client, f"/incidents/{net.incident.id}")
    assert len(statements) <= INCIDENT_PAGE_STATEMENTS, "\n".join(statements)

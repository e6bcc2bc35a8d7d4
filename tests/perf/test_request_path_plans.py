"""No cost of filing an incident grows with history (issue 17): with a long past in every growing
table and fresh statistics, PostgreSQL plans each statement of `POST /api/v1/incidents` without a
sequential scan of those tables. The statements are the ones the request really sends, caught on the
way to the driver, and explained with their own parameters."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from solidarity.extensions import db
from tests.factories import bearer
from tests.incidents import scenario

GROWING = ("notifications", "incidents", "matches", "audit_events", "incident_timeline")
ORGANISATIONS = 300
INCIDENTS = 10_000
ROWS = 20_000  # notifications and timeline entries; matches have one per past incident


def _copy(conn, table: str, seed_where: str, count: int, **overrides: str) -> None:
    """`count` copies of one seed row of `table`, the columns in `overrides` given as SQL of g (1..count)."""
    columns = [c.name for c in db.metadata.tables[table].columns]
    values = ", ".join(overrides.get(name, f'src."{name}"') for name in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    conn.execute(text(f'INSERT INTO {table} ({names}) SELECT {values} FROM {table} src, '
                      f'generate_series(1, {count}) g WHERE {seed_where}'))


def _past(conn, net) -> None:
    """Years of a busy network: many organisations, their incidents spread among them, requests for
    help and their notifications, timelines, and a long audit chain, all long ago."""
    # Older than every window the request path reads (MATCH_HISTORY_DAYS, FANOUT_WINDOW_SECONDS): what
    # is inside a window is bounded by the window, what is before it must cost nothing.
    past = "interval '400 days' + g * interval '7 minutes'"
    incident, old = f"src.id = '{net.incident.id}'", f"src.created_at - {past}"
    _copy(conn, "organisations", f"src.id = '{net.other.id}'", ORGANISATIONS, id="gen_random_uuid()")
    conn.execute(text("CREATE TEMP TABLE past_orgs AS SELECT row_number() OVER () AS n, id FROM organisations"))
    _copy(conn, "incidents", incident, INCIDENTS, id="gen_random_uuid()", ref="'Q' || g", created_at=old,
          updated_at=old, status="'closed'",
          organisation_id=f"(SELECT id FROM past_orgs WHERE n = 1 + g % {ORGANISATIONS})")
    conn.execute(text("CREATE TEMP TABLE past_incidents AS SELECT row_number() OVER () AS n, id FROM incidents "
                      "WHERE ref LIKE 'Q%'"))
    some_past_incident = f"(SELECT id FROM past_incidents WHERE n = 1 + g % {INCIDENTS})"
    one_each = "(SELECT id FROM past_incidents WHERE n = g)"
    for match in conn.execute(text("SELECT id FROM matches WHERE incident_id = :id"), {"id": net.incident.id}):
        _copy(conn, "matches", f"src.id = '{match.id}'", INCIDENTS, id="gen_random_uuid()",
              incident_id=one_each, created_at=old, status="'declined'")
    _copy(conn, "notifications", "src.id = (SELECT min(id::text)::uuid FROM notifications WHERE template = "
          f"'match_request' AND incident_id = '{net.incident.id}')", ROWS, id="gen_random_uuid()",
          incident_id=some_past_incident, match_id="NULL", created_at=old, updated_at=old, status="'sent'")
    _copy(conn, "incident_timeline", f"src.incident_id = '{net.incident.id}' AND src.seq = 1", ROWS,
          id="gen_random_uuid()", incident_id=some_past_incident, at=f"src.at - {past}")
    _copy(conn, "audit_events", "src.id = (SELECT max(id) FROM audit_events)", ROWS, id="-g",
          hash="md5(g::text) || md5(g::text)", at=f"src.at - {past}")
    for table in (*GROWING, "organisations"):
        conn.execute(text(f"ANALYZE {table}"))


def test_no_statement_of_filing_an_incident_scans_a_growing_table(client, make, session, is_postgres, now):
    if not is_postgres:
        pytest.skip("the plans checked are PostgreSQL's")
    net = scenario.build(make, now=now)
    with db.engine.begin() as conn:
        _past(conn, net)
    headers = bearer(make.token(net.reporter))
    sent: list[tuple[str, object]] = []

    def catch(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE")):
            sent.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", catch)
    try:
        response = client.post("/api/v1/incidents", headers=headers, json={
            "threat_type": "raid", "severity": 4, "country": "ke", "needs": ["legal", "communications"],
            "summary": scenario.SECRET_SUMMARY})
    finally:
        event.remove(db.engine, "before_cursor_execute", catch)
    assert response.status_code == 201, response.json
    assert any("notifications" in s and "count" in s for s, _ in sent)  # the fan-out cap was asked
    scans = []
    with db.engine.connect() as conn:
        for statement, parameters in sent:
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            scans += [(table, statement, plan) for table in GROWING if f"Seq Scan on {table}" in plan]
    assert not scans, "\n\n".join(f"{table}:\n{statement}\n{plan}" for table, statement, plan in scans)

"""GET /metrics for Prometheus: off (404) until METRICS_TOKEN is set, then only with that token."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, current_app, request

from solidarity import metrics
from solidarity.clock import utcnow
from solidarity.extensions import db
from solidarity.notify import outbox

bp = Blueprint("metrics", __name__)


def outbox_collector(app: Flask) -> metrics.OutboxCollector:
    """The outbox gauges, read in an app context of their own (with its own session, removed after):
    the worker's metrics thread has none, and a scrape must hold nothing open."""
    def read():
        with app.app_context():
            now = utcnow()
            return now, outbox.depth(db.session, now=now)
    return metrics.OutboxCollector(read)


@bp.get("/metrics")
def metrics_page():
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)  # never public: without a token there is no endpoint at all
    if not metrics.token_matches(token, request.headers.get("Authorization")):
        return Response("metrics need the bearer token (METRICS_TOKEN)\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(metrics.render(outbox_collector(current_app._get_current_object())), mimetype=metrics.CONTENT_TYPE)

"""The coordinators' console and indicators pages: the whole picture at a glance, read-only.

Thin views over incidents.console and incidents.indicators; the charts are drawn here (web/charts.py)
because they are presentation, and each comes with a table of the same numbers.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from solidarity.clock import utcnow
from solidarity.errors import Forbidden, ValidationError
from solidarity.extensions import db, settings
from solidarity.geo import region_name
from solidarity.incidents import console, indicators
from solidarity.incidents.indicators import Indicators
from solidarity.incidents.models import SEVERITIES
from solidarity.members.models import Vetting
from solidarity.offers.models import WORLD
from solidarity.playbook.models import THREAT_LABELS
from solidarity.web.charts import Chart, bar_chart

bp = Blueprint("console", __name__, url_prefix="/coordinator")

VETTING_LABELS = {Vetting.applied: "Applying", Vetting.vetted: "Vetted", Vetting.suspended: "Suspended",
                  Vetting.rejected: "Rejected"}


@bp.before_request
@login_required
def _coordinators_only():
    if not current_user.is_coordinator:
        raise Forbidden("only coordinators see the console and the indicators")


@bp.app_template_filter("duration")
def duration(value: timedelta | float | None) -> str:
    """'2 d 3 h', '3 h 20 min', '45 min': as precise as a coordinator deciding what to do needs."""
    if value is None:
        return "–"
    minutes = int((value.total_seconds() if isinstance(value, timedelta) else value) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _area(code: str) -> str:
    return "Worldwide" if code == WORLD else region_name(code)


@bp.get("/console")
def index():
    now = utcnow()
    rows = console.open_incidents(db.session, now=now)
    network = console.network(db.session, now=now)
    return render_template("coordinator/console.html", rows=rows, network=network,
                           unanswered=sum(not r.answered for r in rows), severities=SEVERITIES,
                           threat_labels=THREAT_LABELS, vetting_labels=VETTING_LABELS,
                           offers=_offers_table(network.offers), area=_area)


def _offers_table(offers) -> list[tuple[str, dict[str, int]]]:
    """Rows of (area, {help type: offers}), worldwide first, then regions by name."""
    table: dict[str, dict[str, int]] = {}
    for offer in offers:
        table.setdefault(offer.region, {})[offer.help_type] = offer.offers
    return sorted(table.items(), key=lambda item: (item[0] != WORLD, _area(item[0])))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _charts(found: Indicators) -> dict[str, Chart]:
    threats = sorted({THREAT_LABELS.get(row.threat_type, row.threat_type) for row in found.incidents_per_month})
    per_month: dict[str, dict[str, float]] = {month: {} for month in found.window.months()}
    for row in found.incidents_per_month:
        per_month[row.month][THREAT_LABELS.get(row.threat_type, row.threat_type)] = row.incidents
    first, acc, cov = found.first_acceptance, found.acceptance, found.needs_covered
    hours = [(label, {"hours": seconds / 3600}) for label, seconds in
             (("Median", first.median_seconds), ("90th percentile", first.p90_seconds)) if seconds is not None]
    help_types = [h for h in settings()["HELP_TYPES"] if any(o.help_type == h for o in found.offers)]
    offers = [(_area(region), {h.replace("_", " "): n for h, n in values.items()})
              for region, values in _offers_table(found.offers)]
    return {
        "per_month": bar_chart(
            "chart-per-month", "Incidents per month by threat type",
            f"{sum(r.incidents for r in found.incidents_per_month)} incidents filed from {found.window.since} "
            f"to {found.window.until}, one bar per month, coloured by threat type.",
            list(per_month.items()), series=threats),
        "first_acceptance": bar_chart(
            "chart-first-acceptance", "Time to first acceptance",
            f"Of {first.incidents} incidents, {first.accepted} had a responder accept. Median and 90th "
            f"percentile of the time from filing to the first acceptance, in hours.",
            hours, series=["hours"], fmt=lambda h: duration(h * 3600)),
        "acceptance": bar_chart(
            "chart-acceptance", "Requests to responders by answer",
            f"{acc.asked} requests; acceptance rate {_percent(acc.rate)} of {acc.answered} answered.",
            [(label, {"requests": n}) for label, n in (("Accepted", acc.accepted), ("Declined", acc.declined),
                                                       ("Expired", acc.expired), ("Awaiting answer", acc.waiting))],
            series=["requests"]),
        "needs_covered": bar_chart(
            "chart-needs-covered", "Incidents by needs covered",
            f"{_percent(cov.share)} of {cov.incidents} incidents (withdrawn ones left out) had every need covered.",
            [(label, {"incidents": n}) for label, n in (("Every need", cov.every), ("Some needs", cov.some),
                                                        ("No need", cov.none))],
            series=["incidents"]),
        "offers": bar_chart(
            "chart-offers", "Offers by help type and region",
            "Usable offers (active, recently confirmed, of vetted members) reaching each region, coloured by "
            "help type; an offer reaching several regions counts in each.",
            offers, series=[h.replace("_", " ") for h in help_types]),
    }


# The window's rules name the API's parameters; the page calls them From and To.
WINDOW_MESSAGES = {"must be on or before until": "From must be on or before To. Swap the dates or change one."}


@bp.get("/indicators")
def indicators_page():
    now = utcnow()
    typed = {name: request.args.get(name) or "" for name in ("since", "until")}
    errors: dict[str, list[str]] = {}
    try:
        win = indicators.window(indicators.parse_day(typed["since"], "since"),
                                indicators.parse_day(typed["until"], "until"), now=now)
    except ValidationError as exc:
        # The dates come back as typed, the problem beside them, and the default window's numbers below.
        for error in exc.errors:
            errors.setdefault(error.field, []).append(WINDOW_MESSAGES.get(error.message, error.message))
        win = indicators.window(None, None, now=now)
    found = indicators.compute(db.session, win, now=now)
    return render_template("coordinator/indicators.html", found=found, charts=_charts(found),
                           threat_labels=THREAT_LABELS, percent=_percent, area=_area,
                           offers=_offers_table(found.offers), errors=errors, typed=typed), 422 if errors else 200


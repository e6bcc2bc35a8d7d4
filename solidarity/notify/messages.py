"""What each notification and SMS reply says, in the recipient's language.

Rendering reads four parameters and nothing else: the reference code, the help type, the status and
a reason code. Each is reduced to a safe shape (an alphanumeric code, a known word), so whatever a
caller puts in a notification's params, no summary, details, organisation name or place can reach
an SMS or an email. Bodies say which help is asked, the reference, how to answer, and a link.

Translations are gettext catalogues: solidarity/translations/<lang>/LC_MESSAGES/notify.po,
compiled in memory when first used (no .mo files to build or commit). Strings are marked with
N_() below; `pybabel extract -k N_ -o solidarity/translations/notify.pot solidarity/notify/messages.py`
then `pybabel update -D notify -i solidarity/translations/notify.pot -d solidarity/translations`
keeps the catalogues in step. No brand name in SMS: it costs room in a 70-character UCS-2 segment
and tells whoever reads a seized phone what the network is.
"""
from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup

from solidarity.notify import links, segments
from solidarity.notify.models import Channel

CATALOGUES = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "notify"
DEFAULT_LANGUAGE = "en"
RTL = {"ar", "fa", "he", "ur"}


def N_(text: str) -> str:  # noqa: N802 - the gettext marker's customary name
    """Marks a string for extraction; translation happens at render time."""
    return text


HELP_NAMES = {
    "legal": N_("legal help"),
    "communications": N_("communications help"),
    "diplomatic": N_("diplomatic help"),
    "digital_security": N_("digital security help"),
    "emergency_funds": N_("emergency funds"),
    "relocation": N_("relocation help"),
}
STATUS_NAMES = {
    "open": N_("open"),
    "responding": N_("being helped"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "withdrawn": N_("withdrawn"),
}
REASONS = {
    "exhausted": N_("no one accepted"),
    "no_candidates": N_("no responder found"),
    "checkin_missed": N_("a check-in was missed"),
    "lockdown": N_("an organisation was locked down"),
    "checkin_confirmed": N_("the missed check-in was confirmed"),
}
REASON_OTHER = N_("please take a look")
STATUS_OTHER = N_("updated")

SMS = {
    "match_request": N_("{help} needed, case {ref}. Reply YES {ref} to accept or NO {ref} to decline."),
    "match_accepted": N_("Case {ref}: a member accepted to give {help}. Sign in to see who."),
    "match_declined": N_("Case {ref}: a member declined {help}. We are asking others."),
    "incident_status": N_("Case {ref} is now {status}."),
    "coordinator_alert": N_("Case {ref} needs a coordinator: {reason}."),
    "checkin_due": N_("Check-in due for case {ref}. Reply OK {ref} if you are safe."),
    "checkin_missed": N_("Check-in for case {ref} was missed. Sign in to see who and act."),
    "checkin_confirmed": N_("Check-in for case {ref} was confirmed after it was missed."),
    "offer_reminder": N_("Please confirm your offer of {help}: sign in, or it will no longer be matched."),
    "directory_alert": N_("A member organisation has no active person left. Sign in to review it."),
    # To responders helping an organisation that was locked down: the reference, nothing about why.
    "case_paused": N_("Case {ref}: please pause and wait for a coordinator to contact you."),
    # A new post in a case's conversation (incidents/messages.py): never its text or who wrote it.
    "thread_message": N_("New message on case {ref}. Sign in to read it."),
}
# Alerts that are worthless when late: Twilio drops them after TWILIO_URGENT_VALIDITY seconds, and
# the status callback then moves them to email.
URGENT = {"match_request", "coordinator_alert", "checkin_due", "checkin_missed", "case_paused"}

REPLIES = {
    "accepted": N_("Thank you: you accepted case {ref}. Sign in to see the details."),
    "declined": N_("Noted: you declined case {ref}."),
    "no_request": N_("No open request {ref} for you. Check the code."),
    "which": N_("Several requests wait for you: {refs}. Reply YES or NO with the code."),
    "none_pending": N_("No request is waiting for your answer."),
    "closed": N_("Case {ref} no longer takes answers."),
    "stop": N_("No more SMS from us: alerts go to your email. Reply START to resume."),
    "start": N_("SMS alerts are on again. Reply STOP to end them."),
    "help": N_("Answer: YES code or NO code. Report: RAID, ARREST, FREEZE or HELP LEGAL."),
    "received": N_("Message received."),
    "filed": N_("Report received: case {ref}. Members are being asked for help."),
    "not_filed": N_("Not filed. Sign in to report, or call your coordinator."),
    "checkin_ok": N_("Check-in {ref} confirmed. Thank you; stay safe."),
    "no_checkin": N_("No single check-in waits for you. Reply OK and its code."),
    # `K7QF <text>` to a case's conversation: the acknowledgement repeats none of the text.
    "posted": N_("Posted to case {ref}."),
    "too_long": N_("Too long for one SMS: please write on the web, case {ref}."),
    "no_thread": N_("No conversation {ref} for you. Check the code."),
    "not_posted": N_("Not posted to case {ref}. Please use the web."),
}

SUBJECTS = {
    "match_request": N_("Help requested: {help}, case {ref}"),
    "match_accepted": N_("Case {ref}: {help} accepted"),
    "match_declined": N_("Case {ref}: {help} declined"),
    "incident_status": N_("Case {ref} is now {status}"),
    "coordinator_alert": N_("Case {ref} needs a coordinator"),
    "checkin_due": N_("Check-in due for case {ref}"),
    "checkin_missed": N_("Check-in missed for case {ref}"),
    "checkin_confirmed": N_("Check-in confirmed for case {ref}"),
    "offer_reminder": N_("Please confirm your offer of {help}"),
    "directory_alert": N_("A member organisation has no active person left"),
    "case_paused": N_("Case {ref}: please wait for a coordinator"),
    "thread_message": N_("New message on case {ref}"),
}
REQUEST_PARAGRAPHS = (
    N_("A member organisation asks for {help}. Case reference: {ref}."),
    N_("Its details are shown to your organisation only after it accepts."),
    N_("Answer with a link below (you will be asked to sign in; each link works once and expires after a "
       "few days), or reply YES {ref} or NO {ref} to our SMS."),
)
ACCEPT_LABEL = N_("Accept case {ref}")
DECLINE_LABEL = N_("Decline case {ref}")
SIGN_IN_LABEL = N_("Sign in to Solidarity")
FOOTER = N_("You receive this because your organisation is a member of the Solidarity network.")

_REF = re.compile(r"[^A-Z0-9]")
MAX_REFS = 3  # in the "which request?" reply: three 6-character codes still fit a UCS-2 segment
_CODE = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None = None
    html: str | None = None
    urgent: bool = False


@functools.lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """The compiled catalogue for `language`; English (the msgids) when there is none."""
    path = CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@functools.lru_cache(maxsize=1)
def shipped_languages() -> tuple[str, ...]:
    return (DEFAULT_LANGUAGE, *sorted(p.name for p in CATALOGUES.iterdir()
                                      if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()))


def language_of(preferred: str | None) -> str:
    """The recipient's language when we ship a catalogue for it, else English."""
    return preferred if preferred in shipped_languages() else DEFAULT_LANGUAGE


def _safe_values(params: Mapping[str, Any], gettext) -> dict[str, str]:
    """The only values a message may show, each reduced to a shape that cannot carry free text."""
    ref = _REF.sub("", str(params.get("ref") or "").upper())[:8] or "?"
    help_code = _CODE.sub("", str(params.get("help_type") or "").lower())[:40]
    if help_code in HELP_NAMES:
        help_name = gettext(HELP_NAMES[help_code])
    else:  # a help type added in config (EXTRA_HELP_TYPES) has no translation: show its code
        help_name = help_code.replace("_", " ") or gettext(HELP_NAMES["legal"])
    status = str(params.get("status") or "")
    reason = str(params.get("reason") or "")
    refs = [_REF.sub("", str(r).upper())[:8] for r in (params.get("refs") or ())][:MAX_REFS]
    try:  # the case page's id, for the email's link: a UUID or nothing
        case = str(uuid.UUID(str(params.get("case"))))
    except ValueError:
        case = ""
    return {"ref": ref, "help": help_name,
            "status": gettext(STATUS_NAMES.get(status, STATUS_OTHER)),
            "reason": gettext(REASONS.get(reason, REASON_OTHER)),
            "refs": ", ".join(r for r in refs if r), "case": case}


def _fill(text: str, values: Mapping[str, str]) -> str:
    return text.format_map(values)


def render_sms(template: str, params: Mapping[str, Any], language: str) -> str:
    gettext = translations(language).gettext
    return segments.fit(_fill(gettext(SMS[template]), _safe_values(params, gettext)))


def reply(key: str, language: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The text of an answer to an inbound SMS."""
    gettext = translations(language).gettext
    return segments.fit(_fill(gettext(REPLIES[key]), _safe_values(params, gettext)))


def render_email(template: str, params: Mapping[str, Any], language: str, *,
                 answer_links: tuple[str, str] | None, home_url: str) -> Rendered:
    """Subject, plain text and HTML. `answer_links` are the accept and decline URLs of a request."""
    gettext = translations(language).gettext
    values = _safe_values(params, gettext)
    if template == "match_request":
        paragraphs = [_fill(gettext(p), values) for p in REQUEST_PARAGRAPHS]
        actions = ([(_fill(gettext(ACCEPT_LABEL), values), answer_links[0]),
                    (_fill(gettext(DECLINE_LABEL), values), answer_links[1])] if answer_links
                   else [(gettext(SIGN_IN_LABEL), home_url)])
    else:
        paragraphs = [_fill(gettext(SMS[template]), values)]
        # A case's page when the notice is about one (sign-in comes first), else the home page.
        actions = [(gettext(SIGN_IN_LABEL), f"{home_url}incidents/{values['case']}" if values["case"] else home_url)]
    footer = gettext(FOOTER)
    text = "\n\n".join([*paragraphs, *(f"{label}:\n{url}" for label, url in actions), "-- \n" + footer]) + "\n"
    direction = "rtl" if language in RTL else "ltr"
    html = Markup('<!doctype html><html lang="{}" dir="{}"><body>').format(language, direction)
    html += Markup("").join(Markup("<p>{}</p>").format(p) for p in paragraphs)
    html += Markup("").join(Markup('<p><a href="{}">{}</a></p>').format(url, label) for label, url in actions)
    html += Markup("<hr><p><small>{}</small></p></body></html>").format(footer)
    return Rendered(body=text, subject=_fill(gettext(SUBJECTS[template]), values), html=str(html),
                    urgent=template in URGENT)


def render(template: str, channel: Channel, params: Mapping[str, Any], language: str, *,
           user_id: uuid.UUID, match_id: uuid.UUID | None, config: Mapping[str, Any], now: datetime) -> Rendered:
    """Render one outbox row for one recipient. Email requests get fresh signed answer links."""
    if template not in SMS:
        raise KeyError(f"unknown notification template {template!r}")
    if channel is Channel.sms:
        return Rendered(body=render_sms(template, params, language), urgent=template in URGENT)
    answer_links = None
    if template == "match_request" and match_id is not None:
        secret, public = config["SECRET_KEY"], config["PUBLIC_URL"]
        answer_links = tuple(
            links.answer_url(public, links.make_token(secret, links.AnswerLink(match_id, user_id, accept), now=now))
            for accept in (True, False))
    return render_email(template, params, language, answer_links=answer_links,
                        home_url=config["PUBLIC_URL"].rstrip("/") + "/")


def answer_link_max_age(config: Mapping[str, Any]) -> timedelta:
    return timedelta(seconds=float(config.get("ANSWER_LINK_MAX_AGE_SECONDS") or 3 * 24 * 3600))

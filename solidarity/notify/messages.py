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
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup

from solidarity.clock import wait_in_words
from solidarity.notify import links, recovery, segments
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
    # Only the code and what it is for: sent to a number nobody has proven yet (members/phones.py).
    "phone_code": N_("Code to confirm this number: {code}. Enter it on your account page or reply with it."),
    # A new post in a case's conversation (incidents/messages.py): never its text or who wrote it.
    "thread_message": N_("New message on case {ref}. Sign in to read it."),
}
# Sent by email only, so not bound to one SMS segment.
EMAIL_TEXTS = {
    # To an address someone used on the public application form (members.service.apply).
    "registration_attempt": N_("Someone tried to register with your email address. If it was you, sign in: you "
                               "have an account. If not, ignore this."),
    # To the first admin of a public application: proves the mailbox before the password works.
    "confirm_email": N_("Please confirm your email address to finish your organisation's application. The link "
                        "works for three days. If you did not apply, ignore this."),
    # To the people of an applicant a coordinator rejected (members.service.reject_application).
    "application_rejected": N_("Your organisation's application to the network was not accepted. Sign in to "
                               "read the coordinators' reason."),
}
CONFIRM_LABEL = N_("Confirm my email address")
# Alerts that are worthless when late: Twilio drops them after TWILIO_URGENT_VALIDITY seconds, and
# the status callback then moves them to email.
URGENT = {"match_request", "coordinator_alert", "checkin_due", "checkin_missed", "case_paused", "phone_code"}

REPLIES = {
    "accepted": N_("Thank you: you accepted case {ref}. Sign in to see the details."),
    "declined": N_("Noted: you declined case {ref}."),
    "no_request": N_("No open request {ref} for you. Check the code."),
    "which": N_("Several requests wait for you: {refs}. Reply YES or NO with the code."),
    "none_pending": N_("No request is waiting for your answer."),
    "closed": N_("Case {ref} no longer takes answers."),
    "full": N_("Case {ref} goes to others: your organisation is at its capacity ({capacity})."),
    "taken": N_("Case {ref} was already answered by your organisation at {time} UTC."),
    "stop": N_("No more SMS from us: alerts go to your email. Reply START to resume."),
    "start": N_("SMS alerts are on again. Reply STOP to end them."),
    "help": N_("Answer: YES code or NO code. Report: RAID, ARREST, FREEZE or HELP LEGAL."),
    # Past the sender's allowance (SMS_RATE_LIMIT_PHONE): nothing was done, and when to try again.
    "limited": N_("Too many messages. Nothing was done. Send again in {wait}."),
    "received": N_("Message received."),
    "filed": N_("Report received: case {ref}. Members are being asked for help."),
    "not_filed": N_("Not filed. Sign in to report, or call your coordinator."),
    "checkin_ok": N_("Check-in {ref} confirmed. Thank you; stay safe."),
    "no_checkin": N_("No single check-in waits for you. Reply OK and its code."),
    "phone_confirmed": N_("This number is confirmed. Thank you."),
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
    "phone_code": N_("Your code to confirm a phone number"),
    "registration_attempt": N_("Someone tried to register with your email address"),
    "confirm_email": N_("Please confirm your email address"),
    "application_rejected": N_("Your organisation's application was not accepted"),
    "thread_message": N_("New message on case {ref}"),
}
REQUEST_PARAGRAPHS = (
    N_("A member organisation asks for {help}. Case reference: {ref}."),
    N_("Its details are shown to your organisation only after it accepts."),
    N_("Answer with a link below (you will be asked to sign in; each link works once and expires after a "
       "few days), or reply YES {ref} or NO {ref} to our SMS."),
)
# Appended to the replies in WITH_EMERGENCY when EMERGENCY_CONTACT is set. The number matters more
# than the cost, so it is added even when it makes the reply two segments.
EMERGENCY = N_("Emergency: {contact}")
WITH_EMERGENCY = {"help", "limited"}
# Password recovery (notify/recovery.py): email only, with a link made when the email is rendered.
RESET_SUBJECT = N_("Choose a new password")
RESET_PARAGRAPHS = (
    N_("Someone asked to reset the password of your account. If it was you, choose a new one with the "
       "link below. It works once, within {wait}."),
    N_("If it was not you, ignore this email: your password stays as it is."),
)
# Never sent by SMS, never falls back to SMS: the texts above and the password link.
EMAIL_ONLY = {recovery.TEMPLATE, *EMAIL_TEXTS}
ACCEPT_LABEL = N_("Accept case {ref}")
DECLINE_LABEL = N_("Decline case {ref}")
SIGN_IN_LABEL = N_("Sign in to Solidarity")
OPEN_CASE_LABEL = N_("Open case {ref}")
# Where an email's button leads when the message is not about one incident (paths of web pages).
PAGES = {"offer_reminder": "/organisation", "directory_alert": "/coordinator/organisations",
         "coordinator_alert": "/coordinator/console", "checkin_due": "/checkins", "checkin_missed": "/checkins",
         "checkin_confirmed": "/checkins"}
FOOTER = N_("You receive this because your organisation is a member of the Solidarity network.")

_REF = re.compile(r"[^A-Z0-9]")
MAX_REFS = 3  # in the "which request?" reply: three 6-character codes still fit a UCS-2 segment
_CODE = re.compile(r"[^a-z0-9_]")
_PHONE = re.compile(r"[^0-9+ ]")


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


def _safe_values(params: Mapping[str, Any], gettext, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
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
    capacity = params.get("capacity")
    at = params.get("at")
    try:
        wait = wait_in_words(float(params.get("wait_seconds") or 0), locale=language)
    except ValueError:
        wait = ""
    code = "".join(c for c in str(params.get("code") or "") if c.isascii() and c.isdigit())[:8]
    return {"ref": ref, "code": code, "help": help_name, "wait": wait,
            "capacity": str(capacity) if isinstance(capacity, int) else "?",
            "time": f"{at.astimezone(timezone.utc):%H:%M}" if isinstance(at, datetime) else "?",
            # The network's emergency number (EMERGENCY_CONTACT): digits, + and spaces only.
            "contact": _PHONE.sub("", str(params.get("contact") or "")).strip()[:24],
            "status": gettext(STATUS_NAMES.get(status, STATUS_OTHER)),
            "reason": gettext(REASONS.get(reason, REASON_OTHER)),
            "refs": ", ".join(r for r in refs if r)}


def _fill(text: str, values: Mapping[str, str]) -> str:
    return text.format_map(values)


def render_sms(template: str, params: Mapping[str, Any], language: str) -> str:
    gettext = translations(language).gettext
    return segments.fit(_fill(gettext(SMS[template]), _safe_values(params, gettext)))


def reply(key: str, language: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The text of an answer to an inbound SMS; `help` and `limited` name the `contact`
    (EMERGENCY_CONTACT) when there is one."""
    gettext = translations(language).gettext
    values = _safe_values(params, gettext, language)
    text = _fill(gettext(REPLIES[key]), values)
    if values["contact"] and key in WITH_EMERGENCY:
        text = f"{text} {_fill(gettext(EMERGENCY), values)}"
    return segments.fit(text)


def page_url(public_url: str, template: str, incident_id: uuid.UUID | None) -> str:
    """The page of the thing a message is about: its incident, else the page that acts on it."""
    base = public_url.rstrip("/")
    if incident_id is not None:
        return f"{base}/incidents/{incident_id}"
    return base + PAGES.get(template, "/")


def render_email(template: str, params: Mapping[str, Any], language: str, *,
                 answer_links: tuple[str, str] | None, home_url: str, case_url: str | None = None,
                 confirm_link: str | None = None) -> Rendered:
    """Subject, plain text and HTML. `answer_links` are the accept and decline URLs of a request;
    `case_url` is the page of the incident it is about, `home_url` where to go otherwise;
    `confirm_link` confirms an applicant's address."""
    gettext = translations(language).gettext
    values = _safe_values(params, gettext)
    button = (_fill(gettext(OPEN_CASE_LABEL), values), case_url) if case_url else (gettext(SIGN_IN_LABEL), home_url)
    if template == "match_request":
        paragraphs = [_fill(gettext(p), values) for p in REQUEST_PARAGRAPHS]
        actions = ([(_fill(gettext(ACCEPT_LABEL), values), answer_links[0]),
                    (_fill(gettext(DECLINE_LABEL), values), answer_links[1])] if answer_links
                   else [button])
    else:
        paragraphs = [_fill(gettext(SMS.get(template) or EMAIL_TEXTS[template]), values)]
        actions = [(gettext(CONFIRM_LABEL), confirm_link) if confirm_link else button]
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
           user_id: uuid.UUID, match_id: uuid.UUID | None, config: Mapping[str, Any], now: datetime,
           incident_id: uuid.UUID | None = None) -> Rendered:
    """Render one outbox row for one recipient. Email requests get fresh signed answer links."""
    if template in EMAIL_ONLY and channel is not Channel.email:
        raise ValueError(f"{template} goes by email only")
    if template == recovery.TEMPLATE:
        return _render_reset(params, language, user_id=user_id, config=config)
    if template not in SMS and template not in EMAIL_TEXTS:
        raise KeyError(f"unknown notification template {template!r} on {channel.value}")
    if channel is Channel.sms:
        return Rendered(body=render_sms(template, params, language), urgent=template in URGENT)
    answer_links = None
    if template == "match_request" and match_id is not None:
        secret, public = config["SECRET_KEY"], config["PUBLIC_URL"]
        answer_links = tuple(
            links.answer_url(public, links.make_token(secret, links.AnswerLink(match_id, user_id, accept), now=now))
            for accept in (True, False))
    public = config["PUBLIC_URL"]
    confirm_link = None
    if template == "confirm_email":  # signed at send time, like the answer links: never in the outbox
        confirm_link = (public.rstrip("/") + links.CONFIRM_PATH
                        + links.make_confirm_token(config["SECRET_KEY"], user_id, now=now))
    return render_email(template, params, language, answer_links=answer_links,
                        home_url=page_url(public, template, None),
                        case_url=page_url(public, template, incident_id) if incident_id is not None else None,
                        confirm_link=confirm_link)


def _render_reset(params: Mapping[str, Any], language: str, *, user_id: uuid.UUID,
                  config: Mapping[str, Any]) -> Rendered:
    gettext = translations(language).gettext
    link = recovery.ResetLink(user_id, str(params["f"]))
    url = recovery.make_url(config["PUBLIC_URL"], config["SECRET_KEY"], link, asked_at=recovery.asked_at(params))
    wait = wait_in_words(float(config["PASSWORD_RESET_MAX_AGE_SECONDS"]), locale=language)
    paragraphs = [_fill(gettext(p), {"wait": wait}) for p in RESET_PARAGRAPHS]
    label, footer = gettext(RESET_SUBJECT), gettext(FOOTER)
    text = "\n\n".join([*paragraphs, f"{label}:\n{url}", "-- \n" + footer]) + "\n"
    direction = "rtl" if language in RTL else "ltr"
    html = Markup('<!doctype html><html lang="{}" dir="{}"><body>').format(language, direction)
    html += Markup("").join(Markup("<p>{}</p>").format(p) for p in paragraphs)
    html += Markup('<p><a href="{}">{}</a></p>').format(url, label)
    html += Markup("<hr><p><small>{}</small></p></body></html>").format(footer)
    return Rendered(body=text, subject=label, html=str(html), urgent=True)


def answer_link_max_age(config: Mapping[str, Any]) -> timedelta:
    return timedelta(seconds=float(config.get("ANSWER_LINK_MAX_AGE_SECONDS") or 3 * 24 * 3600))

"""Message texts: one SMS segment in every language, safe parameters only, complete catalogues."""
from __future__ import annotations

import re
import uuid
from email import message_from_string

import pytest
from babel.messages.pofile import read_po

from solidarity.notify import links, messages, segments
from solidarity.notify.models import Channel

LONGEST_REF = "WWWWWW"  # incidents.refs: at most 6 characters; W is as wide as any
SECRET = "Canary-Secret-Haki-Watch-Nairobi"
LANGUAGES = messages.shipped_languages()


def test_every_shipped_language_is_a_configured_language(app):
    assert set(LANGUAGES) == set(app.config["LANGUAGES"])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(messages.SMS))
def test_each_alert_fits_one_segment(app, language, template):
    for help_type in app.config["HELP_TYPES"]:
        for status in [*messages.STATUS_NAMES, "unknown"]:
            for reason in [*messages.REASONS, "unknown"]:
                body = messages.render_sms(template, {"ref": LONGEST_REF, "help_type": help_type, "status": status,
                                                      "reason": reason}, language)
                measure = segments.measure(body)
                assert measure.single, (language, template, help_type, measure, body)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(messages.REPLIES))
def test_each_sms_reply_fits_one_segment(language, key):
    body = messages.reply(key, language, ref=LONGEST_REF, refs=[LONGEST_REF] * 9)
    assert segments.measure(body).single, (language, key, segments.measure(body), body)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_translates_every_message_with_the_same_placeholders(language):
    with (messages.CATALOGUES / "notify.pot").open("rb") as source:
        template = read_po(source)
    with (messages.CATALOGUES / language / "LC_MESSAGES" / "notify.po").open("rb") as source:
        catalogue = read_po(source, locale=language)
    wanted = {m.id for m in template if m.id}
    translated = {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}
    assert wanted <= set(translated), sorted(wanted - set(translated))
    for msgid, text in translated.items():
        assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", msgid)), (language, msgid, text)


def test_every_marked_string_is_in_the_template_catalogue():
    with (messages.CATALOGUES / "notify.pot").open("rb") as source:
        in_pot = {m.id for m in read_po(source) if m.id}
    marked = {*messages.HELP_NAMES.values(), *messages.STATUS_NAMES.values(), *messages.REASONS.values(),
              *messages.SMS.values(), *messages.EMAIL_TEXTS.values(), *messages.REPLIES.values(),
              *messages.SUBJECTS.values(),
              *messages.REQUEST_PARAGRAPHS, messages.REASON_OTHER, messages.STATUS_OTHER, messages.ACCEPT_LABEL,
              messages.DECLINE_LABEL, messages.SIGN_IN_LABEL, messages.FOOTER, messages.EMERGENCY,
              messages.RESET_SUBJECT, *messages.RESET_PARAGRAPHS, messages.OPEN_CASE_LABEL, messages.CONFIRM_LABEL}
    assert marked == in_pot


def test_measure_counts_gsm7_septets_and_ucs2_units():
    assert segments.measure("a" * 160) == segments.Measure("GSM-7", 160, 1)
    assert segments.measure("a" * 161).segments == 2
    assert segments.measure("€" * 80) == segments.Measure("GSM-7", 160, 1)  # extension characters count twice
    assert segments.measure("ж" * 70) == segments.Measure("UCS-2", 70, 1)
    assert segments.measure("ж" * 71).segments == 2
    assert segments.measure("a" * 69 + "🙂").segments == 2  # a surrogate pair is two UTF-16 units


def test_long_latin_text_is_folded_to_gsm7_only_when_that_saves_a_segment():
    short = "Mensaje recibido: acción"
    assert segments.fit(short) == short  # fits 70 in UCS-2: accents kept
    long = "Se necesita: ayuda jurídica, caso WWWWWW. Responda YES WWWWWW para aceptar o NO WWWWWW para rechazar."
    folded = segments.fit(long)
    assert "juridica" in folded and segments.measure(folded).encoding == "GSM-7"
    assert segments.fold_to_gsm7("é ñ ü ç ã “x”") == 'é ñ ü c a "x"'


def test_rendering_reads_only_safe_parameters():
    hostile = {"ref": "k7qfh<script>", "help_type": "legal", "summary": SECRET, "details": SECRET,
               "organisation": SECRET, "country": SECRET, "status": SECRET, "reason": SECRET, "refs": [SECRET]}
    for language in LANGUAGES:
        for template in messages.SMS:
            assert SECRET.lower() not in messages.render_sms(template, hostile, language).lower()
            email = messages.render_email(template, hostile, language, answer_links=None,
                                          home_url="https://s.example/")
            for part in (email.subject, email.body, email.html):
                assert SECRET.lower() not in part.lower()
                assert "<script>" not in part
        assert "K7QFHSCR" in messages.render_sms("match_request", hostile, language)


def test_unknown_help_type_shows_its_code_and_unknown_template_is_refused():
    assert "psychosocial support" in messages.render_sms("match_request", {"ref": "K7QFH",
                                                                          "help_type": "psychosocial_support"}, "en")
    with pytest.raises(KeyError):
        messages.render("no_such_template", Channel.sms, {}, "en", user_id=uuid.uuid4(), match_id=None, config={},
                        now=None)


def test_request_email_has_text_and_html_with_signed_answer_links(app, now):
    match_id, user_id = uuid.uuid4(), uuid.uuid4()
    rendered = messages.render("match_request", Channel.email, {"ref": "K7QFH", "help_type": "legal"}, "ar",
                               user_id=user_id, match_id=match_id, config=app.config, now=now)
    assert rendered.urgent and "K7QFH" in rendered.subject
    urls = re.findall(r"https?://\S+/answer/\S+", rendered.body)
    assert len(urls) == 2 and all(url in rendered.html for url in urls)
    assert 'dir="rtl"' in rendered.html
    answers = [links.read_token(app.config["SECRET_KEY"], url.rsplit("/", 1)[1], now=now,
                                max_age=messages.answer_link_max_age(app.config)) for url in urls]
    assert answers == [links.AnswerLink(match_id, user_id, True), links.AnswerLink(match_id, user_id, False)]


def test_email_plain_text_part_is_readable_without_html():
    rendered = messages.render_email("incident_status", {"ref": "K7QFH", "status": "resolved"}, "fr",
                                     answer_links=None, home_url="https://s.example/")
    assert rendered.body.startswith("Le cas K7QFH est maintenant : résolu.")
    assert "https://s.example/" in rendered.body
    assert message_from_string("Subject: x\n\n" + rendered.body).get_payload().strip()


def test_language_falls_back_to_english():
    assert messages.language_of("ar") == "ar"
    assert messages.language_of("de") == "en"
    assert messages.language_of(None) == "en"

"""Forms of the membership, offer and account pages (Flask-WTF: each one carries a CSRF token).

Field names are the services' own, with `admin.email` written `admin_email`, so every field a
ValidationError names lands beside its input. The forms check nothing themselves but the CSRF
token: the services validate all fields at once, so one round trip shows every problem.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import pycountry
from babel import Locale
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from solidarity.errors import Conflict, DomainError, RateLimited, ValidationError
from solidarity.extensions import db
from solidarity.geo import REGIONS, region_name
from solidarity.members.models import Organisation, Role, User
from solidarity.members.passwords import MIN_LENGTH
from solidarity.offers.models import Offer
from solidarity.offers.service import MAX_CAPACITY

T = TypeVar("T")
PASSWORD_HINT = f"At least {MIN_LENGTH} characters. A few unrelated words you can remember are strong."
PHONE_HINT = ("In international form, e.g. +254712345678, or as you dial it in your country. We text it a code "
              "to confirm it is yours; urgent requests come by SMS once it is confirmed. Stored encrypted.")


@lru_cache(maxsize=1)
def country_choices() -> tuple[SelectChoice, ...]:
    return tuple(SelectChoice(c.alpha_2, c.name) for c in sorted(pycountry.countries, key=lambda c: c.name))


@lru_cache(maxsize=None)
def language_name(code: str) -> str:
    # Babel's CLDR names read as people say them ("Swahili"); pycountry's are ISO's ("Swahili (macrolanguage)").
    return Locale.parse("en").languages.get(code, code)


def languages_hint() -> str:
    return "Choose every language you work in. Hold Ctrl (Cmd on a Mac) to choose several."


@lru_cache(maxsize=1)
def language_choices() -> tuple[SelectChoice, ...]:
    """Every language with a two-letter code, by the name people use for it."""
    codes = {lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")}
    return tuple(sorted((SelectChoice(code, language_name(code)) for code in codes), key=lambda c: c.label))


class LanguagesField(SelectMultipleField):
    """A list of languages by name. Also reads "sw, en" typed or sent as one value (the API's and
    scripts' form), so both shapes reach the same service check."""

    def __init__(self, label: str, **kwargs):
        kwargs.setdefault("render_kw", {"size": 8})
        super().__init__(label, validate_choice=False, **kwargs)
        self.choices = list(language_choices())

    def process_formdata(self, valuelist):
        self.data = [part for value in valuelist for part in value.replace(",", " ").split() if part]


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ServiceForm(FlaskForm):
    """A form whose input one service call validates and stores."""

    def submit(self, call: Callable[[], T]) -> T | None:
        """Run `call` when the form was posted with a valid CSRF token. On a ValidationError, or a
        conflict or limit naming a field (the service wrote nothing), put each message beside the
        field it names and return None."""
        if not self.validate_on_submit():
            return None
        try:
            return call()
        except (ValidationError, Conflict, RateLimited) as exc:
            if not isinstance(exc, ValidationError) and not exc.field:
                raise
            db.session.rollback()
            self.show_errors(exc)
            return None

    def show_errors(self, exc: DomainError) -> None:
        for error in exc.errors:
            target = self._fields.get(error.field.replace(".", "_"))
            if target is None or target is self._fields.get("csrf_token"):
                self.form_errors.append(f"{error.field}: {error.message}" if error.field else error.message)
            else:
                target.errors = [*target.errors, error.message]

    @property
    def status(self) -> int:
        """The page's status code: 422 when the form is shown again with errors."""
        return 422 if self.errors else 200


class OrganisationForm(ServiceForm):
    name = StringField("Organisation name", render_kw={"autocomplete": "organization"})
    country = SelectField("Country where you are based", validate_choice=False)
    languages = LanguagesField("Languages you work in")
    consent_share_contacts = BooleanField(
        "Our contact people's names, phones and emails may be shared with member organisations that help us",
        description="You can change this at any time.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", "Choose a country"), *country_choices()]
        self.languages.description = languages_hint()

    def fill(self, org: Organisation) -> OrganisationForm:
        if not self.is_submitted():
            self.name.data, self.country.data = org.name, org.country
            self.languages.data = list(org.languages)
            self.consent_share_contacts.data = org.consent_share_contacts
        return self

    def org_data(self) -> dict:
        return {"name": self.name.data, "country": self.country.data, "languages": self.languages.data,
                "consent_share_contacts": self.consent_share_contacts.data}


class ApplyForm(OrganisationForm):
    admin_name = StringField("Your name", render_kw={"autocomplete": "name"})
    admin_email = EmailField("Your email", description="You sign in with it. Stored encrypted.",
                             render_kw={"autocomplete": "email"})
    admin_phone = TelField("Your mobile phone (optional)", description=PHONE_HINT, render_kw={"autocomplete": "tel"})
    admin_password = PasswordField("Choose a password", description=PASSWORD_HINT,
                                   render_kw={"autocomplete": "new-password"})

    def admin_data(self) -> dict:
        return {"name": self.admin_name.data, "email": self.admin_email.data, "phone": self.admin_phone.data,
                "password": self.admin_password.data}


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, language_name(code)) for code in current_app.config["LANGUAGES"]]


class AccountForm(ServiceForm):
    name = StringField("Name", render_kw={"autocomplete": "name"})
    email = EmailField("Email", render_kw={"autocomplete": "email"})
    phone = TelField("Mobile phone", description=PHONE_HINT + " Leave empty to get no SMS.",
                     render_kw={"autocomplete": "tel"})
    preferred_language = SelectField("Language for messages", validate_choice=False)
    notify_sms = BooleanField("Send me alerts by SMS")
    notify_email = BooleanField("Send me alerts by email")
    current_password = PasswordField("Your password", render_kw={"autocomplete": "current-password"},
                                     description="Needed only to change your email or phone.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.preferred_language.choices = _language_choices()

    def fill(self, user: User, *, always: bool = False) -> AccountForm:
        """The user's current values, unless the form was posted (then it shows what was typed)."""
        if always or not self.is_submitted():
            self.name.data, self.email.data, self.phone.data = user.name, user.email, user.phone or ""
            self.preferred_language.data = user.preferred_language
            self.notify_sms.data, self.notify_email.data = user.notify_sms, user.notify_email
        return self

    def user_data(self) -> dict:
        return {name: self[name].data for name in
                ("name", "email", "phone", "preferred_language", "notify_sms", "notify_email", "current_password")}


class NewUserForm(ServiceForm):
    name = StringField("Name")
    email = EmailField("Email")
    phone = TelField("Mobile phone (optional)", description=PHONE_HINT)
    role = SelectField("Role", validate_choice=False, choices=[
        SelectChoice(Role.member.value, "Member: reports incidents and answers requests"),
        SelectChoice(Role.org_admin.value, "Admin: also manages the profile, people and offers")])
    preferred_language = SelectField("Language for messages", validate_choice=False)
    password = PasswordField("First password", render_kw={"autocomplete": "new-password"},
                             description=PASSWORD_HINT + " Give it to them in person; they change it under "
                                                         "My account.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.preferred_language.choices = _language_choices()

    def user_data(self) -> dict:
        return {name: self[name].data for name in ("name", "email", "phone", "role", "preferred_language",
                                                   "password")}


class PhoneCodeForm(ServiceForm):
    code = StringField("Code from the SMS", render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
                       description="The 6 digits we texted to your new number.")


class PinForm(ServiceForm):
    pin = PasswordField("SMS PIN", render_kw={"autocomplete": "off", "inputmode": "numeric"},
                        description="4 to 8 digits. Every SMS report and every YES/NO answer from your people must "
                                    "then carry it, e.g. RAID 4821, so a seized phone alone cannot act for you. "
                                    "Leave empty to remove the PIN.")


class PasswordForm(ServiceForm):
    current_password = PasswordField("Current password", render_kw={"autocomplete": "current-password"})
    password = PasswordField("New password", description=PASSWORD_HINT, render_kw={"autocomplete": "new-password"})


class OfferForm(ServiceForm):
    help_type = SelectField("Help you offer", validate_choice=False)
    countries = SelectMultipleField("Countries", validate_choice=False, render_kw={"size": 8},
                                    description="Hold Ctrl (Cmd on a Mac) to choose several.")
    regions = Checkboxes("Regions", validate_choice=False)
    worldwide = BooleanField("Anywhere in the world")
    languages = LanguagesField("Languages you can help in")
    capacity = StringField("Cases you can take on at the same time", default="1",
                           widget=NumberInput(min=1, max=MAX_CAPACITY),
                           description="Matching stops asking you once this many accepted cases are open.")
    notes = TextAreaField("Notes", render_kw={"rows": 3, "maxlength": 4000},
                          description="Conditions, limits, who to ask. Seen by your organisation and the "
                                      "coordinators; stored encrypted.")
    active = BooleanField("Open to new requests", default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.description = languages_hint()
        self.help_type.choices = [SelectChoice(h, h.replace("_", " ").capitalize())
                                  for h in current_app.config["HELP_TYPES"]]
        self.countries.choices = list(country_choices())
        self.regions.choices = [SelectChoice(code, region_name(code)) for code in
                                sorted(REGIONS, key=region_name)]

    def fill_defaults(self, org: Organisation) -> OfferForm:
        """A new offer starts where the organisation is: its country and its languages."""
        if not self.is_submitted():
            self.countries.data, self.languages.data = [org.country], list(org.languages)
        return self

    def fill(self, offer: Offer) -> OfferForm:
        if not self.is_submitted():
            self.help_type.data, self.capacity.data = offer.help_type, str(offer.capacity)
            self.countries.data, self.regions.data = offer.countries, offer.regions
            self.worldwide.data, self.active.data = offer.worldwide, offer.active
            self.languages.data, self.notes.data = list(offer.languages), offer.notes or ""
        return self

    def offer_data(self, *, with_active: bool) -> dict:
        names = ("help_type", "countries", "regions", "worldwide", "languages", "capacity", "notes")
        data = {name: self[name].data for name in names}
        data["countries"], data["regions"] = data["countries"] or [], data["regions"] or []
        if with_active:
            data["active"] = self.active.data
        return data


class ActionForm(FlaskForm):
    """A button that changes state: the CSRF token is all it carries."""


class VettingForm(ActionForm):
    status = StringField()  # the value of the button pressed: vetted or suspended


class RejectForm(ActionForm):
    reason = TextAreaField("Reason", render_kw={"rows": 3, "maxlength": 1000},
                           description="The applicant reads this when they sign in. Say what they could do "
                                       "differently.")

"""A fictional network for trying Solidarity: `flask --app wsgi demo`.

Every organisation, person, phone number and address below is invented; the emails use reserved
example domains and the phone numbers are the numbering plans' own example numbers, varied in the
last digits, so nothing here can reach a real person. The data goes in through the real services,
so contacts and notes are encrypted and every step is in the audit trail, like real data.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from solidarity.members import service as members
from solidarity.members.models import Organisation, User, Vetting
from solidarity.offers import service as offers
from solidarity.offers.models import Offer
from solidarity.playbook import service as playbook

COORDINATOR_EMAIL, COORDINATOR_PASSWORD = "coordinator@solidarity.example", "demo-coordinator-pass"
MEMBER_EMAIL, MEMBER_PASSWORD = "admin@demo.example", "demo-member-pass"
# Responders with a password, so the responder's journey can be walked too: a report by the demo
# member (Kenya) asks Tamarind for legal help and Open Circuit for digital security.
RESPONDER_PASSWORD = "demo-responder-pass"
RESPONDERS = {"Tamarind Street Legal Clinic": "legal.responder@demo.example.org",
              "Open Circuit Digital Helpline": "digital.responder@demo.example.org"}


@dataclass(frozen=True)
class DemoOrg:
    name: str
    country: str
    languages: str
    admin: str
    # "help_type coverage capacity"; coverage: here (its country), region (its region), world,
    # or codes joined by "+": ISO countries (KE+UG) or M49 regions (013+005).
    offers: tuple[str, ...]
    status: Vetting = Vetting.vetted


APPLIED, SUSPENDED = Vetting.applied, Vetting.suspended

NETWORK = (
    # East Africa
    DemoOrg("Mwangaza Defenders Network", "KE", "sw en", "Achieng Otieno",
            ("legal here 3", "digital_security region 2")),
    DemoOrg("Tamarind Street Legal Clinic", "KE", "sw en", "Wanjiru Kamau", ("legal region 4",)),
    DemoOrg("Nile Bend Rights Forum", "UG", "en lg", "Denis Okello", ("communications here 2", "legal here 2")),
    DemoOrg("Abay Lawyers for Civic Space", "ET", "am en", "Selamawit Tesfaye", ("legal here 2",), APPLIED),
    DemoOrg("Ikaze Media Freedom Lab", "RW", "rw fr en", "Jean-Paul Habimana",
            ("digital_security here 1", "communications here 2")),
    # West Africa
    DemoOrg("Harmattan Press Freedom Desk", "NG", "en ha yo", "Chinedu Okafor",
            ("communications here 3", "legal here 2")),
    DemoOrg("Baobab Rights Watch", "SN", "fr wo", "Awa Ndiaye", ("legal region 2", "diplomatic region 1")),
    DemoOrg("Volta Accountability Forum", "GH", "en ak", "Kwame Asante", ("digital_security region 3",)),
    DemoOrg("Sahel Route Solidarity", "ML", "fr bm", "Moussa Traoré", ("relocation region 2",)),
    DemoOrg("Collectif Lagune Ébène", "CI", "fr", "Aya Kouassi", ("communications region 2",), APPLIED),
    # Southern Africa
    DemoOrg("Fynbos Digital Defence", "ZA", "en zu xh", "Thandiwe Mokoena",
            ("digital_security world 4", "communications here 2")),
    DemoOrg("Welwitschia Legal Defence Centre", "NA", "en af", "Ndapewa Shikongo", ("legal region 2",)),
    DemoOrg("Msasa Tree Legal Aid", "ZW", "en sn", "Tatenda Moyo", ("legal here 2", "emergency_funds here 1")),
    DemoOrg("Associação Maré Alta", "MZ", "pt", "Celeste Machava", ("communications MZ+AO 2",)),
    DemoOrg("Copperbelt Civic Watch", "ZM", "en ny", "Mwila Banda", ("legal ZM+MW+ZW 1",), SUSPENDED),
    # North Africa
    DemoOrg("Jasmine Lane Observatory", "TN", "ar fr", "Amira Ben Salah",
            ("legal here 2", "communications region 2")),
    DemoOrg("Atlas Cedar Rights Collective", "MA", "ar fr", "Youssef El Idrissi", ("digital_security region 2",)),
    DemoOrg("Delta Lantern Legal Network", "EG", "ar en", "Nour El-Sayed", ("legal here 3", "relocation 145 1")),
    DemoOrg("Two Niles Relief Fund", "SD", "ar en", "Amna Osman", ("emergency_funds 015+014 3",)),
    # Latin America
    DemoOrg("Colectivo Ceiba Viva", "CO", "es", "Lucía Restrepo", ("legal here 3", "relocation region 2")),
    DemoOrg("Rede Ipê Amarelo de Defensores", "BR", "pt es", "Ana Paula Souza",
            ("communications here 3", "digital_security 005 2")),
    DemoOrg("Fondo Ajolote de Respuesta Rápida", "MX", "es en", "Mariana Hernández",
            ("emergency_funds 013+005+029 5",)),
    DemoOrg("Colectivo Quetzal Abierto", "GT", "es", "Héctor Ixcoy", ("legal here 1", "diplomatic 013 1")),
    DemoOrg("Defensoría Jacarandá", "AR", "es", "Valentina Ruiz", ("legal 005 2", "diplomatic world 2")),
    DemoOrg("Fundación Chaguaramo", "VE", "es", "José Gregorio Pérez", ("digital_security here 1",), APPLIED),
    # South Asia
    DemoOrg("Neem Tree Legal Collective", "IN", "hi en", "Priya Raman", ("legal here 4", "digital_security region 3")),
    DemoOrg("Indus Voices Media Trust", "PK", "ur en", "Ayesha Qureshi", ("communications here 2",)),
    DemoOrg("Padma River Rights Forum", "BD", "bn en", "Rafiq Hossain",
            ("emergency_funds region 2", "relocation region 1")),
    DemoOrg("Lotus Pond Accountability Hub", "LK", "si ta en", "Dilani Perera", ("legal here 1",), APPLIED),
    # South-East Asia
    DemoOrg("Bayanihan Legal Shield", "PH", "tl en", "Maricel Dizon", ("legal here 2", "digital_security region 3")),
    DemoOrg("Rumah Cendana Civic Lab", "ID", "id en", "Sri Wahyuni", ("communications region 2",)),
    DemoOrg("Golden Padauk Relief Network", "MM", "my en", "Aung Min Thu",
            ("relocation 035 2", "emergency_funds here 1")),
    DemoOrg("Chao Phraya Digital Rights Lab", "TH", "th en", "Napat Srisuk", ("digital_security region 2",)),
    # Eastern Europe
    DemoOrg("Sunflower Field Legal Aid", "UA", "uk ru en", "Olena Kovalenko",
            ("legal here 3", "relocation 151+154 2")),
    DemoOrg("Nistru Civic Bridge", "MD", "ro ru", "Ion Ciobanu", ("diplomatic 151 2",)),
    DemoOrg("Vistula Solidarity Fund", "PL", "pl en uk", "Katarzyna Nowak",
            ("emergency_funds region 4", "relocation region 3")),
    DemoOrg("Pushcha Free Media Hub", "BY", "be ru", "Alesia Kavalchuk",
            ("communications here 1", "digital_security here 1")),
    # Middle East
    DemoOrg("Cedar Hill Legal Response", "LB", "ar fr en", "Rami Haddad",
            ("legal region 3", "emergency_funds here 2")),
    DemoOrg("Wadi Rum Refuge Network", "JO", "ar en", "Lina Khalil", ("relocation region 3",)),
    DemoOrg("Olive Grove Documentation Centre", "PS", "ar en", "Khaled Mansour",
            ("legal here 1", "communications world 2")),
    DemoOrg("Bosphorus Open Society Lab", "TR", "tr en", "Elif Yıldız", ("digital_security 145+151 3",)),
    DemoOrg("Mocha Coast Civic Relief", "YE", "ar", "Huda Saleh", ("emergency_funds here 1",), APPLIED),
    # Network-wide responders
    DemoOrg("Meridian Rapid Response Fund", "NL", "en fr es ar", "Sofia van Dijk",
            ("emergency_funds world 10", "diplomatic world 3", "relocation world 2")),
    DemoOrg("Open Circuit Digital Helpline", "DE", "en de ru ar es", "Jonas Weber", ("digital_security world 8",)),
)
DEMO_MEMBER_ORG = "Mwangaza Defenders Network"
# One applicant is half way: a vouch from one member, waiting for a second (the demo admin can give it).
HALF_VOUCHED = ("Abay Lawyers for Civic Space", "Tamarind Street Legal Clinic")

NOTES = {
    "legal": "Duty lawyer on call; NGO registration, criminal defence and bail hearings.",
    "communications": "Statements, press contacts and rebuttals of smear campaigns within a day.",
    "diplomatic": "Contacts with embassies and UN special rapporteurs; we ask before going public.",
    "digital_security": "Device checks, account recovery and safe communication set-ups, remote or in person.",
    "emergency_funds": "Small grants paid within 72 hours: legal fees, rent, medical costs.",
    "relocation": "Temporary safe housing and travel for staff at risk; family members included.",
}


@dataclass(frozen=True)
class Loaded:
    organisations: Counter  # by vetting status
    people: int
    offers: Counter  # by help type
    plays: int
    demo_org: str
    # (organisation, email, phone) of the people with a published password, the demo member first
    accounts: tuple[tuple[str, str, str | None], ...] = ()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str, words: int = 3) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", _ascii(text).lower())[:words])


def _phone(country: str, n: int) -> str | None:
    """The numbering plan's example mobile number with its last digits varied, if still valid."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return None
    national = str(example.national_number)
    for tail in (f"{n:02d}", f"{n % 10}"):
        candidate = phonenumbers.parse(f"+{example.country_code}{national[:-len(tail)]}{tail}")
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _coverage(spec: str, org: Organisation) -> dict:
    if spec == "here":
        return {"countries": [org.country]}
    if spec == "region":
        return {"regions": [org.region]}
    if spec == "world":
        return {"worldwide": True}
    codes = spec.split("+")
    return {"regions": codes} if codes[0].isdigit() else {"countries": codes}


def is_empty(session: Session) -> bool:
    return not (session.scalar(select(func.count()).select_from(Organisation))
                or session.scalar(select(func.count()).select_from(User)))


def load(session: Session, *, now: datetime) -> Loaded | None:
    """Load the network into an empty database; None (and nothing written) if it holds anyone already."""
    if not is_empty(session):
        return None
    coordinator = members.create_coordinator(session, email=COORDINATOR_EMAIL, name="Demo Coordinator",
                                             password=COORDINATOR_PASSWORD, now=now)
    built: dict[str, Organisation] = {}
    for n, entry in enumerate(NETWORK, start=1):
        demo = entry.name == DEMO_MEMBER_ORG
        first, *_, last = _ascii(entry.admin).lower().replace("'", "").split()
        admin = {"name": entry.admin, "phone": _phone(entry.country, n),
                 "email": MEMBER_EMAIL if demo else RESPONDERS.get(entry.name)
                 or f"{first}.{last}@{_slug(entry.name)}.example.org"}
        if demo:
            admin["password"] = MEMBER_PASSWORD
        elif entry.name in RESPONDERS:
            admin["password"] = RESPONDER_PASSWORD
        org = members.register_organisation(
            session, {"name": entry.name, "country": entry.country, "languages": entry.languages.split(),
                      "consent_share_contacts": n % 3 != 0}, admin, actor=None, now=now,
            proven_phone=True)  # invented numbers: nobody could answer a code
        if entry.status is not Vetting.applied:
            members.set_vetting(session, coordinator, org, Vetting.vetted.value, now=now)
        for spec in entry.offers:
            help_type, coverage, capacity = spec.split()
            _offer(session, org, help_type, _coverage(coverage, org), int(capacity), now=now)
        if entry.status is Vetting.suspended:  # after its offers: a suspended admin adds none
            members.set_vetting(session, coordinator, org, Vetting.suspended.value, now=now)
        built[entry.name] = org
    applicant, voucher = (built[name] for name in HALF_VOUCHED)
    members.vouch(session, voucher.users[0], applicant, now=now)
    _cover_configured_help_types(session, list(built.values()), now=now)
    plays = playbook.load_initial_playbook(session, now=now)
    accounts = tuple((name, built[name].users[0].email, built[name].users[0].phone)
                     for name in (DEMO_MEMBER_ORG, *RESPONDERS))
    return replace(summary(session, plays=len(plays)), accounts=accounts)


def _offer(session: Session, org: Organisation, help_type: str, coverage: dict, capacity: int, *,
           now: datetime) -> None:
    offers.create_offer(session, org.users[0], org, {"help_type": help_type, "languages": org.languages,
                                                     "capacity": capacity, "notes": NOTES.get(help_type),
                                                     **coverage}, now=now)


def _cover_configured_help_types(session: Session, orgs: list[Organisation], *, now: datetime) -> None:
    """Help types added in EXTRA_HELP_TYPES get offers too, from every fifth vetted organisation."""
    known = {spec.split()[0] for entry in NETWORK for spec in entry.offers}
    vetted = [org for org in orgs if org.vetting_status is Vetting.vetted]
    for help_type in offers.help_types():
        if help_type not in known:
            for org in vetted[::5]:
                _offer(session, org, help_type, {"regions": [org.region]}, 2, now=now)


def summary(session: Session, *, plays: int = 0) -> Loaded:
    statuses = Counter(dict(session.execute(select(Organisation.vetting_status, func.count())
                                            .group_by(Organisation.vetting_status)).all()))
    help_types = Counter(dict(session.execute(select(Offer.help_type, func.count())
                                              .group_by(Offer.help_type)).all()))
    people = session.scalar(select(func.count()).select_from(User))
    return Loaded(statuses, people, help_types, plays, DEMO_MEMBER_ORG)

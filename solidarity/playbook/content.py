"""The first playbook, written from the seed documents in ../shared/seeds/ (cited in each play's sources).

The seeds give the threat situations (the Solidarity Playbook project page), the kinds of help
members can share beyond statements of support (legal support, communications expertise,
diplomatic connections, crisis response guidelines), and resilience strategies from the
closing-space toolkit and the network documents (secure communications and financial management,
coalitions with agreed rules, consultation with civic leaders, de-escalation, needs assessments,
peer advice, permanent channels of exchange, reviewing what happened). The steps turn those into
concrete actions, in the order an organisation under attack needs them.

`load_initial_playbook` (service.py) stores each entry as published version 1; coordinators change
the text afterwards by drafting new versions, never by editing this file into a live database.
"""
from __future__ import annotations

from typing import Any

# Seed titles, as the documents name themselves.
PLAYBOOK = "Solidarity Playbook (project description)"
TOOLKIT = "The Political Parties in Closing Space Toolkit: How Assistance Programs Can Support Resilience"
HUB = "Hub for Party Innovations (International IDEA and the Ukrainian School of Political Studies)"
IOPD = "International Observatory on Participatory Democracy, 2021 Work Plan Proposal"
PPIEP = ("Protecting and Promoting the Integrity of the Electoral Process (PPIEP), Draft Work Programme "
         "(International IDEA and the Kofi Annan Foundation)")

SHARING = (f'{PLAYBOOK}, "A Unique Project": what members can share: guidelines on crisis response '
           "mechanisms, access to legal support, communications expertise, diplomatic connections")
BEYOND_STATEMENTS = (f'{PLAYBOOK}, "Background and Process": go beyond public statements of support; '
                     "build an active support system between organisations and their partners")


def step(actor: str, help_type: str | None, text: str, *checklist: str) -> dict[str, Any]:
    return {"actor": actor, "help_type": help_type, "text": text, "checklist": list(checklist)}


PLAYS: list[dict[str, Any]] = [
    {
        "slug": "deregistration-answer-on-paper",
        "threat_type": "deregistration",
        "title": "Deregistration threat and bureaucratic harassment",
        "summary": ("The authorities suddenly demand extensive paperwork and threaten to strike the organisation "
                    "off the register. Answer on paper, on time and in the open, with a lawyer who knows the "
                    "country's NGO law, and find out whether others are being targeted too."),
        "help_types": ["legal", "communications", "diplomatic"],
        "sources": [
            f'{PLAYBOOK}, "Civil Society Involvement": "Authorities unexpectedly demand extensive bureaucratic '
            'due diligence and threaten a CSO with deregistration."',
            SHARING,
            f"{HUB}: training on party transparency and accountability; openness generates confidence and is "
            "the most important resource (Transparency International Ukraine)",
            f'{TOOLKIT}, "Scenario: Balance of Power", Resilience Strategies: regulatory bodies that monitor and '
            "enforce rules and ensure transparency; building coalitions",
        ],
        "steps": [
            step("affected", None,
                 "Write down exactly what was demanded: who sent it, what it asks for, the deadline and the law "
                 "it cites. Keep copies outside the office.",
                 "Copy of the letter or notice", "Deadline in the shared calendar",
                 "Copies stored off-site"),
            step("coordinators", "legal",
                 "Connect the organisation with a lawyer in the network who knows this country's NGO law, "
                 "within one day."),
            step("responders", "legal",
                 "Go through the demand with the organisation and build the compliance file: what is lawful to "
                 "ask, what is not, and which documents answer it.",
                 "Registration certificate and statutes", "Latest financial reports and audit",
                 "Board minutes and list of officers"),
            step("affected", "legal",
                 "Answer in writing before the deadline and keep proof of delivery. Where it is safe, publish "
                 "governance and finances: openness is the best defence against claims of wrongdoing."),
            step("responders", "communications",
                 "Prepare a short holding statement and factual questions and answers in case the threat "
                 "becomes public."),
            step("coordinators", "diplomatic",
                 "With the organisation's consent, brief the network's diplomatic contacts; quietly if the "
                 "organisation prefers no publicity."),
            step("coordinators", None,
                 "Ask the other members in the country whether they received similar demands. A pattern "
                 "calls for a joint answer from a coalition rather than one organisation alone."),
        ],
    },
    {
        "slug": "media-attack-facts-first",
        "threat_type": "media_attack",
        "title": "Smear campaign in the media",
        "summary": ("Media take up an incident or false information to discredit the organisation or its staff. "
                    "Collect the evidence, answer once with facts, protect the people who are named, and let "
                    "trusted allies carry the answer further."),
        "help_types": ["communications", "digital_security", "legal"],
        "sources": [
            f'{PLAYBOOK}, "Civil Society Involvement": "Media attacks: Media take up an incident or even false '
            'information and launch an attack on one or more CSOs or their staff to discredit them."',
            SHARING,
            f"{HUB}: how to work with negative matters in social networks; the basic rules of safety on the "
            "Internet",
            f'{TOOLKIT}, "Key Findings and Recommendations": ongoing consultation with civic leaders, to avoid '
            "alienating allies",
            BEYOND_STATEMENTS,
        ],
        "steps": [
            step("affected", None,
                 "Collect the attack before it changes: links, screenshots with dates, who published it and "
                 "who shared it. Do not reply yet.",
                 "Links and screenshots saved", "List of outlets and accounts involved"),
            step("coordinators", "communications",
                 "Connect a responder with communications expertise, and agree with the organisation who "
                 "speaks for it."),
            step("responders", "communications",
                 "Check every claim with the organisation and write one short factual answer and a holding "
                 "line for journalists.",
                 "Claims listed with the facts", "Answer approved by the organisation"),
            step("responders", "digital_security",
                 "Protect the staff who are named: secure their accounts, turn on two-step sign-in, remove "
                 "home addresses and family details from public profiles, watch for threats.",
                 "Two-step sign-in on every staff account", "Personal details taken offline"),
            step("responders", "legal",
                 "Assess whether the claims are defamatory and whether a correction request or a legal reply "
                 "would help more than it would spread the story."),
            step("coordinators", "communications",
                 "Ask trusted allies and civic leaders to pass on the factual answer, not only statements of "
                 "support, and only if the organisation wants it."),
            step("affected", None,
                 "Keep a log of further articles, posts and threats against staff, for later legal use and "
                 "for the review at the end."),
        ],
    },
    {
        "slug": "raid-people-first",
        "threat_type": "raid",
        "title": "Police raid on the office",
        "summary": ("Police search the office, seize files and devices, and may hold staff. Keep people safe "
                    "first, get a lawyer there, cut access to what was seized, and write down everything while "
                    "it is fresh."),
        "help_types": ["legal", "digital_security", "diplomatic", "communications"],
        "sources": [
            f'{PLAYBOOK}, "Civil Society Involvement": "Raids, freezing of assets, expulsion from the country: '
            'Police raid a CSO office, place the staff under house arrest, freeze assets or expel the '
            'organisation from the country."',
            SHARING,
            f'{TOOLKIT}, "#1 Building Party Infrastructure", program approach 2: training on secure '
            "communications, especially for leaders and staff",
            f"{HUB}: the basic rules of safety on the Internet",
        ],
        "steps": [
            step("affected", None,
                 "Stay calm and do not resist. Ask to see the warrant, note the officers' names and unit, and "
                 "call your lawyer and the network's emergency contact.",
                 "Warrant seen or its absence noted", "Officers' names and unit written down",
                 "Lawyer and network called"),
            step("coordinators", "legal",
                 "Find a lawyer who can reach the office now, and confirm who, if anyone, has been taken "
                 "away and where."),
            step("responders", "digital_security",
                 "Cut access from seized devices: sign them out of every account, change shared passwords, "
                 "wipe remotely where possible, and warn contacts whose data may be exposed.",
                 "Seized devices signed out everywhere", "Shared passwords changed",
                 "Contacts at risk warned"),
            step("affected", None,
                 "As soon as the police leave, write down what happened: times, who was present, what was "
                 "taken (make an inventory), photographs of any damage."),
            step("coordinators", "diplomatic",
                 "Inform the network's diplomatic contacts and ask for observers to be present if staff are "
                 "held."),
            step("responders", "communications",
                 "Prepare a factual statement with the organisation and decide together whether and when to "
                 "publish it."),
        ],
    },
    {
        "slug": "asset-freeze-keep-going",
        "threat_type": "asset_freeze",
        "title": "Frozen bank accounts and assets",
        "summary": ("The authorities freeze the organisation's accounts or property. Challenge the freeze in "
                    "law, keep salaries and essential work going through lawful bridge funding, and keep the "
                    "books spotless."),
        "help_types": ["legal", "emergency_funds", "diplomatic"],
        "sources": [
            f'{PLAYBOOK}, "Civil Society Involvement": police may "freeze assets"',
            SHARING,
            f'{TOOLKIT}, "#1 Building Party Infrastructure", program approach 2: training on financial '
            "management",
            f"{HUB}: Civic Movement CHESNO's 'Follow the Money' campaign and party transparency: open finances "
            "build confidence",
        ],
        "steps": [
            step("affected", None,
                 "Get the freezing order in writing. List every account and asset affected, the balances, and "
                 "the payments that fall due in the next month.",
                 "Freezing order obtained", "Accounts and balances listed",
                 "Salaries, rent and grant deadlines listed"),
            step("responders", "legal",
                 "Challenge the freeze: appeal deadlines, the bank's obligations, and what donor contracts "
                 "require when funds are blocked."),
            step("affected", None,
                 "Tell your donors early and share clean financial records; an organisation with open books "
                 "is harder to accuse."),
            step("coordinators", "emergency_funds",
                 "Find members or funders who can bridge salaries and essential costs, and check how money "
                 "can reach the organisation lawfully."),
            step("responders", "emergency_funds",
                 "Provide the bridge funding through a channel that does not expose the people paid or break "
                 "the law."),
            step("coordinators", "diplomatic",
                 "Brief diplomatic contacts, especially governments whose grants are among the frozen funds."),
        ],
    },
    {
        "slug": "expulsion-protect-partners",
        "threat_type": "expulsion",
        "title": "Expulsion from the country",
        "summary": ("The organisation or its foreign staff are ordered to leave. Protect the people who leave "
                    "and the partners who stay, move work and data safely, and keep a permanent channel open "
                    "with those who remain."),
        "help_types": ["legal", "relocation", "diplomatic", "digital_security"],
        "sources": [
            f'{PLAYBOOK}, "Civil Society Involvement": police may "expel the organisation from the country"',
            SHARING,
            f"{IOPD}, Part 3, Task 1: maintain permanent channels of exchange with members",
            f"{PPIEP}, Section C: peer networks and a password-protected forum for exchange",
        ],
        "steps": [
            step("affected", None,
                 "Get the order and its deadline in writing. List who must leave, the state of their papers, "
                 "and what must leave with them.",
                 "Order and deadline obtained", "People and their documents listed"),
            step("responders", "legal",
                 "Check the appeal options and the legal position of local staff and partners who stay."),
            step("coordinators", "diplomatic",
                 "Engage the embassies of the home and host countries on timing and a safe exit."),
            step("responders", "relocation",
                 "Arrange the move: travel, visas and a temporary base, ideally in a neighbouring country."),
            step("responders", "digital_security",
                 "Before anyone crosses a border, move data to safe storage and remove sensitive records, "
                 "including partners' names, from the devices they carry."),
            step("affected", None,
                 "Hand over running work to local partners with clear arrangements, and agree a secure, "
                 "permanent channel to stay in touch."),
        ],
    },
    {
        "slug": "detention-find-and-support",
        "threat_type": "detention",
        "title": "Staff detained or under house arrest",
        "summary": ("Staff are arrested, held or placed under house arrest. Find out where they are, get a "
                    "lawyer to them, support their families, and decide with them whether quiet diplomacy or "
                    "public pressure protects them better."),
        "help_types": ["legal", "diplomatic", "emergency_funds", "digital_security", "communications"],
        "sources": [
            f'{PLAYBOOK}, "Civil Society Involvement": police "place the staff under house arrest"',
            SHARING,
            f'{TOOLKIT}, "Key Findings and Recommendations": resilience may be as much a matter of '
            "de-escalation as protection, defense and response",
        ],
        "steps": [
            step("affected", None,
                 "Record who was detained, when, where and by whom, and tell the coordinators. Keep a list of "
                 "who knows.",
                 "Names, time and place recorded", "Coordinators told"),
            step("coordinators", "legal",
                 "Find a lawyer who can get access to the place of detention or to the house."),
            step("responders", "legal",
                 "Visit, confirm where the person is held and on what grounds, challenge the detention, and "
                 "look for signs of ill-treatment."),
            step("responders", "digital_security",
                 "Assume the detained person's phone and accounts are in police hands: sign them out, change "
                 "shared passwords and warn their contacts."),
            step("coordinators", "diplomatic",
                 "Ask the network's diplomatic contacts for consular interest, prison visits or trial "
                 "observation."),
            step("responders", "emergency_funds",
                 "Support the family: legal fees, lost income, care for dependants."),
            step("responders", "communications",
                 "Agree with the family and the organisation whether to stay quiet or go public, and prepare "
                 "for both; avoid steps that escalate without protecting anyone."),
        ],
    },
    {
        "slug": "political-upheaval-prepare-together",
        "threat_type": "political_upheaval",
        "title": "Political upheaval",
        "summary": ("A constitutional crisis, a drastic new policy or the election of a hostile government "
                    "changes the rules quickly. Take stock of who is exposed, prepare for a crackdown, secure "
                    "communications, and face it as a coalition."),
        "help_types": ["legal", "digital_security", "diplomatic", "communications"],
        "sources": [
            f'{PLAYBOOK}, "Civil Society Involvement": "(Un)Expected political upheaval: This can take the form '
            'of a constitutional crisis (e.g. Kenyan elections 2017), drastic new policy (e.g. the U.S. travel '
            'ban), or election of a populist candidate (e.g. Brazilian elections 2018)."',
            f'{PLAYBOOK}, "A Unique Project": strategies for enlarging our space and preparing for possible '
            "crackdowns",
            f'{TOOLKIT}, "Scenario: Balance of Power", "When Power Shifts" and Resilience Strategies: building '
            "coalitions",
            f'{TOOLKIT}, "Key Findings and Recommendations": coalitions with group rules to set common agendas '
            "and reach decisions; consultation with civic leaders; de-escalation and dialogue",
            f"{IOPD}, Part 3, Task 16: ask members for information about their needs",
        ],
        "steps": [
            step("coordinators", None,
                 "Contact every member in the country and ask how it is affected and what it needs now."),
            step("responders", "legal",
                 "Analyse the new laws, decrees or policies for what they change for civil society: "
                 "registration, funding, assembly, speech."),
            step("affected", None,
                 "Review your crisis plan: who decides if leaders cannot, where originals of key documents "
                 "are kept, and an up-to-date list of contacts.",
                 "Deputies named for every key role", "Copies of key documents stored abroad",
                 "Contact list checked"),
            step("responders", "digital_security",
                 "Set up or check secure communications for staff and partners, and train the people who "
                 "will use them."),
            step("coordinators", None,
                 "Bring the affected organisations together in a coalition with agreed rules for taking "
                 "common positions and settling disagreements."),
            step("coordinators", "diplomatic",
                 "Brief diplomatic partners and international observers on what is changing for civil "
                 "society."),
            step("responders", "communications",
                 "Keep talking with civic leaders and allies across divides; answer with facts and avoid "
                 "steps that escalate."),
        ],
    },
    {
        "slug": "other-first-72-hours",
        "threat_type": "other",
        "title": "Any other attack: the first 72 hours",
        "summary": ("When an attack fits no other play: make people safe, write down what happened, assess "
                    "what is needed with a coordinator, and ask the network for exactly that. Review together "
                    "when it is over."),
        "help_types": ["legal", "communications", "digital_security"],
        "sources": [
            f'{PLAYBOOK}, "A Unique Project": guidelines on crisis response mechanisms and new shared solidarity '
            "mechanisms in times of crisis",
            SHARING,
            f"{PPIEP}, Section C: professional advisory services by experienced peers, based on needs "
            "assessments",
            f"{PPIEP}, Section B: a review after the event, a needs assessment and a plan",
            f"{IOPD}, Part 3, Task 13: mutual evaluation between members",
        ],
        "steps": [
            step("affected", None,
                 "Make people safe first; then write down what happened, when, and who was involved."),
            step("coordinators", None,
                 "Call the organisation within a day to assess what it needs, and update the incident's needs."),
            step("responders", "legal",
                 "Assess the legal risks and the options to respond."),
            step("responders", "digital_security",
                 "Check devices and accounts for compromise and secure the organisation's communications."),
            step("coordinators", None,
                 "Put the organisation in touch with a member that has been through a similar attack."),
            step("responders", "communications",
                 "Help decide whether to speak publicly, and prepare what to say if it does."),
            step("affected", None,
                 "When it is over, review with responders what helped and what did not, and share the lessons "
                 "with the network."),
        ],
    },
]

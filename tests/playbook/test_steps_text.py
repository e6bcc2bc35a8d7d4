import pytest

from solidarity.errors import ValidationError
from solidarity.playbook.content import PLAYS
from solidarity.playbook.steps_text import format_steps, parse_steps


def test_parse_reads_steps_and_checklists():
    text = "affected | - | Keep copies.\n  - Letter copied\n\ncoordinators | Legal | Find a lawyer | today"
    assert parse_steps(text) == [
        {"actor": "affected", "help_type": None, "text": "Keep copies.", "checklist": ["Letter copied"], "line": 1},
        {"actor": "coordinators", "help_type": "legal", "text": "Find a lawyer | today", "checklist": [],
         "line": 4},
    ]


@pytest.mark.parametrize("play", PLAYS, ids=[p["slug"] for p in PLAYS])
def test_format_and_parse_round_trip(play):
    parsed = parse_steps(format_steps(play["steps"]))
    assert [{k: v for k, v in s.items() if k != "line"} for s in parsed] == play["steps"]


def test_parse_errors_name_each_line():
    with pytest.raises(ValidationError) as err:
        parse_steps("- orphan item\nno pipes\naffected | legal |  ")
    assert [(e.field, e.message.split(":")[0]) for e in err.value.errors] == [
        ("steps", "line 1"), ("steps", "line 2"), ("steps", "line 3")]

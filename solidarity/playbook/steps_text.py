"""Steps as plain text, so coordinators can edit a play in one textarea without JavaScript.

The format, one step per line, in order:

    who | help type | what to do
    - a checklist item for the step above
    - another item

`who` is affected, responders or coordinators; `help type` is one of the network's help types or
`-` when the step needs no outside help. Lines starting with `-` add checklist items to the step
above them. Blank lines are ignored.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from solidarity.errors import FieldError, ValidationError

NO_HELP = "-"
FORMAT_HINT = ("One step per line: who | help type | what to do (who: affected, responders or coordinators; "
               "help type, or - for none). Lines starting with - add checklist items to the step above.")


def parse_steps(text: str, field: str = "steps") -> list[dict[str, Any]]:
    """Turn the text format into step dicts for the service; the service checks codes and lengths."""
    steps: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("-"):
            item = line[1:].strip()
            if not steps:
                errors.append(FieldError(field, f"line {number}: a checklist item needs a step above it"))
            elif item:
                steps[-1]["checklist"].append(item)
            continue
        parts = [p.strip() for p in line.split("|", 2)]
        if len(parts) != 3 or not parts[2]:
            errors.append(FieldError(field, f"line {number}: write who | help type | what to do"))
            continue
        who, help_type, what = parts
        steps.append({"actor": who.lower(), "help_type": None if help_type in ("", NO_HELP) else help_type.lower(),
                      "text": what, "checklist": [], "line": number})
    if errors:
        raise ValidationError(errors)
    return steps


def format_steps(steps: Iterable[Any]) -> str:
    """The text format of existing steps (model rows or dicts), for pre-filling the textarea."""
    blocks: list[str] = []  # a blank line between steps keeps a long textarea readable
    for step in steps:
        get = step.get if isinstance(step, dict) else lambda key, s=step: getattr(s, key)
        actor = get("actor")
        actor = getattr(actor, "value", actor)
        lines = [f"{actor} | {get('help_type') or NO_HELP} | {get('text')}"]
        lines.extend(f"- {item}" for item in get("checklist") or [])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)

"""The first playbook is written from the seed documents, not invented: every source names a seed
document, and every passage it quotes is in that document word for word."""
from __future__ import annotations

import re

import pytest

from solidarity import ROOT
from solidarity.playbook import content
from solidarity.playbook.content import PLAYS

SEEDS = ROOT.parent / "shared" / "seeds"
TITLES = (content.PLAYBOOK, content.TOOLKIT, content.HUB, content.IOPD, content.PPIEP)
# A quotation follows a colon or comma inside a source: `Title, "Section": "quoted text"`.
QUOTED = re.compile(r'(?<=[:,] )"([^"]{12,})"')


def _plain(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents live beside the repository, in ../shared/seeds")
def test_every_quotation_is_in_the_seed_documents():
    seeds = _plain(" ".join(path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))))
    quotations = [q for play in PLAYS for source in play["sources"] for q in QUOTED.findall(source)]
    assert len(quotations) >= len(PLAYS)  # the check below is not vacuous
    missing = [q for q in quotations if _plain(q).rstrip(".") not in seeds]
    assert missing == []


def test_every_source_cites_a_seed_document():
    for play in PLAYS:
        assert any(content.PLAYBOOK in source for source in play["sources"]), play["slug"]
        for source in play["sources"]:
            assert source.startswith(TITLES), source

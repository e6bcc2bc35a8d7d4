"""Navigators: what each kind of person does in the browser, as named steps.

Tests read as stories (`coordinator.draft_and_publish_play(...)`); selectors stay in here, and
they use what a person sees (labels, button text, headings) rather than CSS classes.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer


class Nav:
    """Anyone who signs in."""

    def __init__(self, page: Page, server: LiveServer):
        self.page = page
        self.server = server

    def goto(self, path: str) -> Page:
        self.page.goto(self.server.url(path))
        return self.page

    def sign_in(self, email: str, password: str = PASSWORD, code: str | None = None) -> None:
        """`code`: the two-factor code, for people who have it on (every coordinator)."""
        self.goto("/login")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        if code is not None:
            self.page.get_by_label("Code").fill(code)
            self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        expect(self.page.get_by_role("button", name="Sign in")).to_be_visible()

    def flash(self) -> str:
        return self.page.get_by_role("status").first.inner_text()

    # -- the playbook, which every signed-in person reads --
    def open_playbook(self) -> Page:
        self.goto("/playbook")
        expect(self.page.get_by_role("heading", name="Playbook", exact=True)).to_be_visible()
        return self.page

    def open_play(self, title: str) -> Page:
        self.open_playbook()
        self.page.get_by_role("link", name=title, exact=True).click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(title)
        return self.page

    def play_steps(self) -> list[str]:
        return [t.strip() for t in self.page.locator("ol.steps > li .step-text").all_inner_texts()]

    # -- an incident's conversation, for everyone on the case --
    def open_incident(self, incident_id) -> Page:
        self.goto(f"/incidents/{incident_id}")
        expect(self.page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Incident "))
        return self.page

    def has_conversation(self) -> bool:
        return self.page.get_by_role("heading", name="Conversation", exact=True).count() == 1

    def write_message(self, text: str, *, to: str | None = None) -> None:
        """Write to the open incident's conversation; `to` as offered under "Who can read it"."""
        self.page.get_by_label("Write to the case").fill(text)
        if to is not None:
            self.page.get_by_label("Who can read it").select_option(label=to)
        self.page.get_by_role("button", name="Send message").click()
        expect(self.page.get_by_role("status").first).to_contain_text("Your message is in the conversation")

    def conversation(self) -> list[tuple[str, str, str]]:
        """(author, text, who can read it) of each post shown, oldest first."""
        posts = self.page.locator("ol.posts > li")
        return [(post.locator(".post-head b").inner_text(), post.locator(".post-body").inner_text().strip(),
                 post.locator(".post-readers").inner_text()) for post in (posts.nth(i) for i in range(posts.count()))]


class MemberNav(Nav):
    """A person of a member organisation."""

    # -- incidents and their workspace --
    def report_incident(self, *, threat: str, severity: str, summary: str, needs: list[str] = ()) -> str:
        """File an incident through the web form (`severity` as labelled, e.g. "3 · urgent"); returns
        its reference, read from the workspace it lands on."""
        self.goto("/incidents/new")
        self.page.get_by_label("What is happening?").select_option(label=threat)
        self.page.get_by_label(severity, exact=True).check()
        for need in needs:
            self.page.get_by_label(need, exact=True).check()
        self.page.get_by_label("Summary", exact=True).fill(summary)
        self.page.get_by_role("button", name="Send the report").click()
        heading = self.page.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(r"^Incident [A-Z0-9]+$"))
        return heading.inner_text().split()[-1]

    def workspace_play(self) -> str:
        """The title of the play the open incident follows."""
        heading = self.page.get_by_role("heading", name=re.compile(r"^What to do: "))
        expect(heading).to_be_visible()
        return heading.inner_text().removeprefix("What to do: ")

    def tick_step(self, position: int) -> None:
        self.page.get_by_role("button", name=f"Mark step {position} done", exact=True).click()
        step = self.page.locator(f"#step-{position}")
        expect(step.get_by_role("button", name="Not done after all")).to_be_visible()

    def checklist_progress(self) -> str:
        return self.page.get_by_text(re.compile(r"\d+ of \d+ steps done")).inner_text()


class CoordinatorNav(Nav):
    """A coordinator of the network."""

    def draft_new_version(self, current_title: str) -> None:
        self.open_play(current_title)
        self.page.get_by_role("button", name="Draft a new version").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Edit draft: version \d+$"))

    def edit_draft(self, *, title: str | None = None, add_steps: list[str] = (), sources: list[str] = ()) -> None:
        """On the edit page: change the title, append step lines (`who | help type | what`), add sources."""
        if title is not None:
            self.page.get_by_label("Title").fill(title)
        if add_steps:
            steps = self.page.get_by_label("Steps")
            steps.fill(steps.input_value().rstrip("\n") + "\n" + "\n".join(add_steps))
        if sources:
            box = self.page.get_by_label("Sources")
            box.fill(box.input_value().rstrip("\n") + "\n" + "\n".join(sources))
        self.page.get_by_role("button", name="Save draft").click()
        expect(self.page.get_by_role("button", name="Submit for review")).to_be_visible()

    def submit_and_publish(self) -> None:
        self.page.get_by_role("button", name="Submit for review").click()
        publish = self.page.get_by_role("button", name=re.compile(r"^Publish version \d+$"))
        publish.click()
        expect(self.page.get_by_role("status").first).to_contain_text("is published")

    def draft_and_publish_play(self, current_title: str, *, title: str | None = None,
                               add_steps: list[str] = (), sources: list[str] = ()) -> None:
        """Draft the next version of a published play, change it, submit it and publish it."""
        self.draft_new_version(current_title)
        self.edit_draft(title=title, add_steps=add_steps, sources=sources)
        self.submit_and_publish()

    # -- the console and the indicators --
    def open_console(self) -> Page:
        self.page.get_by_role("link", name="Console", exact=True).click()
        expect(self.page.get_by_role("heading", name="Console", level=1)).to_be_visible()
        return self.page

    def console_flag(self, ref: str) -> str:
        """What the console says next to an open incident about who answered it."""
        entry = self.page.get_by_role("listitem").filter(has=self.page.get_by_role("link", name=ref, exact=True))
        return entry.get_by_text(re.compile(r"^(No responder yet|Responder found)")).inner_text()

    def open_indicators(self, since: str, until: str) -> Page:
        self.page.get_by_role("link", name="Indicators", exact=True).click()
        self.page.get_by_label("From", exact=True).fill(since)
        self.page.get_by_label("To", exact=True).fill(until)
        self.page.get_by_role("button", name="Show").click()
        expect(self.page.get_by_role("heading", name="Indicators", level=1)).to_be_visible()
        return self.page

    def chart_bars(self, title: str) -> dict[tuple[str, str], tuple[str, float]]:
        """{(bar, series): (number, drawn width in pixels)} of the chart whose title starts with `title`."""
        chart = self.page.get_by_role("img", name=re.compile("^" + re.escape(title)))
        expect(chart).to_be_visible()
        found = chart.locator("rect[data-series]").evaluate_all(
            "rects => rects.map(r => [r.closest('g').dataset.label, r.dataset.series, r.dataset.value,"
            " r.getBoundingClientRect().width])")
        return {(label, series): (value, width) for label, series, value, width in found}

    def chart_table(self, summary: str) -> dict[str, str]:
        """Open the table behind a chart; {row heading: first cell}."""
        self.page.get_by_text(summary, exact=True).click()
        table = self.page.locator("details[open] table").last
        expect(table).to_be_visible()
        rows = table.locator("tbody tr")
        return {rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").first.inner_text()
                for i in range(rows.count())}

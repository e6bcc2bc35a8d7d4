"""Browser fixtures: the app served on 127.0.0.1 from a thread, and Debian's headless Chromium.

Tests get `live_server` (its `.url(path)`), `new_page()` (a fresh browser context per call, so
several actors can be signed in at once) and `page`. They also take `app` (through `live_server`),
so the database is emptied after each test as usual. Navigators live in tests/browser/navigators.py.

Chromium comes from Debian (`apt-get install chromium`), never from `playwright install`.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("SOLIDARITY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}  # a common phone viewport in CSS pixels
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _live_server(_app) -> Iterator[LiveServer]:
    server = make_server("127.0.0.1", _free_port(), _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer("127.0.0.1", server.server_port)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_server(app, _live_server) -> LiveServer:
    """The running app. Depends on `app` so each test starts from, and leaves, an empty database."""
    return _live_server


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}; install Debian's `chromium` package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., object]]:
    """Open a page in a fresh context (own cookies); `phone=True` gives a phone-sized viewport."""
    contexts = []

    def open_page(*, phone: bool = False):
        context = browser.new_context(viewport=PHONE if phone else {"width": 1280, "height": 900},
                                      is_mobile=phone, has_touch=phone)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()

"""Chromium for legacy-system automation: the configured or system browser, else Playwright's own.

Launch flags keep Chromium from phoning home: on a closed network its background connections
fail by the dozen and slow every start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hrops.settings import get_settings

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class BrowserInfo(BaseModel):
    executable: str
    version: str


def executable() -> Path | None:
    """The browser we launch; None means Playwright's own download (`playwright install`)."""
    return get_settings().browser()


@asynccontextmanager
async def launch() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    path = executable()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(path) if path else None, args=LAUNCH_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def probe() -> BrowserInfo:
    """Start the browser and render a page: proves RPA can run on this machine."""
    async with launch() as browser:
        page = await browser.new_page()
        await page.set_content("<title>hrops</title><p id=ok>ok</p>")
        assert await page.text_content("#ok") == "ok"
        return BrowserInfo(executable=str(executable() or "playwright-managed"), version=browser.version)

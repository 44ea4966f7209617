"""Activities of the browser task queue (hrops-rpa)."""

from __future__ import annotations

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from tools import browser


@activity.defn(name="rpa.browser_check")
async def browser_check() -> browser.BrowserInfo:
    """Launch Chromium and render a page; the RPA worker's health check."""
    return await browser.probe()

"""A pool of browser contexts on one Chromium: each push borrows a context, keeps its logins.

Contexts are isolated like separate browser profiles (own cookies), so N pushes run side by side
without sharing a session. A context whose page crashed is replaced on return.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tools.browser import LAUNCH_ARGS, executable


@dataclass
class Slot:
    context: Any
    page: Any
    logged_in: set[str] = field(default_factory=set)  # systems with a live session in this context
    broken: bool = False


class BrowserPool:
    def __init__(self, size: int) -> None:
        self.size = size
        self._pw: Any = None
        self._browser: Any = None
        self._free: asyncio.Queue[Slot] | None = None
        self._lock = asyncio.Lock()

    async def _start(self) -> None:
        from playwright.async_api import async_playwright

        self._pw = await async_playwright().start()
        path = executable()
        self._browser = await self._pw.chromium.launch(
            executable_path=str(path) if path else None, args=LAUNCH_ARGS, headless=True
        )
        self._free = asyncio.Queue()
        for _ in range(self.size):
            self._free.put_nowait(await self._new_slot())

    async def _new_slot(self) -> Slot:
        context = await self._browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
        return Slot(context=context, page=await context.new_page())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                await self._start()
        assert self._free is not None
        slot = await self._free.get()
        try:
            yield slot
        finally:
            if slot.broken or slot.page.is_closed():
                await slot.context.close()
                slot = await self._new_slot()
            self._free.put_nowait(slot)

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._pw is not None:
            await self._pw.stop()
        self._browser = self._pw = self._free = None


_pools: dict[int, BrowserPool] = {}


def shared_pool(size: int) -> BrowserPool:
    """One pool per worker process and size (the RPA worker's activities share it)."""
    if size not in _pools:
        _pools[size] = BrowserPool(size)
    return _pools[size]

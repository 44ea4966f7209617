"""Run the stand-in: in the foreground (`hrops legacy-sim`), or in its own process for tests and
benchmarks (as users run it, and off the caller's GIL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from infra.legacy_hris.app import create_app
from infra.legacy_hris.config import SimConfig


def serve(config: SimConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, alive: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(f"{url}/_sim/config", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"the legacy stand-in did not start on {url}")


class SimProcess:
    """`with SimProcess(db_path) as sim: sim.url`: `hrops legacy-sim` in a child process on a free port.

    Settings from the caller's environment (HROPS_*) are not passed on: the stand-in is another
    system and keeps only its own options.
    """

    def __init__(self, db_path: Path, *, seed: int | None = None, host: str = "127.0.0.1") -> None:
        self.db_path = db_path
        self.port = _free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.users = SimConfig().users
        self._args = ["--host", host, "--port", str(self.port), "--db", str(db_path)]
        if seed is not None:
            self._args += ["--seed", str(seed)]
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SimProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HROPS_")}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "hrops", "legacy-sim", *self._args], env=env, stdout=subprocess.DEVNULL
        )
        try:
            _wait_until_up(self.url, lambda: self._proc is not None and self._proc.poll() is None)
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None

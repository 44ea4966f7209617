"""Run the stand-in: in the foreground (`hrops legacy-sim`) or in a thread (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
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


class SimServer:
    """`with SimServer(config) as sim: sim.url` runs the stand-in on a free port in a thread."""

    def __init__(self, config: SimConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port or _free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.app = create_app(config)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host=host, port=self.port, log_level="warning", access_log=False, lifespan="off"
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="legacy-sim", daemon=True)

    @property
    def db_path(self):  # noqa: ANN201
        return self.config.db_path

    def __enter__(self) -> SimServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_sim/config", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"the legacy stand-in did not start on {self.url}")

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

"""Background processes we own, tracked by pid files so `down` stops exactly what `up` started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from pydantic import BaseModel


class PidRecord(BaseModel):
    part: str
    pid: int
    marker: str  # a string from the command line, checked so a reused pid is never signalled
    address: str
    log: str
    started_at: float


class ProcessTable:
    def __init__(self, var_dir: Path) -> None:
        self.run_dir = var_dir / "run"
        self.log_dir = var_dir / "log"
        self.children: dict[str, subprocess.Popen[bytes]] = {}  # started by this process

    def pid_file(self, part: str) -> Path:
        return self.run_dir / f"{part}.pid"

    def log_file(self, part: str) -> Path:
        return self.log_dir / f"{part}.log"

    def read(self, part: str) -> PidRecord | None:
        path = self.pid_file(part)
        try:
            return PidRecord.model_validate_json(path.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def alive(self, part: str) -> PidRecord | None:
        """The record, if its process still runs and is the one we started."""
        rec = self.read(part)
        if rec is None:
            return None
        child = self.children.get(part)
        if child is not None and child.pid == rec.pid:
            # Started by this process: ask it directly. Its /proc cmdline may still show our own
            # command for a moment after spawning, which would fail the marker check.
            return rec if child.poll() is None else None
        if not is_ours(rec):
            self.pid_file(part).unlink(missing_ok=True)  # stale: the process is gone
            return None
        return rec

    def spawn(
        self, part: str, cmd: list[str], *, address: str, marker: str, env: dict[str, str]
    ) -> PidRecord:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file(part)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # survives the CLI; its own process group
            )
        self.children[part] = proc
        rec = PidRecord(
            part=part, pid=proc.pid, marker=marker, address=address, log=str(log), started_at=time.time()
        )
        self.pid_file(part).write_text(rec.model_dump_json())
        return rec

    def stop(self, part: str, timeout: float = 25.0) -> bool:
        """SIGTERM, wait, then SIGKILL the process group. True when something was stopped."""
        rec = self.alive(part)
        if rec is None:
            return False
        _signal_group(rec.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _exists(rec.pid):
            time.sleep(0.1)
        if _exists(rec.pid):
            _signal_group(rec.pid, signal.SIGKILL)
            while _exists(rec.pid):
                time.sleep(0.05)
        self.pid_file(part).unlink(missing_ok=True)
        return True

    def exit_code(self, part: str) -> int | None:
        proc = self.children.get(part)
        return proc.poll() if proc else None

    def log_tail(self, part: str, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file(part).read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the process and anything it started
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _exists(pid: int) -> bool:
    try:
        # A zombie (exited, not yet reaped by us as its parent) counts as gone.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def is_ours(rec: PidRecord) -> bool:
    if not _exists(rec.pid):
        return False
    try:
        cmdline = Path(f"/proc/{rec.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return True  # no /proc (macOS): trust the pid
    return rec.marker in cmdline


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0

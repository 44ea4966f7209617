"""Make sure a Chromium exists for legacy-system automation (`make` runs this; idempotent).

Order: HROPS_BROWSER_PATH or a Chromium on PATH -> Debian's `chromium` package when apt is
available and we may install -> `playwright install chromium` (needs internet).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from hrops.settings import get_settings


def _apt_install() -> bool:
    if not shutil.which("apt-get"):
        return False
    sudo: list[str] = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else [])
    if os.geteuid() != 0 and not sudo:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("installing Debian's chromium package (apt-get) ...", flush=True)
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        if subprocess.run([*sudo, *cmd], env=env, stdout=subprocess.DEVNULL).returncode != 0:
            return False
    return True


def _playwright_install() -> bool:
    print("no system Chromium; trying `playwright install chromium` (needs internet) ...", flush=True)
    return subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"]).returncode == 0


def main() -> int:
    settings = get_settings()
    if path := settings.browser():
        print(f"browser: {path}")
        return 0
    if settings.browser_path:
        print(f"HROPS_BROWSER_PATH={settings.browser_path} does not exist; fix or unset it", file=sys.stderr)
        return 1
    if _apt_install() and (path := settings.browser()):
        print(f"browser: {path}")
        return 0
    if _playwright_install():
        print("browser: Playwright's own Chromium")
        return 0
    print(
        "no Chromium found and none could be installed: install Debian's `chromium` package, "
        "or run `playwright install chromium` with internet access, or set HROPS_BROWSER_PATH",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""Make sure a Chromium exists for legacy-system automation (`make` runs this; idempotent).

Order: HROPS_BROWSER_PATH or a Chromium on PATH -> Debian's `chromium` package when apt is
available and we may install -> `playwright install chromium` (needs internet). Debian's
`chromium-headless-shell` is added when apt can (once per virtual environment): RPA spends about
40% less CPU per page in it than in the full browser's headless mode. A font with
Chinese characters comes along when apt can install one: without it, evidence screenshots show
Chinese names as empty boxes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hrops.settings import get_settings

CJK_FONT = "fonts-wqy-microhei"  # 5 MB; covers Simplified Chinese
HEADLESS_SHELL = "chromium-headless-shell"  # preferred by settings.browser() when installed


def _apt_install(*packages: str) -> bool:
    if not shutil.which("apt-get"):
        return False
    sudo: list[str] = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else [])
    if os.geteuid() != 0 and not sudo:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing Debian's {' and '.join(packages)} (apt-get) ...", flush=True)
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        if subprocess.run([*sudo, *cmd], env=env, stdout=subprocess.DEVNULL).returncode != 0:
            return False
    return True


def _has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return True  # cannot tell: do not install blindly
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return bool(out.strip())


def _ensure_cjk_font() -> None:
    if not _has_cjk_font() and not _apt_install(CJK_FONT):
        print(f"note: no font with Chinese characters; install {CJK_FONT} for readable evidence screenshots")


def _ensure_headless_shell() -> None:
    """Best effort, tried once per virtual environment: a distribution without the package is not
    asked again at every `make`, and the full browser still does the same work, only slower."""
    if get_settings().browser_path or shutil.which(HEADLESS_SHELL):
        return
    stamp = Path(sys.prefix) / ".headless-shell-tried"
    if stamp.exists():
        return
    _apt_install(HEADLESS_SHELL)
    with contextlib.suppress(OSError):
        stamp.touch()


def _playwright_install() -> bool:
    print("no system Chromium; trying `playwright install chromium` (needs internet) ...", flush=True)
    return subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"]).returncode == 0


def main() -> int:
    settings = get_settings()
    _ensure_headless_shell()
    if path := settings.browser():
        _ensure_cjk_font()
        print(f"browser: {path}")
        return 0
    if settings.browser_path:
        print(f"HROPS_BROWSER_PATH={settings.browser_path} does not exist; fix or unset it", file=sys.stderr)
        return 1
    if _apt_install("chromium") and (path := settings.browser()):
        _ensure_cjk_font()  # on its own: a missing font package must not cost the browser
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

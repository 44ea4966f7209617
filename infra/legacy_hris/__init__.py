"""Classic HRIS: a deliberately old-fashioned legacy HR web system, the stand-in for demos and tests.

Server-rendered pages, a session cookie and CSRF tokens, a four-page new-hire wizard with a
dependent dropdown and an iframe, an update form, DD/MM/YYYY dates, validation messages on the
page, duplicate detection, and fault injection (server errors, slow answers, expired sessions, a
redesigned "v2" layout). Its own SQLite file records what was entered. `hrops legacy-sim` runs it.
"""

from infra.legacy_hris.app import create_app
from infra.legacy_hris.config import SimConfig
from infra.legacy_hris.server import SimProcess, serve

__all__ = ["SimConfig", "SimProcess", "create_app", "serve"]

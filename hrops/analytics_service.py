"""Data questions for the CLI, the API and the demo: the offline parser reads the question; with a
model configured the model reads it too and its reading is answered, said out loud when the two
differ. Either way the scope is added by code and the SQL comes from the compiler."""

from __future__ import annotations

from agents.analytics_reader import read
from agents.models import OFFLINE
from hrops.clock import today
from hrops.settings import Settings, get_settings
from tools.analytics.ask import Asked, respond, values_in_scope
from tools.analytics.parser import parse
from tools.analytics.query import AnalyticsQuery
from tools.store.db import session_scope
from tools.store.identity import Principal


async def ask(who: Principal, question: str, settings: Settings | None = None) -> Asked:
    settings = settings or get_settings()
    day = today()
    with session_scope(settings.db_url) as session:
        values = values_in_scope(session, who, day)
    parsed = parse(question, values)
    reading: AnalyticsQuery | None = None
    if settings.model != OFFLINE:
        # The model call is audited by the model wrapper; it sees the question and the filter values only.
        reading = await read(question, values, settings)
    with session_scope(settings.db_url, write=True) as session:
        return respond(session, who, question, parsed, day, reading=reading)

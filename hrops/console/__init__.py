"""The web console: server-rendered pages at /console (see `routes.py`)."""

from hrops.console.routes import router

__all__ = ["router"]

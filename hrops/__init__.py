"""HR Ops Orchestrator: the application shell (settings, CLI, API, runtime launcher, logging)."""

__version__ = "0.1.0"

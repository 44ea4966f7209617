"""Deployment and stand-ins: the legacy HR web system used by demos and tests (legacy_hris)."""

"""Onboarding tools. Importing this package registers them with `tools.registry.registry`."""

from tools.onboarding import hire  # noqa: F401  (registration side effect)

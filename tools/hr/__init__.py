"""HR data tools. Importing this package registers them with `tools.registry.registry`."""

from tools.hr import addresses, approvers, directory, record_changes  # noqa: F401  (registration side effect)

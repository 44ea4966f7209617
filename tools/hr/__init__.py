"""HR data tools. Importing this package registers them with `tools.registry.registry`."""

from tools.hr import addresses, approvers, directory, legacy_targets, record_changes  # noqa: F401  (registration side effect)

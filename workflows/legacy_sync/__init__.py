"""LegacySyncWorkflow: push one employee (or a change) into a named legacy system, verified."""

"""Temporal workflows (deterministic orchestration only), thin activities and worker wiring."""

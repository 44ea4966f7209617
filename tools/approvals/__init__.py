"""Who approves what: approval rules as data (`rules.yaml`), matched to a change, resolved to people."""

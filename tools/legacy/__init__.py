"""Legacy HR web systems without an API: declarative mappings and the browser engine that types them.

A system is a folder of YAML under `mappings/<system>/`: `system.yaml` (login, search, record page,
code tables) and one file per form. `engine.push()` enters one record exactly once and proves it by
reading it back; `drift.propose()` suggests an updated mapping when a page changed.
"""

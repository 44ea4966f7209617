"""The HR data store: SQLAlchemy 2 models, engine set-up, migrations and the audit trail."""

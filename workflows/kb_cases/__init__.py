"""Reminders for policy questions handed to HR ops and left open (tools/knowledge/cases.py)."""

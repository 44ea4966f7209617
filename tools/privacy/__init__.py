"""The redaction gate in front of every model call: what may leave, masked and re-filled, with receipts."""

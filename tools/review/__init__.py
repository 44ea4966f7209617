"""Compliance review of model-written outputs: sampling rules, the review queue, corrections as
evaluation cases. See `docs/review.md`."""

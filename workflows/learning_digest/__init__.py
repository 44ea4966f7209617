"""LearningDigestWorkflow: one subscriber's monthly learning digest, started by their Temporal Schedule."""

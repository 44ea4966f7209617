"""pydantic-ai agents (typed in/out) and the model they run on, offline by default."""

"""The chat assistant: intake, a langgraph graph per thread, dispatch to the product's services."""

"""Everything that touches the outside world: the HR store, tools and their registry."""

"""The HR policy knowledge base: policy documents imported as versioned, effective-dated, scoped
sections; bilingual retrieval; cited answers; a human second tier whose answers become corrections."""

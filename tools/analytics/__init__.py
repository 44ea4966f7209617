"""The semantic layer: metric catalogue, typed query, compiler to SQL, answers with provenance."""

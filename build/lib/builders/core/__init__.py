"""What every builder shares: the builder contract and its runner (base), the schema, the writers,
the extraction job's entry for builders, publishing, safe reading of release files, splits, clips."""

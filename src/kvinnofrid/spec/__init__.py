"""The contracts the pipeline reads by: codebook, diagram registry, rule vocabulary, municipality register."""

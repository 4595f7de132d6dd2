"""From cases to published numbers: the diagram tables, comparison statistics, facts, the round trend."""

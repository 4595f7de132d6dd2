"""From numbers to the report: number formats, figures, chapter text, rendering, provenance, unit reports."""

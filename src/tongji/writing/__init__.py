"""Writing files: templates, issue reports, annotated copies, summaries. Always atomic, always reproducible."""

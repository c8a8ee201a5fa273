"""Writing files: templates, annotated copies, issue reports. Always atomic, always reproducible."""

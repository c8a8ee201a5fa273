"""What runs: reading workbooks, validating the stacked table, building reports."""

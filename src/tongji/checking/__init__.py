"""Checking the stacked table: types and ranges (pandera), rules, cover and registry, Python checks, totals."""

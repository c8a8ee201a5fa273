"""Adding up: acceptance of each workbook, the walk up the registry tree, rates, completeness, last period."""

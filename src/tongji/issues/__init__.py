"""Issues: every issue type declared once (the catalog), and the validation report that holds them."""

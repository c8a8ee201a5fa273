"""Reading workbooks: finding them, screening them against the limits, reading every cell as text, parsing values."""

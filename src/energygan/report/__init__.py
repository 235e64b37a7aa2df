"""The report: figures, tables and the rendered report's check."""

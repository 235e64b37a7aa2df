"""Tables as the study writes them: a CSV for programs and a self-contained HTML page for the report
(Snakemake's report shows a CSV only as a download). Light to import: table jobs need no torch or plotting."""

from __future__ import annotations

import html

import pandas as pd

from energygan import files


def write_html(table: pd.DataFrame, path, title: str) -> None:
    """A self-contained HTML rendering of a table (Snakemake's report shows CSV only as a download)."""
    styled = table.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0,
                           classes="energygan")
    css = ("body{font-family:sans-serif;font-size:13px} table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}"
           "th{background:#f0f0f0}")
    styled = styled.replace("<td>supported</td>", '<td style="background:#d9f2d9">supported</td>')
    styled = styled.replace("<td>refuted</td>", '<td style="background:#f8d7d7">refuted</td>')
    files.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                          f"<style>{css}</style></head><body><h3>{html.escape(title)}</h3>{styled}</body></html>", path)


def write(table: pd.DataFrame, csv_path, html_path, title: str) -> None:
    """The table as CSV and as HTML under `title`."""
    files.write_csv(table, csv_path)
    write_html(table, html_path, title)

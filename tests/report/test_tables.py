import pandas as pd

from energygan.report import tables


def test_a_table_is_written_as_csv_and_as_html_with_its_title_and_verdict_colours(tmp_path):
    table = pd.DataFrame({"claim": ["a < b", "c"], "value": [0.123456, 2.0], "verdict": ["supported", "refuted"]})
    tables.write(table, tmp_path / "t.csv", tmp_path / "t.html", title="Claims <checked> & kept")
    assert pd.read_csv(tmp_path / "t.csv").equals(table)
    page = (tmp_path / "t.html").read_text()
    assert "<title>Claims &lt;checked&gt; &amp; kept</title>" in page
    assert "<td>0.1235</td>" in page and "<td>a &lt; b</td>" in page  # 4 significant digits; cells escaped
    assert '<td style="background:#d9f2d9">supported</td>' in page
    assert '<td style="background:#f8d7d7">refuted</td>' in page

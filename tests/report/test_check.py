import pytest

from energygan.report import check


def test_external_resources_are_found_and_local_ones_are_not():
    html = ('<script src="https://cdn.example.org/x.js"></script><img src="data:image/png;base64,AAAA">'
            '<link href="//fonts.example.org/f.css" rel="stylesheet"><a href="https://snakemake.github.io">docs</a>')
    assert len(check.external_resources(html)) == 2


@pytest.mark.skipif(check.find_browser() is None, reason="needs Chromium (apt-get install chromium)")
def test_a_blank_page_fails_and_a_drawn_page_passes(tmp_path):
    (tmp_path / "blank.html").write_text("<html><body></body></html>")
    with pytest.raises(RuntimeError, match="blank"):
        check.check(tmp_path / "blank.html", tmp_path / "blank.png")
    rows = "".join(f"<tr><td>run {i}</td><td>{i * 0.1:.2f}</td></tr>" for i in range(60))
    (tmp_path / "table.html").write_text(f"<html><body><h1>Claims</h1><table border=1>{rows}</table>"
                                         "<script>document.body.style.background='#fff'</script></body></html>")
    stats = check.check(tmp_path / "table.html", tmp_path / "table.png")
    assert stats["width"] == 1400 and stats["non_background_share"] > 0.01

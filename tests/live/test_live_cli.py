"""``liqmap live`` argument handling (no network: every case fails or prints before connecting)."""

from __future__ import annotations

from liqmap.cli import run


def test_help_lists_the_alert_flags(capsys):
    assert run(["live", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--alert-cluster" in out and "--duration-s" in out and "--ws-url" not in out  # test-only flags hidden


def test_bad_input_exits_2_with_one_line(capsys, tmp_path):
    assert run(["live", "--exchange", "kraken", "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "no live streams for kraken" in capsys.readouterr().err
    assert run(["live", "--alert-cluster", "1", "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "--alert-cluster '1'" in capsys.readouterr().err
    bad = tmp_path / "rules.toml"
    bad.write_text("[[rule]]\nkind = 'moon'\n")
    assert run(["live", "--alerts", str(bad), "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "kind must be one of" in capsys.readouterr().err

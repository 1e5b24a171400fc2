from pathlib import Path

import pytest

from service.scoring.check import rules_check_main
from tests.unit.scoring.conftest import FILES


def test_valid_folder_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert rules_check_main([str(FILES / "good")]) == 0
    out = capsys.readouterr().out
    assert "ok: 8 rules" in out


def test_broken_folder_fails_with_file_line_messages(capsys: pytest.CaptureFixture[str]) -> None:
    assert rules_check_main([str(FILES / "broken")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"{FILES / 'broken' / 'a.yaml'}:12: condition: undefined name 'sel_missing'" in lines
    assert any(line.startswith(f"{FILES / 'broken' / 'b.yaml'}:10: selection 'backref'") for line in lines)


def test_benign_folder_counts_levels_and_fails_on_high(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one.txt").write_text("Hẹn gặp lúc 7h nhé", "utf-8")
    (tmp_path / "two.csv").write_text('id,text\n1,"kill you"\n2,hello\n', "utf-8")
    assert rules_check_main([str(FILES / "good"), "--benign", str(tmp_path)]) == 0
    assert "benign: 3 texts; low 2, medium 1, high 0, critical 0" in capsys.readouterr().out
    (tmp_path / "three.txt").write_text("giết mày trong 2h", "utf-8")
    assert rules_check_main([str(FILES / "good"), "--benign", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "three.txt: benign text reached high" in out


def test_benign_csv_without_text_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "x.csv"
    csv_file.write_text("a,b\n1,2\n", "utf-8")
    assert rules_check_main([str(FILES / "good"), "--benign", str(csv_file)]) == 1
    assert "no text column" in capsys.readouterr().out

"""The `triage` console script, called in-process with its environment set as a user would."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cli import main
from service.config import get_settings
from tests.conftest import FILES, REPO


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RULES_DIR", str(REPO / "rules"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_create_prints_a_key_once(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["keys", "create", "--name", "viettel", "--scope", "reports:write", "--scope", "reports:read"], capsys
    )
    key = out.strip()
    assert code == 0
    assert key.startswith("tt_")
    assert len(key) >= 3 + 43  # 32 random bytes, base64url
    assert key not in (cli_env / "cli.sqlite3").read_bytes().decode("latin-1")


def test_keys_revoke(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["keys", "create", "--name", "viettel"], capsys)
    code, out, _ = run(["keys", "revoke", out.strip()[:10]], capsys)
    assert (code, out.strip()) == (0, "revoked 1 key(s)")


def test_users_add_reads_the_password_from_stdin(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    code, out, _ = run(["users", "add", "lan", "--role", "analyst"], capsys)
    assert (code, out.strip()) == (0, "user lan added as analyst")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(["users", "add", "minh", "--role", "admin"], capsys)
    assert code == 2
    assert "at least 8" in err


def test_analyze_an_eml_file(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analyze", str(FILES / "reports" / "extortion.eml")], capsys)
    analysis = json.loads(out)
    assert code == 0
    assert analysis["channel"] == "email"
    assert analysis["origin"]["ip"] == "185.220.101.4"
    assert analysis["id"] is None
    assert analysis["queued"] is False


def test_analyze_an_sms_text(cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = tmp_path / "sms.txt"
    message.write_text("Mày mà không chuyển tiền thì tao giết mày.", encoding="utf-8")
    code, out, _ = run(["analyze", "--channel", "sms", "--sender", "0912345678", str(message)], capsys)
    analysis = json.loads(out)
    assert code == 0
    assert analysis["sender"]["kind"] == "msisdn"
    assert analysis["sender"]["phone"]["e164"] == "+84912345678"


def test_analyze_a_json_report_body(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analyze", str(FILES / "reports" / "sms_threat.json")], capsys)
    assert code == 0
    assert json.loads(out)["sender"]["phone"]["e164"] == "+84961234567"


def test_analyze_an_sms_without_sender_is_refused(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = tmp_path / "sms.txt"
    message.write_text("hello")
    code, _, err = run(["analyze", "--channel", "sms", str(message)], capsys)
    assert code == 2
    assert "--sender" in err

"""Hot reload over the API while reports are in flight: a broken rules commit never takes effect."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.runtime import build_analyzer
from tests.conftest import FILES, REPO, new_key

BROKEN_RULE = """
id: broken.rule
title: A rule with a dangling selection and a regex RE2 refuses
status: stable
level: high
score: 5
group: threat
detection:
  sel:
    text|regex: '(a)\\1'
  condition: sel and missing
"""


def test_broken_rules_are_refused_with_file_and_line_while_requests_keep_flowing(
    tmp_path: Path, settings: Settings, db: Database, redis_url: str
) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    local = settings.model_copy(update={"rules_dir": rules_dir})
    app = create_app(local, db=db, analyzer=build_analyzer(local), redis_url=redis_url)
    admin = {"Authorization": f"Bearer {new_key(db, reporter='rules-admin', scopes=['rules:admin'])}"}
    writer = {"Authorization": f"Bearer {new_key(db, reporter='reload-load')}"}
    threat = json.loads((FILES / "reports" / "sms_threat.json").read_text())
    statuses: list[int] = []
    levels: set[str] = set()
    stop = threading.Event()

    with TestClient(app) as client:
        before = client.get("/v1/rules", headers=admin).json()["version"]

        def keep_posting() -> None:
            index = 0
            while not stop.is_set():
                body = {**threat, "reference": f"reload-{threading.get_ident()}-{index}"}
                response = client.post("/v1/reports", json=body, headers=writer)
                statuses.append(response.status_code)
                levels.add(response.json()["risk"]["level"])
                index += 1

        threads = [threading.Thread(target=keep_posting) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            (rules_dir / "zz-broken.yaml").write_text(BROKEN_RULE)
            refused = client.post("/v1/rules/reload", headers=admin)
            (rules_dir / "zz-broken.yaml").unlink()
            accepted = client.post("/v1/rules/reload", headers=admin)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        status = client.get("/v1/rules", headers=admin).json()

    assert refused.status_code == 409
    errors = [issue for issue in refused.json()["issues"] if issue["severity"] == "error"]
    assert errors
    assert all(issue["path"].endswith("zz-broken.yaml") for issue in errors)
    assert all(issue["line"] for issue in errors)
    assert any("missing" in issue["message"] for issue in errors)
    assert refused.json()["version"] == before, "the old set stays active"
    assert accepted.status_code == 200
    assert statuses
    assert set(statuses) == {201}
    assert len(levels) == 1, "every in-flight report was scored by one complete ruleset"
    assert status["last_reload"]["ok"] is True
    assert any(rule["hits"] > 0 for rule in status["rules"])


def test_reload_needs_the_rules_admin_scope(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/v1/rules/reload", headers=auth).status_code == 403

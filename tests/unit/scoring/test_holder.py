import threading
import time
from pathlib import Path

from service.scoring import RulesetHolder


def break_rules(folder: Path) -> None:
    (folder / "threats.yaml").write_text(
        (folder / "threats.yaml")
        .read_text("utf-8")
        .replace("condition: harm and not reporting", "condition: harm and x"),
        encoding="utf-8",
    )


def test_reload_swaps_only_a_valid_set(good_copy: Path) -> None:
    holder = RulesetHolder()
    first = holder.reload(good_copy)
    assert first.ok
    assert first.previous_version is None
    version = holder.current.version
    break_rules(good_copy)
    failed = holder.reload(good_copy)
    assert not failed.ok
    assert failed.version == version
    assert any("undefined name 'x'" in str(i) for i in failed.issues)
    assert holder.current.version == version
    status = holder.status()
    assert status["version"] == version
    assert status["last_reload"]["ok"] is False  # type: ignore[index]


def test_hit_counts_per_rule(good_copy: Path) -> None:
    holder = RulesetHolder()
    holder.reload(good_copy)
    holder.score({"text": "kill you"}, channel="sms")
    holder.score({"text": "kill you"}, channel="sms")
    counts = {r["id"]: r["hits"] for r in holder.status()["rules"]}  # type: ignore[index, union-attr]
    assert counts["test.kill"] == 2
    assert counts["test.fbs"] == 0


def test_broken_reload_while_requests_are_in_flight(good_copy: Path, tmp_path: Path) -> None:
    holder = RulesetHolder()
    assert holder.reload(good_copy).ok
    good_version = holder.current.version
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in good_copy.rglob("*"):
        target = broken / path.relative_to(good_copy)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    break_rules(broken)
    stop = threading.Event()
    seen: list[tuple[str, int | float]] = []
    errors: list[BaseException] = []

    def request_loop() -> None:
        while not stop.is_set():
            try:
                result = holder.score({"text": "Tao sẽ giết mày"}, channel="sms")
                seen.append((result.version, result.score))
                time.sleep(0.0005)  # leave the reloading thread some of the GIL
            except BaseException as exc:  # any failure of an in-flight request fails the test
                errors.append(exc)

    workers = [threading.Thread(target=request_loop) for _ in range(3)]
    for worker in workers:
        worker.start()
    outcomes = [holder.reload(broken if i % 2 else good_copy).ok for i in range(6)]
    stop.set()
    for worker in workers:
        worker.join()
    assert outcomes == [True, False, True, False, True, False]
    assert not errors
    assert seen
    assert set(seen) == {(good_version, 6)}
    assert holder.current.version == good_version

from pathlib import Path

from service.scoring.yamlstrict import MarkedDict, load_yaml_documents


def test_duplicate_keys_are_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n  c: 3\n", encoding="utf-8")
    documents, issues = load_yaml_documents(path, "r.yaml")
    assert [str(i) for i in issues] == ["r.yaml:4: duplicate key 'c' (first at line 3)"]
    doc = documents[0]
    assert isinstance(doc, MarkedDict)
    assert doc["b"]["c"] == 2
    assert doc.line_of("b") == 2


def test_syntax_error_carries_its_line(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n", encoding="utf-8")
    _, issues = load_yaml_documents(path, "r.yaml")
    assert len(issues) == 1
    assert issues[0].line is not None
    assert issues[0].line >= 2
    assert "YAML syntax" in issues[0].message


def test_several_documents_and_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a: 1\n---\na: 2\n", encoding="utf-8")
    documents, issues = load_yaml_documents(path, "r.yaml")
    assert not issues
    assert [d["a"] for d in documents] == [1, 2]  # type: ignore[index]
    path.write_bytes(b"a: \xff\n")
    _, issues = load_yaml_documents(path, "r.yaml")
    assert "not UTF-8" in issues[0].message

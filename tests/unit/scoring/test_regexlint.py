import pytest

from service.scoring.regexlint import backtracking_hazard


@pytest.mark.parametrize("pattern", [r"^(a+)+$", r"(\w+\s?)*$", r"(a*)*b", r"(?:x|(y+))*", r"((ab)+c)+"])
def test_nested_unbounded_quantifiers_are_hazards(pattern: str) -> None:
    assert backtracking_hazard(pattern) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        r"[0-9]{1,3}",
        r"(\d{1,3}\.){3}\d",
        r"(ab)+",
        r"(a|b)*c",
        r"\b(trong|truoc) ?[0-9]{1,3} ?(h|gio)\b",
        r".{0,20}",
    ],
)
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert backtracking_hazard(pattern) is None

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.scoring.condition import (
    MAX_DEPTH,
    And,
    ConditionError,
    Not,
    Or,
    Ref,
    canonical,
    compile_tree,
    parse_condition,
    resolve,
)


def evaluate(text: str, names: set[str], true: set[str]) -> bool:
    ids = {name: i for i, name in enumerate(sorted(names))}
    tree = resolve(parse_condition(text), names)
    predicate = compile_tree(tree, lambda n: lambda facts: ids[n] in facts)
    return predicate({ids[n] for n in true})


def test_precedence_not_then_and_then_or() -> None:
    assert parse_condition("a or b and not c") == Or((Ref("a"), And((Ref("b"), Not(Ref("c"))))))
    assert evaluate("a or b and not c", {"a", "b", "c"}, {"b", "c"}) is False
    assert evaluate("(a or b) and not c", {"a", "b", "c"}, {"a"}) is True


@pytest.mark.parametrize(
    ("text", "true", "expected"),
    [
        ("1 of sel_*", {"sel_b"}, True),
        ("1 of sel_*", {"other"}, False),
        ("all of sel_*", {"sel_a", "sel_b"}, True),
        ("all of sel_*", {"sel_a"}, False),
        ("all of them", {"sel_a", "sel_b", "other"}, True),
        ("1 of them and not other", {"sel_a", "other"}, False),
    ],
)
def test_quantifiers(text: str, true: set[str], expected: bool) -> None:
    assert evaluate(text, {"sel_a", "sel_b", "other"}, true) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a and", "ends too early"),
        ("(a or b", "missing ')'"),
        ("a b", "after a complete condition"),
        ("a & b", "unexpected character"),
        ("", "empty condition"),
        ("1 of and", "needs a name pattern"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionError, match=re.escape(message)):
        parse_condition(text)


def test_undefined_names_and_empty_patterns_are_refused() -> None:
    with pytest.raises(ConditionError, match="undefined name 'missing'"):
        resolve(parse_condition("a and missing"), {"a"})
    with pytest.raises(ConditionError, match="matches no name"):
        resolve(parse_condition("1 of x_*"), {"a"})


def test_nesting_is_bounded() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "a" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(ConditionError, match="nested deeper"):
        parse_condition(deep)
    with pytest.raises(ConditionError, match="nested deeper"):
        parse_condition("not " * (MAX_DEPTH + 5) + "a")


def test_canonical_ignores_order_and_grouping() -> None:
    names = {"a", "b", "c"}

    def key(text: str) -> object:
        return canonical(resolve(parse_condition(text), names), lambda n: n)

    assert key("a and (b and c)") == key("c and b and a")
    assert key("a or b") != key("a and b")


TOKENS = [*"ab_*() 1", "and ", "or ", "not ", "of ", "all ", "them ", "a_b "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_any_condition_text_parses_or_raises_condition_error(text: str) -> None:
    try:
        tree = resolve(parse_condition(text), {"a", "b", "a_b"})
    except ConditionError:
        return
    predicate = compile_tree(tree, lambda n: lambda facts: len(n) in facts)
    assert predicate({1}) in {True, False}

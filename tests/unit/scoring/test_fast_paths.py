"""The shortcuts of per-report scoring against what they stand for."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from service.scoring.condition import compile_tree, necessary_names, parse_condition, resolve
from service.scoring.scanview import _WHITESPACE_RUN, WORD_CHARS, _has_whitespace_run, word_view

NAMES = ("a", "b", "c", "d")
_conditions = st.recursive(
    st.sampled_from(NAMES),
    lambda inner: st.one_of(
        st.builds(lambda x: f"not ({x})", inner),
        st.builds(lambda xs: "(" + " and ".join(xs) + ")", st.lists(inner, min_size=2, max_size=4)),
        st.builds(lambda xs: "(" + " or ".join(xs) + ")", st.lists(inner, min_size=2, max_size=4)),
    ),
    max_leaves=8,
)


def _reference(text: str, true: set[str]) -> bool:
    """The condition evaluated by Python itself: names are booleans."""
    # The text comes from _conditions only: names, not, and, or and parentheses, which Python reads alike.
    return bool(eval(text, {}, {name: name in true for name in NAMES}))


@settings(max_examples=300, deadline=None)
@given(_conditions)
def test_compiled_conditions_and_their_necessary_names(text: str) -> None:
    tree = resolve(parse_condition(text), set(NAMES))
    predicate = compile_tree(tree, lambda name: lambda facts: name in facts)  # type: ignore[operator]
    needed = necessary_names(tree)
    for size in range(len(NAMES) + 1):
        for true in map(set, itertools.combinations(NAMES, size)):
            holds = predicate(true)  # type: ignore[arg-type]
            assert holds == _reference(text, true)
            if holds:
                assert needed <= true


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(" \t\n\r\f\v\x1c\u00a0\u2028ab")), max_size=8))
def test_whitespace_run_check_agrees_with_the_pattern(text: str) -> None:
    assert _has_whitespace_run(text) == (_WHITESPACE_RUN.search(text) is not None)


def test_word_view_of_ascii_agrees_with_the_table() -> None:
    text = "".join(map(chr, range(128)))
    assert word_view(text) == text.translate(WORD_CHARS)
    assert word_view("giết, mày!") == "giết  mày "

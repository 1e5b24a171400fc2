from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from service.parsing.normalize import (
    MAX_CHARS,
    Normalizer,
    TeencodeTableError,
    normalize,
    normalize_phrase,
)
from service.parsing.text.fastre import FastPattern, ascii_bytes

CASES_FILE = Path(__file__).parents[2] / "files" / "text" / "normalize_cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[case["text"] for case in CASES])
def test_view_steps_and_spans(case: dict[str, Any]) -> None:
    result = normalize(case["text"])
    assert result.text == case["view"]
    assert set(case["steps"]) <= set(result.steps_applied)
    for phrase, original in case["spans"].items():
        start = result.text.index(phrase)
        begin, end = result.original_span(start, start + len(phrase))
        assert case["text"][begin:end] == original


def test_plain_text_changes_nothing() -> None:
    result = normalize("tao se giet may")
    assert result.text == "tao se giet may"
    assert result.steps_applied == ()
    assert result.original_span(4, 6) == (4, 6)


def test_empty_span_and_bounds() -> None:
    result = normalize("  ab")
    assert result.text == "ab"
    assert result.original_span(0, 0) == (2, 2)
    assert result.original_span(2, 2) == (4, 4)
    with pytest.raises(ValueError, match="outside"):
        result.original_span(1, 3)
    assert normalize("").original_span(0, 0) == (0, 0)


def test_phrases_fold_like_texts() -> None:
    assert normalize_phrase("Giết") == normalize("g.i.ế.t").text
    assert normalize_phrase("kill") == normalize("KIIILLL").text


def test_long_text_is_cut_and_flagged() -> None:
    result = normalize("a" * (MAX_CHARS + 10))
    assert result.truncated
    assert result.text == "a"
    assert result.to_dict()["truncated"] is True


def test_teencode_table_errors_carry_line(tmp_path: Path) -> None:
    (tmp_path / "teencode.tsv").write_text("# header\nko\tkhông\nko\tkhông\n", encoding="utf-8")
    with pytest.raises(TeencodeTableError, match=r"teencode.tsv:3: duplicate"):
        Normalizer.load(tmp_path)
    (tmp_path / "teencode.tsv").write_text("ko không\n", encoding="utf-8")
    with pytest.raises(TeencodeTableError, match=r":1: expected"):
        Normalizer.load(tmp_path)


def test_custom_table_is_used() -> None:
    normalizer = Normalizer({"tm": "tin mat"})
    assert normalizer.normalize("TM gui").text == "tin mat gui"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_spans_always_map_into_the_original(text: str) -> None:
    result = normalize(text)
    size = len(text)
    assert len(result.starts) == len(result.ends) == len(result.text)
    for index in range(len(result.text)):
        begin, end = result.original_span(index, index + 1)
        assert 0 <= begin < end <= size
    assert list(result.starts) == sorted(result.starts)
    assert list(result.ends) == sorted(result.ends)
    # The view is trimmed, single-spaced, lowercase and free of invisible characters.
    assert result.text == result.text.strip()
    assert "  " not in result.text
    assert not any(c in result.text for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad\t\n")
    assert result.text == result.text.lower()


WORDS = ["giết", "chết", "bom", "đâm", "khủng bố", "tiền", "nổ"]
CONFUSE = {"o": "ο", "a": "а", "e": "е", "i": "і", "c": "с", "p": "р"}
LEET = {"a": "4", "e": "3", "o": "0", "i": "1"}


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """A word and a disguise of it: case, decomposition, zero-width characters, look-alikes, leetspeak
    inside the word, letters split by a separator, and a stretched last letter."""
    word = draw(st.sampled_from(WORDS))
    letters = list(word)
    if draw(st.booleans()):
        letters += [letters[-1]] * draw(st.integers(2, 4))  # "giếttt"
    chars = []
    for index, letter in enumerate(letters):
        ch = letter.upper() if draw(st.booleans()) else letter
        inside = 0 < index < len(word) - 1 and " " not in word[index - 1 : index + 2]
        if inside and letter in LEET and draw(st.integers(0, 3)) == 0:
            ch = LEET[letter]
        elif ch in CONFUSE and draw(st.booleans()):
            ch = CONFUSE[ch]
        elif draw(st.booleans()):
            ch = unicodedata.normalize("NFD", ch)
        chars.append(ch)
    splittable = " " not in word and len(chars) >= 3
    separator = draw(st.sampled_from(["", "", ".", "-", "_", "*"])) if splittable else ""
    text = separator.join(chars)
    if draw(st.integers(0, 3)) == 0:
        text = text[0] + "\u200b" + text[1:]
    return word, text


@settings(max_examples=300, deadline=None)
@given(disguised(), st.sampled_from(["", "nó ", "tao sẽ "]), st.sampled_from(["", " mày", "!"]))
def test_disguised_word_maps_back_to_its_disguise(pair: tuple[str, str], before: str, after: str) -> None:
    word, disguise = pair
    text = before + disguise + after
    result = normalize(text)
    phrase = normalize_phrase(word)
    start = result.text.rindex(phrase)  # the prefix "nó" also folds to "no"
    begin, end = result.original_span(start, start + len(phrase))
    assert text[begin:end] == disguise


def test_fast_pattern_fallback_gives_the_same_spans() -> None:
    fast = FastPattern(r"(\d+)|(x)")
    slow = FastPattern(r"(\d+)|(x)")
    object.__setattr__(slow, "_low", None)  # as with a google-re2 without the low-level entry point
    data = ascii_bytes("gọi 123 x 45 và không")
    assert (
        fast.find_all(data, 10)
        == slow.find_all(data, 10)
        == [
            [(4, 7), (4, 7), (-1, -1)],
            [(8, 9), (-1, -1), (8, 9)],
            [(10, 12), (10, 12), (-1, -1)],
        ]
    )
    assert fast.search(b"none") is None
    assert slow.search(b"none") is None

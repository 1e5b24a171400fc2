"""The fast paths of the per-report parsing against the slower computations they stand for."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.parsing import entities
from service.parsing.data.entity_tables import BANKS
from service.parsing.normalize import DEFAULT_LISTS_DIR, TEENCODE_FILE, default_normalizer
from service.parsing.text.fastre import FastPattern, ascii_bytes
from service.parsing.text.latin_bases import _CODEC_TABLE, vietnamese_bases
from service.parsing.text.spans import MappedText
from service.parsing.text.teencode import TeencodeStage, load_teencode

VIETNAMESE = "Mày liệu hồn, KHÔNG trả tiền thì đừng trách tao. Đây là lần cuối! "
OTHERS = ["😀", "\u0301", "ß", "ﬁ", "\x1b", "\u212a", "ǅ", "я"]


def _decomposed(text: str) -> bytes:
    return unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore")


def test_every_table_character_gives_its_decomposed_base() -> None:
    for char in _CODEC_TABLE:
        assert vietnamese_bases(char) == _decomposed(char)
        assert len(_decomposed(char)) == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(_CODEC_TABLE) + OTHERS), max_size=40))
def test_vietnamese_bases_is_decomposition_or_none(text: str) -> None:
    bases = vietnamese_bases(text)
    if set(text) <= set(_CODEC_TABLE):
        assert bases == _decomposed(text)
    else:
        assert bases is None


def _general_rewrite(
    mapped: MappedText, edits: list[tuple[int, int, str]]
) -> tuple[str, list[int], list[int]]:
    """Each character's span, rebuilt one character at a time: what rewrite must give."""
    text, starts, ends, cursor = "", [], [], 0
    for start, end, new in edits:
        text += mapped.text[cursor:start]
        starts += list(mapped.starts[cursor:start])
        ends += list(mapped.ends[cursor:start])
        if start < end:
            span = (mapped.starts[start], mapped.ends[end - 1])
        else:
            point = (
                mapped.starts[start]
                if start < len(mapped.starts)
                else (mapped.ends[-1] if mapped.ends else 0)
            )
            span = (point, point)
        text += new
        starts += [span[0]] * len(new)
        ends += [span[1]] * len(new)
        cursor = end
    text += mapped.text[cursor:]
    return text, starts + list(mapped.starts[cursor:]), ends + list(mapped.ends[cursor:])


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="ab ", max_size=12),
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 3), st.sampled_from(["", "", "x", "yz"])), max_size=4
    ),
    st.booleans(),
)
def test_rewrite_fast_paths_match_a_character_by_character_rewrite(
    text: str, raw_edits: list[tuple[int, int, str]], as_lists: bool
) -> None:
    size = len(text)
    mapped = (
        MappedText(text, list(range(size)), list(range(1, size + 1)))
        if as_lists
        else MappedText(text, range(size), range(1, size + 1))
    )
    edits: list[tuple[int, int, str]] = []
    cursor = 0
    for wanted, length, new in sorted(raw_edits):
        start = max(wanted, cursor)  # sorted and not overlapping, as the stages make them
        end = min(start + length, size)
        if start > size:
            break
        edits.append((start, end, new))
        cursor = end if end > start else start + 1
    result = mapped.rewrite(edits)
    assert (result.text, list(result.starts), list(result.ends)) == _general_rewrite(mapped, edits)


def test_trimmed_ends_keep_ranges() -> None:
    mapped = MappedText("  ab  ", range(6), range(1, 7)).rewrite([(0, 2, ""), (4, 6, "")])
    assert mapped.text == "ab"
    assert mapped.starts == range(2, 4)
    assert mapped.ends == range(3, 5)


@pytest.mark.parametrize(
    "text",
    [
        ("tao k tra tien, ko bik j het, m di dau " * 20),
        ("vao abc.cc nhe, i'm ok, 100 k, :v k " * 15),
        ("k" + " khong" * 100 + " k"),
    ],
)
def test_long_text_teencode_spans_match_the_word_search(text: str) -> None:
    stage = TeencodeStage(load_teencode(DEFAULT_LISTS_DIR / TEENCODE_FILE))
    data = ascii_bytes(text)
    assert len(data) > 400
    # With `stretched` and no stretched letter in the text, the stage takes its general path.
    assert stage.edits(text, data, stretched=False) == stage.edits(text, data, stretched=True)


_WORDS = [
    "k",
    "ko",
    "j",
    "m",
    "t",
    "khong",
    "tao",
    "abc.cc",
    "i'm",
    "100",
    ":v",
    "-",
    "đ",
    "x",
    "kooo",
    "  ",
    "\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=200))
def test_teencode_runs_whenever_its_trigger_or_stretched_letters_say(words: list[str]) -> None:
    normalizer = default_normalizer()
    text = " ".join(words)
    data = ascii_bytes(text)
    needed = normalizer._triggers.present(data)
    if "teencode" not in needed:
        assert normalizer._teencode.edits(text, data, stretched=False) == []


_COMBINED = FastPattern(entities._NUMBERS.pattern + "|" + entities._BANK_WORDS.pattern.removeprefix("(?i)"))


@pytest.mark.parametrize(
    "text",
    [
        "Chuyển 5.000.000đ vào STK 0071001234567 Vietcombank trước 12h",
        "Techcombank số tài khoản: 1903 6789 1234 56, chủ TK Nguyen Van A",
        "ck qua MB 0912345678 nha, hoặc gọi 0987654321",
        "tránh thành bệnh 11 25",
        "ngân hàng " + " ".join(sorted(BANKS)) + " 0912345678",
    ],
)
def test_numbers_and_bank_words_match_one_combined_scan(text: str) -> None:
    shadow = text.encode("ascii", "replace")
    combined = [spans[:1] for spans in _COMBINED.find_all(shadow, entities.MAX_ITEMS * 4)]
    ours = [spans[:1] for spans in entities._number_and_word_matches(shadow)]
    has_number = any(shadow[span[0][0]] in b"+0123456789" for span in combined)
    assert ours == (combined if has_number else [])


_PIECES = [
    "0961.234.567",
    "https://vcb.com",
    "bit.ly/x",
    "a@b.vn",
    "t.me/hotro_vay",
    "zalo.me/0912345678",
    "Telegram: @canhsat_hn",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "tele nhanh",
    "Zalo: 0987 654 321",
    VIETNAMESE,
    "http://localhost",
]
_KIND_PATTERNS = {
    entities._URLS: entities._URL,
    entities._EMAILS: entities._EMAIL,
    entities._NUMBERS_KIND: entities._NUMBERS,
    entities._TELEGRAM_KIND: entities._TELEGRAM,
    entities._ZALO_KIND: entities._ZALO,
    entities._WALLETS: entities._WALLET,
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=6))
def test_the_set_pass_names_exactly_the_patterns_that_match(pieces: list[str]) -> None:
    shadow = " ".join(pieces).encode("ascii", "replace")
    present = entities._KINDS.present(shadow)
    for kind, pattern in _KIND_PATTERNS.items():
        assert (kind in present) == (pattern.search(shadow) is not None)

"""Normalisation defects found by the rule engine's helper; the fast folding path against the reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.parsing.normalize import Normalizer, normalize, normalize_phrase
from service.parsing.text.charfold import CharFolder
from service.parsing.text.folding import fold_chars, fold_path
from service.parsing.text.squeeze import DOUBLED_WORDS, squeeze_word


@pytest.mark.parametrize(
    ("text", "view"),
    [
        ("My mum will kill me if I'm late", "my mum will kill me if i'm late"),
        ("I\u2019m ok, you\u2019re fine", "i\u2019m ok, you\u2019re fine"),
        ("don't, it's, we'll, I've, I'd, can't", "don't, it's, we'll, i've, i'd, can't"),
    ],
)
def test_english_contractions_are_not_teencode(text: str, view: str) -> None:
    result = normalize(text)
    assert result.text == view
    assert "teencode" not in result.steps_applied


def test_teencode_still_expands_beside_quotes_and_punctuation() -> None:
    assert normalize("nó nói 'k' rồi, m đi đâu").text == "no noi 'khong' roi, may di dau"


@pytest.mark.parametrize(
    "text",
    [
        "vao abc.cc nhe",
        "http://x.cc/a?b=1",
        "mail bob@abc.cc",
        "www.vcb.cc",
        "https://t.me/cc",
        "cc.vn/k",
        "abc.cc:8080",
        "https://x.vn/?q=cc&r=k#m",
        "cc@gmail.com",
    ],
)
def test_words_inside_domains_urls_and_addresses_are_not_teencode(text: str) -> None:
    assert normalize(text).text == text


def test_teencode_insult_outside_a_domain_expands() -> None:
    assert normalize("đồ cc").text == "do con cac"


UNITS = ["3pm", "10am", "4am", "4g", "5G", "2fa", "mp3", "24h", "3kg", "4gb", "3rd"]


@pytest.mark.parametrize("token", UNITS)
def test_times_amounts_versions_and_units_keep_their_digits(token: str) -> None:
    assert normalize(f"gặp lúc {token} nhé").text == f"gap luc {token.lower()} nhe"


def test_leetspeak_inside_words_is_still_undone() -> None:
    assert normalize("ch3t đi 4nh, h@ck").text == "chet di anh, hack"


def test_codes_and_wallets_are_not_leetspeak() -> None:
    wallet = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    assert normalize(f"Ví USDT: {wallet}").text == f"vi usdt: {wallet.lower()}"


def test_long_and_short_texts_expand_teencode_alike() -> None:
    short = "k dc đâu, m đi đâu vs t, I'm ok, abc.cc"
    view = normalize(short).text
    assert view == "khong duoc dau, may di dau voi tao, i'm ok, abc.cc"
    long = normalize(" ".join([short] * 20)).text  # past the size where one RE2 search replaces splitting
    assert long == " ".join([view] * 20)


DOUBLES = ["see", "shoot", "app", "www", "http", "kill", "tomorrow", "address", "xoong"]


@pytest.mark.parametrize("word", DOUBLES)
def test_double_letters_are_spelling_and_stay(word: str) -> None:
    assert normalize(word).text == word
    assert normalize_phrase(word) == word


@pytest.mark.parametrize(
    ("text", "view"),
    [
        ("giếtttttt", "giet"),
        ("chếtttt mààààyyyy", "chet may"),
        ("killllll", "kill"),
        ("KIIILLL", "kill"),
        ("cứuuuu", "cuu"),
        ("nguuuu", "ngu"),
        ("toooo sooooo", "too so"),
        ("wwww", "w"),
        ("đmmmm", "dit me"),
    ],
)
def test_stretched_letters_go_back_to_one_or_to_a_known_double(text: str, view: str) -> None:
    result = normalize(text)
    assert result.text == view
    assert result.original_span(0, len(result.text)) == (0, len(text))


def test_a_letter_typed_twice_in_a_word_with_diacritics_is_stretching() -> None:
    text = "thôii rồii, Giếtt màyy, cứu, anhh all"
    result = normalize(text)
    assert result.text == "thoi roi, giet may, cuu, anhh all"
    start = result.text.index("giet")
    begin, end = result.original_span(start, start + 4)
    assert text[begin:end] == "Giếtt"


def test_look_alikes_do_not_make_a_word_vietnamese() -> None:
    assert normalize("kіll").text == "kill"  # Cyrillic і


def test_every_doubled_word_survives_stretching_and_phrase_folding() -> None:
    for word in DOUBLED_WORDS:
        stretched = "".join(c * 4 if index and word[index - 1] == c else c for index, c in enumerate(word))
        assert squeeze_word(stretched) == word, stretched
        assert normalize_phrase(word) == word


def test_joined_letters_are_checked_again_for_later_stages() -> None:
    # The split letters join into "dmmmm", a stretched teencode word only after the join.
    assert normalize("đ.m.m.m.m mày").text == "dit me may"


def test_empty_teencode_table() -> None:
    assert Normalizer({}).normalize("k dc đâu").text == "k dc dau"


def test_long_stretch_is_bounded() -> None:
    result = normalize("giế" + "t" * 50_000 + " mày")
    assert result.text == "giet may"


# Plain and Vietnamese letters, case, spaces of every kind, look-alikes, emoji, zero-width characters,
# combining marks, characters that expand, control characters and the few odd single decompositions.
MIXED = "aAzZ09 .'đĐếẾươƯỜ\t\n\x1c\x00\x01\u00a0\u2028Кαꭰ🔪\u200b\u0301ﬁßİǅ\u212a\u212b\u037e\u1fef"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet=MIXED, max_size=24), st.text(max_size=24)))
def test_whole_text_folding_equals_folding_each_character(text: str) -> None:
    folder = CharFolder()
    mapped, flags = fold_chars(text, folder)
    expected_text, starts, ends, expected_flags = _fold_reference(text, folder)
    assert mapped.text == expected_text
    assert list(mapped.starts) == starts
    assert list(mapped.ends) == ends
    assert flags == expected_flags


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("Tao sẽ GIẾT mày", "whole"),
        ("g🔪i\u200bết", "sparse"),
        ("gie\u0302\u0301t", "sparse"),
        ("Straße", "each"),
    ],
)
def test_each_folding_path_is_reached(text: str, path: str) -> None:
    assert fold_path(text, CharFolder()) == path


def _fold_reference(text: str, folder: CharFolder) -> tuple[str, list[int], list[int], int]:
    """Each character on its own; a combining mark widens the span of the letter before it."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    flags = 0
    for index, ch in enumerate(text):
        folded, char_flags, combining = folder.fold(ch)
        flags |= char_flags
        pieces.append(folded)
        starts.extend([index] * len(folded))
        ends.extend([index + 1] * len(folded))
        if not folded and combining and starts:
            last = starts[-1]
            ends = [index + 1 if start == last else end for start, end in zip(starts, ends, strict=True)]
    return "".join(pieces), starts, ends, flags

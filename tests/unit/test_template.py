from __future__ import annotations

import unicodedata

from service.analysis.indicators import report_indicators
from service.analysis.inputs import ReportInput, SmsInput
from service.analysis.template import _BYTE_TABLE, SKETCH_SIZE, _fold, message_sketch, template_sketch
from service.parsing.email import EmailLimits

PRIZE = "Chúc mừng thuê bao {} đã trúng thưởng xe SH, liên hệ 0961234567 để nhận giải trước ngày {}"


def test_one_template_with_other_numbers_and_accents_gives_one_sketch() -> None:
    first = template_sketch(PRIZE.format("0912345678", "30/11"))
    second = template_sketch(PRIZE.format("0987654321", "15/12"))
    unaccented = template_sketch(
        "Chuc mung thue bao 0900000000 da trung thuong xe SH, lien he 0961234567 de nhan giai truoc ngay 1/1"
    )
    assert len(first) == 4
    assert first == second == unaccented


def test_different_messages_share_little() -> None:
    threat = template_sketch("Mày liệu hồn, không trả tiền thì đừng trách tao ác với cả nhà mày")
    prize = template_sketch(PRIZE.format("0912345678", "30/11"))
    assert len(set(threat) & set(prize)) < 2


def test_short_texts_have_no_sketch() -> None:
    assert template_sketch("ok em") == []


def test_indicators_from_an_analysis() -> None:
    analysis = {
        "sender": {"kind": "msisdn", "phone": {"e164": "+84961234567"}},
        "entities": {
            "phones": [{"value": "+84912345678"}],
            "urls": [{"value": "HTTP://Bit.ly/x"}],
            "bank_accounts": [{"number": "0011004455667"}],
        },
        "origin": {"ip": None},
        "template": {"sketch": ["0000abcd"]},
    }
    assert report_indicators(analysis) == [
        ("sender", "+84961234567"),
        ("callback", "+84912345678"),
        ("url", "http://bit.ly/x"),
        ("bank_account", "0011004455667"),
        ("template", "0000abcd"),
    ]


def test_vietnamese_fold_agrees_with_decomposition() -> None:
    # Plain Vietnamese folds through a codec table; anything else (emoji, ß, ligatures) decomposes.
    for text in [PRIZE.format("0912345678", "30/11"), "ĐÂY LÀ Ổ KHÓA 😀 ß ﬁ", "Hello, WORLD 42"]:
        expected = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D")).encode(
            "ascii", "ignore"
        )
        assert _fold(text) == expected.translate(_BYTE_TABLE)


def test_numbers_collapse_only_when_a_word_is_all_digits() -> None:
    assert template_sketch("a1 b22 333 c d e f g") == template_sketch("a1 b22 4 c d e f g")
    assert template_sketch("a1 b22 c d e f g") != template_sketch("a1 b2 c d e f g")


def test_the_sketch_given_to_report_indicators_is_the_one_used() -> None:
    stored = {"template": {"sketch": ["0000abcd"]}}
    assert report_indicators(stored, ["0000ffff"]) == [("template", "0000ffff")]
    assert report_indicators({}, None) == []  # neither computed nor stored: nothing to link by


def test_message_sketch_reads_the_sms_as_sent_and_an_emails_subject_and_body() -> None:
    text = PRIZE.format("0912345678", "30/11")
    sms = ReportInput.for_sms(SmsInput("0961234567", text, None, None))
    assert message_sketch(sms, limits=EmailLimits()) == template_sketch(text)
    assert len(template_sketch(text)) == SKETCH_SIZE
    head = "From: a@b.example\r\nSubject: Thông báo\r\nContent-Type: text/plain; charset=utf-8\r\n"
    raw = f"{head}\r\n{text}\r\n"
    email = ReportInput.for_email(raw.encode())
    assert message_sketch(email, limits=EmailLimits()) == template_sketch(f"Thông báo\n{text}")

"""The starter pack in rules/: it loads, and it tells a direct threat from a report about one."""

import pytest

from service.scoring import Ruleset

QUEUED = {"high", "critical"}

DIRECT_THREATS = [
    "Mày liệu hồn, tao mà gặp là tao chém chết mày",
    "may ma con noi nua tao cho nguoi xu dep may",
    "Tao biết nhà mày ở đâu rồi, tối nay tao qua giết cả nhà mày",
    "Nếu không trả 30 triệu trước thứ 6 thì đừng trách tao ác với vợ con mày",
    "I know where you live. I will kill you and your family.",
    "You have 24 hours to pay 2 BTC or I will send the video to your contacts",
    "We have your son. Pay the ransom or you will never see him again.",
    "Tôi đã đặt bom ở trụ sở công ty, 15h sẽ nổ",
    "Cong an Quan Ba Dinh: anh lien quan den duong day rua tien, yeu cau chuyen tien vao tai khoan tam giu",
    "Chúng tôi có ảnh nóng của bạn. Chuyển 10 triệu trong vòng 12h nếu không sẽ phát tán cho toàn bộ bạn bè",
    "Vietcombank thong bao: TK cua quy khach bi tam khoa. Truy cap vcb-online.xyz de xac thuc tai khoan",
    "Tao se tung dia chi nha may len mang neu may khong xoa bai",
    "Lần cuối tao nói, không rút đơn thì mày đừng hòng sống yên",
    "I am watching you. I know your address. You have until Friday to pay.",
    "We recorded you through your webcam on adult sites. Send 0.1 BTC within 48 hours.",
    "TB: Bo Cong an thong bao tai khoan dinh danh dien tu cua ban sap het han, cap nhat tai vneid-gov.top",
    "Khoản vay quá hạn, không thanh toán hôm nay chúng tôi ghép ảnh gửi cho toàn bộ danh bạ",
]

ABOUT_THREATS = [
    "Theo báo Tuổi Trẻ, cơ quan công an đã bắt giữ đối tượng nhắn tin đe dọa giết người.",
    "Công an TP.HCM cảnh báo thủ đoạn giả danh công an yêu cầu chuyển tiền vào tài khoản tạm giữ.",
    "Quả bom từ thời chiến tranh được phát hiện tại công trường, công binh đã xử lý an toàn.",
    "Nhóm khủng bố nhận trách nhiệm vụ đánh bom khiến nhiều người chết, giết hại cả trẻ em.",
    "Police say the man threatened to kill his neighbour and was charged.",
    "The film is about a terrorist who plants a bomb in a school.",
    "Vietcombank: Ma OTP cua quy khach la 123456. Tuyet doi khong cung cap ma nay cho bat ky ai.",
    "Hạn chót nộp hồ sơ là 17h thứ sáu, nếu không kịp phải đợi đợt sau",
    "Game này giết boss mãi không chết, mày vào giúp tao với",
    "Chỉ có bắn chết mấy con chuột trong vườn là xong",
    "Anh ơi chuyển khoản 500k trước tối nay nhé không thì em hết tiền ăn",
    "I'm going to kill it at the interview tomorrow!",
    "Đi đường cẩn thận nhé, tới nơi nhắn tao",
    "HSBC: Your one-time passcode is 445566. Do not share this code with anyone.",
    "Thầy bảo nộp bài trước 5h chiều, không thì 0 điểm",
]


def test_pack_loads_with_its_tests_and_declared_groups(starter_pack: Ruleset) -> None:
    assert len(starter_pack.rules) >= 20
    assert not [w for w in starter_pack.warnings if "fewer than" in w.message]
    assert set(starter_pack.thresholds.group_caps) >= {r.group for r in starter_pack.rules}
    assert starter_pack.thresholds.level_for(8) == "high"  # scoring.yaml's levels stay as they were


@pytest.mark.parametrize("text", DIRECT_THREATS)
def test_direct_threats_reach_review(starter_pack: Ruleset, text: str) -> None:
    result = starter_pack.score({"text": text}, channel="sms")
    assert result.level in QUEUED, [h.rule for h in result.hits]
    assert all(e.text for h in result.hits if h.score for e in h.evidence)


@pytest.mark.parametrize("text", ABOUT_THREATS)
def test_reports_about_threats_stay_below_high(starter_pack: Ruleset, text: str) -> None:
    result = starter_pack.score({"text": text}, channel="sms")
    assert result.level not in QUEUED, [h.rule for h in result.hits]


def test_operator_facts_alone(starter_pack: Ruleset) -> None:
    fake_bts = {"text": "VCB: nhan qua", "sender.kind": "alphanumeric", "sender.smsc_record": False}
    assert starter_pack.score(fake_bts, channel="sms").level in QUEUED
    unknown = {**fake_bts, "sender.smsc_record": None}
    assert starter_pack.score(unknown, channel="sms").level == "low"
    sim_farm = {
        "text": "hi",
        "sender.prepaid": True,
        "sender.identity_verified": False,
        "sender.age_days": 3,
        "sender.recipients_24h": 800,
    }
    assert starter_pack.score(sim_farm, channel="sms").level in QUEUED


def test_untraceable_spoofed_email(starter_pack: Ruleset) -> None:
    fields = {
        "subject": "Invoice",
        "body": "Please see attached",
        "origin.tor": True,
        "auth.spf": "fail",
        "auth.dmarc": "fail",
        "headers.anomalies": ["reply_to_mismatch"],
    }
    result = starter_pack.score(fields, channel="email")
    hits = {h.rule: h for h in result.hits}
    assert hits["email.untraceable-spoof"].score == 8
    assert hits["email.auth-failed"].consumed_by == "email.untraceable-spoof"
    assert result.level in QUEUED
    assert starter_pack.score({**fields, "origin.tor": False}, channel="email").level not in QUEUED

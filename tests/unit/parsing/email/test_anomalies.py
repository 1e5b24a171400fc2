"""Header anomalies on our own fixtures."""

from service.parsing.email import parse_email
from service.parsing.email.anomalies import fold, org_domain


def codes(parsed):
    return [a.code for a in parsed.anomalies]


def test_brand_spoof_fixture_raises_every_expected_anomaly(eml):
    parsed = parse_email(eml("brand_spoof.eml"))
    assert parsed.subject == "Tài khoản của bạn bị khoá"
    assert parsed.from_ is not None
    assert parsed.from_.addr_spec == "vcb.security.team@gmail.com"
    found = codes(parsed)
    for code in (
        "reply_to_mismatch",
        "return_path_mismatch",
        "display_name_address",
        "brand_impersonation",
        "freemail_sender",
        "missing_message_id",
        "date_far_from_received",
    ):
        assert code in found, code
    details = " ".join(a.detail for a in parsed.anomalies if a.code == "brand_impersonation")
    assert "'vietcombank'" in details


def test_authority_name_in_reply_to_display_is_not_the_sender(eml):
    parsed = parse_email(eml("brand_spoof.eml"))
    assert parsed.reply_to[0].display_name == "Công an TP"
    assert parsed.reply_to[0].domain == "congan-hcm.example"


def test_clean_mail_has_no_anomalies(eml):
    assert codes(parse_email(eml("postfix.eml"))) == []


def test_brand_on_its_own_domain_is_not_impersonation():
    raw = (
        b"From: Vietcombank <no-reply@info.vietcombank.com.vn>\r\nTo: a@example.net\r\n"
        b"Message-ID: <1@vietcombank.com.vn>\r\nSubject: x\r\n\r\nbody"
    )
    assert "brand_impersonation" not in codes(parse_email(raw))


def test_fold_and_org_domain():
    assert fold("Bộ Công An - ĐỒNG NAI") == "bo cong an dong nai"
    assert org_domain("mail.bank.com.vn") == "bank.com.vn"
    assert org_domain("a.b.example.com") == "example.com"


def test_data_tables_load_and_are_normalised():
    from service.parsing.email.anomalies import brand_domains, freemail_domains
    from service.parsing.email.trust import provider_profiles

    brands = brand_domains()
    assert brands["cong an"] == ("bocongan.gov.vn", "congan.gov.vn")
    assert all(domains and all(d == d.lower() and "." in d for d in domains) for domains in brands.values())
    assert "gmail.com" in freemail_domains()
    assert {"outlook", "gmail", "yahoo", "viettel", "vnpt", "fpt"} <= provider_profiles().keys()


def test_display_name_repeating_the_real_address_is_not_an_anomaly():
    raw = (
        b'From: "Bob@Example.org" <bob@example.org>\r\nMessage-ID: <1@example.org>\r\nSubject: x\r\n\r\nbody'
    )
    assert "display_name_address" not in codes(parse_email(raw))

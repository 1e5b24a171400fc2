"""Body text, HTML to text, URLs and attachments."""

from service.parsing.email import parse_email
from service.parsing.email.html_text import html_links, html_to_text, unescape


def test_html_to_text_runs_nothing_and_keeps_visible_text():
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body><p>Dear&nbsp;customer</p>"
        "<script>if (a<b) steal()</script>Pay <b>now</b><!-- <p>hidden</p> --> &amp; go<br>bye</body></html>"
    )
    assert html_to_text(html, 1000) == "Dear customer\nPay now & go\nbye"


def test_html_links_in_document_order():
    html = (
        '<a class=x HREF = "https://a.example/x?a=1&amp;b=2">x</a>'
        "<img src=http://i.example/p.png><p data-src=no>"
    )
    assert html_links(html) == ["https://a.example/x?a=1&b=2", "http://i.example/p.png"]


def test_unescape_references():
    assert unescape("&lt;a&gt; &#233;&#xE9; &copy &bogus; &#; &") == "<a> éé © &bogus; &#; &"


def test_html_only_mail_gives_text_and_link(eml):
    parsed = parse_email(eml("exchange_ipv6.eml"))
    assert parsed.body_text == "Dear customer,\nLog in"
    assert parsed.urls == ["https://bank-verify.example.com/login"]


def test_base64_utf8_body_and_url(eml):
    parsed = parse_email(eml("zimbra.eml"))
    assert parsed.body_text == "Xem bảng lương tại https://luong.example.vn/xem"
    assert parsed.urls == ["https://luong.example.vn/xem"]
    assert parsed.from_ is not None
    assert parsed.from_.display_name == "Phòng Nhân sự"
    assert parsed.subject == "Thông báo lương"


def test_to_dict_is_json_ready(eml):
    import json

    data = parse_email(eml("yahoo.eml")).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["origin_ip"] == "89.160.20.112"
    assert data["relays"][0]["by"] == "mx.example.net"
    assert data["from"]["addr_spec"] == "winner.office@yahoo.com"
    assert data["reply_to"][0]["domain"] == "prize.example.org"


def test_forwarded_email_is_listed_read_and_kept_for_its_own_analysis(eml):
    parsed = parse_email(eml("forwarded_report.eml"))
    assert [(a.name, a.content_type) for a in parsed.attachments] == [
        ("Thong bao phat nguoi.eml", "message/rfc822")
    ]
    assert "https://csgt-vn.example/nop-phat" in parsed.urls
    (inner_raw,) = parsed.attached_emails
    inner = parse_email(inner_raw)
    assert inner.origin_ip == "14.225.1.9"
    assert [a.code for a in inner.anomalies] == ["brand_impersonation"]
    assert "attached_emails" not in parsed.to_dict()

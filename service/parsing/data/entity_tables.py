"""Tables behind entity extraction: Vietnamese banks and their short names, link shorteners, TLDs."""

from __future__ import annotations

from typing import Final

__all__ = ["BANKS", "FILLER_WORDS", "SHORTENERS", "TLDS", "WEAK_TLDS"]

BANKS: Final = {
    "vietcombank": "Vietcombank", "vcb": "Vietcombank", "techcombank": "Techcombank", "tcb": "Techcombank",
    "bidv": "BIDV", "agribank": "Agribank", "mb": "MB", "mbbank": "MB", "mb bank": "MB", "acb": "ACB",
    "vpbank": "VPBank", "vp bank": "VPBank", "tpbank": "TPBank", "tp bank": "TPBank",
    "sacombank": "Sacombank", "vietinbank": "VietinBank", "hdbank": "HDBank", "shb": "SHB", "ocb": "OCB",
    "seabank": "SeABank", "msb": "MSB", "vib": "VIB", "eximbank": "Eximbank", "lpbank": "LPBank",
    "lienvietpostbank": "LPBank", "nam a bank": "Nam A Bank", "namabank": "Nam A Bank",
    "bac a bank": "Bac A Bank", "abbank": "ABBank", "kienlongbank": "KienlongBank",
    "pvcombank": "PVcomBank", "scb": "SCB", "bvbank": "BVBank", "vietbank": "VietBank",
    "saigonbank": "Saigonbank", "baovietbank": "BaoVietBank", "ncb": "NCB", "pgbank": "PGBank",
    "gpbank": "GPBank", "oceanbank": "OceanBank", "timo": "Timo", "momo": "MoMo", "zalopay": "ZaloPay",
}  # fmt: skip
SHORTENERS: Final = frozenset(
    {"bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "v.gd", "buff.ly"}
    | {"rebrand.ly", "cutt.ly", "shorturl.at", "rb.gy", "tiny.cc", "s.id", "t.ly", "lnkd.in", "shorte.st"}
    | {"adf.ly", "bit.do", "tiny.one", "bom.so", "bom.to", "1url.vn", "urlzs.com", "short.gy", "tr.ee"}
    | {"linktr.ee", "shope.ee", "s.net.vn"}
)
TLDS: Final = (
    "com|net|org|info|biz|vn|io|co|me|ly|gl|gd|cc|xyz|top|site|online|club|shop|store|live|app|dev|link|"
    "click|icu|vip|asia|cn|ru|tk|ml|ga|cf|gq|pw|buzz|fun|space|website|tech|today|world|life|pro|cloud|"
    "uk|us|de|jp|kr|sg|th|la|kh|ph|id|my|hk|tw|in|au|ca|fr|nl|ee|at|to|ws|su|mobi|work|support|services"
)
# Words that may stand between "STK"/a bank name and the number ("STK của chị là 0071...").
FILLER_WORDS: Final = frozenset(
    {"so", "la", "tai", "khoan", "tk", "stk", "ngan", "hang", "nh", "bank", "cua", "chu", "acc"}
    | {"account", "no", "number", "nhan", "vao", "qua", "toi", "minh", "em", "anh", "chi", "ten"}
    | {"thu", "huong", "nguoi", "the", "atm", "dich", "cac", "ban"}
)
# Two-letter TLDs that are also Vietnamese words or chat abbreviations once accents are dropped.
WEAK_TLDS: Final = frozenset(
    {"co", "me", "ly", "la", "th", "kh", "ph", "id", "my", "in", "to", "at", "us", "de", "ws", "su"}
    | {"ee", "gl", "gd", "cc", "uk", "jp", "kr", "sg", "hk", "tw", "au", "ca", "fr", "nl", "cn", "ru"}
    | {"ga", "tk", "ml", "cf", "gq", "pw"}
)

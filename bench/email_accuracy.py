"""Agreement of `parse_email` with Apache SpamAssassin's Received parser, and with auth truth.

Usage:
    python bench/email_accuracy.py FOLDER --sa-relays SA.tsv [--sa-orig SA_ORIG.tsv]
        [--truth TRUTH.tsv] [--cases CASES.jsonl] [--trusted-networks CIDR...] [-v]

SA.tsv / SA_ORIG.tsv come from `sa_relays.sh --all --long --stats FILES` (SA_ORIG with --orig-hdrs;
either may be given as --sa-relays: our chain is compared with and without the webmail hops);
TRUTH.tsv has columns path, ar_sender_ip, ..., ar_spf, ar_dkim, ar_dmarc; CASES.jsonl holds single
Received lines with their expected fields (null for a line that names no relay).

Figures printed:
  relays   our untrusted Received chain (SA-style trust) == SA's untrusted chain, IP by IP
  relays/fields  every hop, trusted or not, field by field (ip rdns helo by ident envfrom id auth)
  relays/public  the public IPs of our untrusted Received relays == those of SA's untrusted chain
  unparseable    how many Received lines could not be read == SA's count
  origin   our origin_ip == SA's deepest untrusted hop with --orig-hdrs (from --sa-relays when no
           --sa-orig is given)
  origin/public  the same, SA's side reduced to its deepest untrusted *public* hop
  auth     (spf, dkim, dmarc) == truth;  provider_ip == truth's ar_sender_ip where it has one
  cases    Received lines parsed as labelled

Measured on phishing_pot (989 emails, one empty), SpamAssassin 4.0.1:
  relays 100 %, relays/fields 100 %, unparseable 100 %, relays/public 100 %, origin/public 100 %,
  origin 85.6 % (difference 1 below, all 142 cases), auth 99.9 % (difference 3), provider_ip 100 %,
  cases 145/145.

Intentional differences from SpamAssassin and from the truth file (why we are right):
  1. origin_ip is the deepest untrusted *public* hop, as the issue defines it. SA's deepest
     untrusted hop is often not routable: 127.0.0.1 / ::1 (local submission), fe80::... (an
     Exchange client's link-local address), 10.x / 172.16-31.x (the sender's LAN). Such an address
     cannot be where the mail came from; the public hop above it can. "origin/public" measures this.
  2. X-Sender-IP (not in SA's list) counts as an originating hop only when it names an IP the
     chain does not already have: Outlook stamps it with the IP that reached Outlook.
  3. auth is read from the topmost Authentication-Results header, like the truth file, and only
     from its method=result items: results quoted inside a comment, e.g. Google's
     "arc=pass (i=1 spf=pass dkim=pass dmarc=pass ...)", are the ARC sealer's claims, not the
     receiver's verdicts (the truth file reads them: sample-2019). Received-SPF is used only when
     there is no Authentication-Results at all.
  4. Received lines longer than 4 KB are cut before parsing (SA reads them whole): bounded time.
  5. GMX's pseudo-auth token is reported as "GMX" (SA appends "(proto / host)"), as SA's own test
     labels it; only its truthiness matters for trust. This is the one line of the cases file
     SpamAssassin itself gets "wrong".
  6. Dates with the zone "-0000" (UTC, local zone unknown) are read as UTC instead of dropped.

To make SA_ORIG.tsv (not stored; needs `apt-get install -y spamassassin`):
    cd FOLDER && sa_relays.sh --orig-hdrs --all --long --stats *.eml > /tmp/sa_orig.tsv
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.parsing.email import EmailParseError, ParsedEmail, Relay, TrustConfig, parse_email
from service.parsing.email.chain import ORIGINATING_HEADERS
from service.parsing.email.received import parse_received
from service.parsing.email.received_post import RelayFields


def _public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


FIELDS = ("ip", "rdns", "helo", "by", "ident", "envfrom", "id", "auth")


def load_sa(path: Path) -> dict[str, list[tuple[str, ...]]]:
    """file -> [(T|U, ip, rdns, helo, by[, ident, envfrom, id, auth, ...])] newest first, plus
    ("#", n_unparseable), from sa_relays.sh --all [--long] --stats output."""
    chains: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if cols[0] == "#":
                chains[Path(cols[1]).name].append(("#", cols[-1]))
            elif len(cols) >= 3:
                chains[Path(cols[0]).name].append(tuple(cols[1:]))
    return chains


def load_truth(path: Path) -> dict[str, dict[str, str]]:
    """path -> row of the truth TSV."""
    with path.open(encoding="utf-8") as handle:
        return {Path(row["path"]).name: row for row in csv.DictReader(handle, delimiter="\t")}


def score_cases(path: Path, verbose: bool) -> tuple[int, int]:
    """(lines parsed as labelled, lines)."""
    good = total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        total += 1
        got = parse_received(case["received"].encode("utf-8"))
        expected = case["expected"]
        if expected is None:
            ok = not isinstance(got, RelayFields)
        else:
            ok = isinstance(got, RelayFields) and all(getattr(got, k) == v for k, v in expected.items())
        good += ok
        if not ok and verbose:
            print("case  ", case["received"][:150], "\n   exp", expected, "\n   got", got)
    return good, total


class Tally:
    """Counts agreement per metric and keeps a few mismatches."""

    def __init__(self) -> None:
        self.good: dict[str, int] = defaultdict(int)
        self.total: dict[str, int] = defaultdict(int)
        self.misses: dict[str, list[str]] = defaultdict(list)

    def add(self, metric: str, ok: bool, note: str) -> None:
        self.total[metric] += 1
        self.good[metric] += ok
        if not ok:
            self.misses[metric].append(note)

    def report(self, verbose: bool) -> None:
        for metric in self.total:
            good, total = self.good[metric], self.total[metric]
            print(f"{metric:16s} {good:5d} / {total:5d}  {100 * good / total:6.2f} %")
            for note in self.misses[metric][: 50 if verbose else 0]:
                print("    ", note)


def _none(value: str | None) -> str | None:
    return value or None


def _views(parsed: ParsedEmail) -> list[list[Relay]]:
    """Our chain as SA prints it without --orig-hdrs (Received only) and with (plus SA's webmail hops),
    so that either kind of SA output can be given."""
    received = [r for r in parsed.relays if r.source == "received"]
    with_orig = received + [r for r in parsed.relays if r.source in ORIGINATING_HEADERS]
    return [received, with_orig] if len(with_orig) > len(received) else [received]


def score_chain(name: str, parsed: ParsedEmail, sa: list[tuple[str, ...]], tally: Tally) -> None:
    """The relay metrics against one SA output."""
    sa_rows = [row for row in sa if row[0] in "TU"]
    sa_untrusted = [row[1] for row in sa_rows if row[0] == "U"]
    width = min([len(FIELDS)] + [len(row) - 1 for row in sa_rows])
    theirs_rows = [row[1 : 1 + width] for row in sa_rows]
    views = _views(parsed)
    rows = [[tuple(getattr(r, f) or "" for f in FIELDS)[:width] for r in view] for view in views]
    tally.add("relays/fields", theirs_rows in rows, f"{name}: ours {rows[0]} sa {theirs_rows}")
    untrusted = [[r.ip or "" for r in view if not r.trusted] for view in views]
    tally.add("relays", sa_untrusted in untrusted, f"{name}: ours {untrusted[0]} sa {sa_untrusted}")
    public = [[ip for ip in ips if _public(ip)] for ips in untrusted]
    sa_public = [ip for ip in sa_untrusted if _public(ip)]
    tally.add("relays/public", sa_public in public, f"{name}: ours {public[0]} sa {sa_public}")
    sa_unparsed = next((int(row[1]) for row in sa if row[0] == "#"), 0)
    tally.add("unparseable", parsed.unparsed_received == sa_unparsed,
              f"{name}: ours {parsed.unparsed_received} sa {sa_unparsed}")  # fmt: skip


def score_origin(name: str, parsed: ParsedEmail, sa: list[tuple[str, ...]], tally: Tally) -> None:
    """origin_ip against SA's deepest untrusted hop, as is and reduced to public hops."""
    sa_u = [row[1] for row in sa if row[0] == "U"]
    deepest = sa_u[-1] if sa_u else None
    deepest_pub = next((ip for ip in reversed(sa_u) if _public(ip)), None)
    tally.add("origin", parsed.origin_ip == deepest, f"{name}: ours {parsed.origin_ip} sa {deepest}")
    tally.add(
        "origin/public", parsed.origin_ip == deepest_pub, f"{name}: ours {parsed.origin_ip} sa {deepest_pub}"
    )


def score_truth(name: str, parsed: ParsedEmail, row: dict[str, str], tally: Tally) -> None:
    """auth and provider_ip against the truth file."""
    truth = (_none(row["ar_spf"]), _none(row["ar_dkim"]), _none(row["ar_dmarc"]))
    ours_auth = (parsed.auth.spf, parsed.auth.dkim, parsed.auth.dmarc)
    tally.add("auth", ours_auth == truth, f"{name}: ours {ours_auth} truth {truth}")
    if _public(row["ar_sender_ip"]):  # anonymisation damaged a few ("172.81.117.")
        tally.add("provider_ip", parsed.provider_ip == row["ar_sender_ip"],
                  f"{name}: ours {parsed.provider_ip} truth {row['ar_sender_ip']}")  # fmt: skip


def score_email(name: str, raw: bytes, args: argparse.Namespace, data: dict, tally: Tally) -> None:
    """Every metric for one email."""
    try:
        parsed = parse_email(raw, trust=TrustConfig(trusted_networks=tuple(args.trusted_networks)))
    except EmailParseError as error:
        tally.add("parse", False, f"{name}: {error}")
        return
    tally.add("parse", True, name)
    if name in data["sa"]:
        score_chain(name, parsed, data["sa"][name], tally)
    origin_source = data["orig"] if data["orig"] else data["sa"]  # without --sa-orig: --sa-relays
    if name in origin_source:
        score_origin(name, parsed, origin_source[name], tally)
    if name in data["truth"]:
        score_truth(name, parsed, data["truth"][name], tally)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sa-relays", type=Path)
    parser.add_argument("--sa-orig", type=Path)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--cases", type=Path)
    parser.add_argument(
        "--trusted-networks", nargs="*", default=[], help="as SA's trusted_networks (give SA the same --cf)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    data = {
        "sa": load_sa(args.sa_relays) if args.sa_relays else {},
        "orig": load_sa(args.sa_orig) if args.sa_orig else {},
        "truth": load_truth(args.truth) if args.truth else {},
    }
    tally = Tally()
    for path in sorted(args.folder.glob("*.eml")):
        score_email(path.name, path.read_bytes(), args, data, tally)
    tally.report(args.verbose)
    if args.cases:
        good, total = score_cases(args.cases, args.verbose)
        print(f"{'cases':16s} {good:5d} / {total:5d}")


if __name__ == "__main__":
    main()

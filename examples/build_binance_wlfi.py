"""Writes examples/binance-wlfi.jsonl: the facts of the seed scenario as relationship events.

Run `python examples/build_binance_wlfi.py` after editing the facts below; the JSONL is what is committed and fed to
the pipeline. One article (a crypto news site relaying the Wall Street Journal, 2025) is the source of every fact;
what it only reports ("in discussion", "reportedly") carries a weaker status and lower confidence.
"""

from __future__ import annotations

import json
from pathlib import Path

ARTICLE = {
    "source_url": "https://example.org/news/2025/binance-seeks-trump-family-deal",
    "publisher": "Crypto news site (relaying The Wall Street Journal)",
    "retrieved_at": "2025-05-26T12:00:00Z",
    "extractor": {"name": "manual-seed", "version": "1.0"},
}

E = {
    "binance": {"schema": "Company", "name": "Binance", "country": "mt"},
    "binance-us": {"schema": "Company", "name": "Binance.US", "country": "us"},
    "cz": {"schema": "Person", "name": "Changpeng Zhao", "aliases": ["CZ"]},
    "teng": {"schema": "Person", "name": "Richard Teng"},
    "hughes": {"schema": "Person", "name": "Eleanor Hughes"},
    "trump": {"schema": "Person", "name": "Donald Trump", "country": "us", "topics": ["role.pep", "gov.head"]},
    "potus": {"schema": "Position", "name": "President of the United States", "country": "us",
              "topics": ["gov.head", "gov.national", "gov.executive"]},
    "eric-trump": {"schema": "Person", "name": "Eric Trump", "country": "us", "topics": ["role.rca"]},
    "wlf": {"schema": "Company", "name": "World Liberty Financial", "country": "us"},
    "usd1": {"schema": "Security", "name": "USD1"},
    "sun": {"schema": "Person", "name": "Justin Sun"},
    "tron": {"schema": "Organization", "name": "Tron"},
    "treasury": {"schema": "PublicBody", "name": "US Department of the Treasury", "country": "us",
                 "topics": ["gov.national", "gov.executive", "gov.financial"]},
    "doj": {"schema": "PublicBody", "name": "US Department of Justice", "country": "us",
            "topics": ["gov.national", "gov.executive"]},
    "sec": {"schema": "PublicBody", "name": "US Securities and Exchange Commission", "country": "us",
            "topics": ["gov.national", "gov.financial"]},
    "witkoff": {"schema": "Person", "name": "Steve Witkoff", "country": "us", "topics": ["role.pep", "role.diplo"]},
    "tether": {"schema": "Company", "name": "Tether"},
    "usdt": {"schema": "Security", "name": "USDT"},
}

# (relation id, type, source, target, properties, start, end, status, confidence, quote)
FACTS = [
    ("cz-owns-binance", "ownership", "cz", "binance", {"role": "founder and owner"}, "2017-07-01", None,
     "confirmed", 0.95, "Changpeng Zhao, the founder of Binance"),
    ("binance-owns-binance-us", "ownership", "binance", "binance-us", {"role": "parent company"}, None, None,
     "confirmed", 0.9, "Binance's struggling US subsidiary"),
    ("teng-directs-binance", "directorship", "teng", "binance", {"role": "chief executive"}, None, None,
     "confirmed", 0.95, "Binance chief executive Richard Teng"),
    ("hughes-directs-binance", "directorship", "hughes", "binance", {"role": "chief legal officer"}, None, None,
     "confirmed", 0.9, "chief legal officer Eleanor Hughes"),
    ("trump-holds-potus", "occupancy", "trump", "potus", {"role": "President (second term)"}, "2025-01-20", None,
     "confirmed", 1.0, None),
    ("eric-family-trump", "family", "eric-trump", "trump", {"relationship": "son"}, None, None,
     "confirmed", 1.0, "Eric Trump, the president's son"),
    ("trump-owns-wlf", "ownership", "trump", "wlf", {"role": "backer (Trump family)"}, "2024-09-16", None,
     "reported", 0.8, "World Liberty Financial, the crypto venture backed by the Trump family"),
    ("eric-owns-wlf", "ownership", "eric-trump", "wlf", {"role": "backer and promoter"}, "2024-09-16", None,
     "reported", 0.8, "Eric Trump, who promotes World Liberty Financial"),
    ("wlf-issues-usd1", "issues", "wlf", "usd1", {"role": "issuer of the USD1 stablecoin"}, "2025-03-25", None,
     "confirmed", 0.95, "USD1, the dollar-pegged stablecoin launched by World Liberty Financial"),
    ("binance-lists-usd1", "lists", "binance", "usd1", {"role": "listing under discussion"}, None, None,
     "in_discussion", 0.6, "Binance has been exploring a listing of USD1, people familiar with the matter said"),
    ("trump-stake-binance-us", "ownership", "trump", "binance-us",
     {"role": "stake discussed by Trump family representatives"}, None, None,
     "proposed", 0.5, "representatives of the Trump family have held talks about taking a stake in Binance.US"),
    ("treasury-oversees-binance", "oversees", "treasury", "binance", {"role": "AML compliance monitorship"},
     "2023-11-21", None, "confirmed", 0.9, "a monitor overseen by the Treasury and Justice Departments"),
    ("doj-oversees-binance", "oversees", "doj", "binance", {"role": "AML monitorship under the 2023 settlement"},
     "2023-11-21", None, "confirmed", 0.9, "the $4.3 billion settlement in 2023"),
    ("binance-lobbies-treasury", "lobbies", "binance", "treasury",
     {"role": "asked for the monitor to be removed or reduced", "summary": "Teng and Hughes met Treasury officials"},
     "2025-05-01", None, "reported", 0.7, "Binance executives met Treasury officials to ask that the monitor be removed"),
    ("trump-pardons-cz", "pardons", "trump", "cz", {"role": "clemency request pending"}, "2025-03-01", None,
     "alleged", 0.6, "Zhao has been seeking a presidential pardon"),
    ("cz-associate-eric", "associate", "cz", "eric-trump", {"relationship": "met at a crypto conference"},
     "2024-12-10", None, "reported", 0.6, "Zhao met Eric Trump and Steve Witkoff in a VIP lounge in Abu Dhabi"),
    ("cz-associate-witkoff", "associate", "cz", "witkoff", {"relationship": "met at a crypto conference"},
     "2024-12-10", None, "reported", 0.6, "Zhao met Eric Trump and Steve Witkoff in a VIP lounge in Abu Dhabi"),
    ("witkoff-associate-trump", "associate", "witkoff", "trump", {"relationship": "associate; special envoy"},
     None, None, "confirmed", 0.9, "Trump associate Steve Witkoff, special envoy to the Middle East"),
    ("sun-invests-wlf", "invests_in", "sun", "wlf",
     {"amount": 75000000, "currency": "USD", "purpose": "purchase of WLF tokens"}, "2025-01-20", None,
     "confirmed", 0.9, "Justin Sun invested $75 million in World Liberty Financial's token"),
    ("sun-owns-tron", "ownership", "sun", "tron", {"role": "founder"}, "2017-09-01", None, "confirmed", 0.9, None),
    ("sec-prosecutes-sun", "prosecutes", "sec", "sun",
     {"role": "fraud lawsuit", "summary": "the SEC later asked the court to pause the case"}, "2023-03-22", None,
     "confirmed", 0.9, "the SEC, which had sued Sun for fraud, asked the court to pause the case"),
    ("cz-associate-sun", "associate", "cz", "sun", {"relationship": "plea deal cooperation; past dealings"},
     None, None, "reported", 0.6, "Zhao agreed to give prosecutors information about Sun"),
    ("binance-partners-sun", "partners_with", "binance", "sun", {"summary": "past business dealings"}, None, None,
     "reported", 0.6, "Binance has had past business dealings with Sun"),
    ("trump-controls-treasury", "control", "trump", "treasury", {"role": "head of the executive branch"},
     "2025-01-20", None, "confirmed", 1.0, None),
    ("trump-controls-doj", "control", "trump", "doj", {"role": "head of the executive branch"},
     "2025-01-20", None, "confirmed", 1.0, None),
    ("trump-controls-sec", "control", "trump", "sec", {"role": "appoints its leadership"},
     "2025-01-20", None, "confirmed", 0.9, None),
    ("tether-issues-usdt", "issues", "tether", "usdt", {"role": "issuer"}, None, None, "confirmed", 0.95,
     "Tether, the largest stablecoin issuer"),
    ("binance-lists-usdt", "lists", "binance", "usdt", {"role": "trading pair"}, None, None, "confirmed", 0.8, None),
]

# Later statements about an existing relation: the DOJ disbanded its crypto unit and suspended monitorships,
# which weakens (does not end) its oversight of Binance.
UPDATES = [
    ("doj-oversees-binance", "oversees", "doj", "binance",
     {"role": "AML monitorship; corporate monitorships suspended",
      "summary": "the DOJ disbanded its crypto enforcement unit and suspended corporate monitorships"},
     "2023-11-21", None, "reported", 0.5, "the Justice Department recently suspended corporate monitorships"),
]


def event(number: int, fact: tuple, observed_at: str) -> dict:
    relation_id, relation_type, source, target, properties, start, end, status, confidence, quote = fact
    provenance = dict(ARTICLE, confidence=confidence)
    if quote:
        provenance["quote"] = quote
    record = {
        "schema_version": "1.0",
        "event_id": f"seed-{number:03d}",
        "op": "upsert",
        "relation_id": relation_id,
        "relation_type": relation_type,
        "source": {"id": source, **E[source]},
        "target": {"id": target, **E[target]},
        "properties": properties,
        "status": status,
        "observed_at": observed_at,
        "provenance": provenance,
    }
    if start:
        record["start_date"] = start
    if end:
        record["end_date"] = end
    return record


def build() -> list[dict]:
    events = [event(i + 1, fact, f"2025-05-26T08:{i:02d}:00Z") for i, fact in enumerate(FACTS)]
    events += [event(len(FACTS) + i + 1, fact, f"2025-05-27T08:{i:02d}:00Z") for i, fact in enumerate(UPDATES)]
    return events


if __name__ == "__main__":
    target = Path(__file__).with_name("binance-wlfi.jsonl")
    target.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in build()))
    print(f"wrote {target}")

"""What a BODS import costs, whole and read file by file with its state: a synthetic register of people, companies
and their stakes, each record restated in later versions (a stake changed, an office ended), as BODS 0.4 or 0.3.

    .venv/bin/python bench/bods_import.py --records 20000 --versions 3 --files 4
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/bods_import.py --records 20000 --whole-only

Writes the register to a temporary directory (one JSON-lines file, and the same statements cut by date into
`--files` installments), then times `schemas.bods.import_bods` over it in this process (no Kafka, no command
line): the whole file, and (unless `--whole-only`, which a checkout without `BodsState` needs) the installments one
after another, each reading the state the previous one left through its JSON lines and writing it back, as
`coi-risk import --state` does. Reports statements a second, the events, a digest of the relations as the engine
keeps them (the latest version of each: the same whole and by installments), and the state's size on disk.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def register(records: int, versions: int, flavour: str, seed: int = 11) -> list[dict]:
    """People (a third declared politically exposed), companies, and one stake from a person or a company into a
    company per record, each restated `versions` times over the years (its share changed; a PEP's office ended),
    sorted by statementDate as a register publishes them."""
    rng = random.Random(seed)
    publication = {"publicationDate": "2024-01-01", "bodsVersion": "0.4" if flavour == "0.4" else "0.3",
                   "publisher": {"name": "Synthetic register", "url": "https://register.example.org/"}}
    statements: list[tuple[str, int, dict]] = []
    people, companies = max(1, records // 3), max(1, records // 3)

    def add(kind: str, record: str, version: int, date: str, details: dict) -> None:
        statement_id = f"{record}-v{version}"
        if flavour == "0.4":
            body = {"statementId": statement_id, "statementDate": date, "recordId": record, "recordType": kind,
                    "recordStatus": "new" if version == 0 else "updated", "recordDetails": details}
        else:
            kind_03 = {"person": "personStatement", "entity": "entityStatement",
                       "relationship": "ownershipOrControlStatement"}[kind]
            body = {"statementID": statement_id, "statementType": kind_03, "statementDate": date, **details}
            if version:
                body["replacesStatements"] = [f"{record}-v{version - 1}"]
        statements.append((date, len(statements), {**body, "publicationDetails": publication}))

    for number in range(companies):
        details = {"entityType": {"type": "registeredEntity"}, "name": f"Company {number}"}
        if flavour != "0.4":
            details = {"entityType": "registeredEntity", "name": f"Company {number}"}
        add("entity", f"c{number}", 0, "2015-01-01", details)
    for number in range(people):
        pep = number % 3 == 0
        for version in range(versions if pep else 1):
            details = {"personType": "knownPerson", "names": [{"fullName": f"Person {number}"}]}
            if pep:
                office = {"reason": "Member of Parliament", "jurisdiction": {"code": "GB"},
                          "startDate": "2014-05-01"}
                details["politicalExposure"] = {"status": "isPep", "details": [office]} if version < versions - 1 \
                    else {"status": "notPep"}
            add("person", f"p{number}", version, f"{2015 + 2 * version}-02-01", details)

    def party(record: str) -> dict | str:
        if flavour == "0.4":
            return record
        key = "describedByPersonStatement" if record.startswith("p") else "describedByEntityStatement"
        return {key: f"{record}-v0"}

    for number in range(records - people - companies):
        owner = f"p{rng.randrange(people)}" if rng.random() < 0.6 else f"c{rng.randrange(companies)}"
        owned = f"c{rng.randrange(companies)}"
        for version in range(versions):
            share = {"exact": rng.choice((10, 25, 30, 51, 60, 100))}
            interests = [{"type": "shareholding", "directOrIndirect": "direct", "share": share,
                          "startDate": "2014-06-01"}]
            if flavour == "0.4":
                details = {"subject": owned, "interestedParty": owner, "interests": interests}
            else:
                details = {"subject": party(owned), "interestedParty": party(owner), "interests": interests}
            add("relationship", f"r{number}", version, f"{2015 + 2 * version}-03-01", details)
    return [body for _, _, body in sorted(statements, key=lambda item: (item[0], item[1]))]


def kept_digest(events) -> tuple[int, str]:
    kept: dict[str, tuple] = {}
    count = 0
    for event in sorted(events, key=lambda e: e.observed_at):
        count += 1
        kept[event.relation_id] = (event.op.value, event.source.id, event.target.id, event.properties.percentage,
                                   str(event.start_date), str(event.end_date))
    text = json.dumps(sorted(kept.items()))
    return count, hashlib.sha256(text.encode()).hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--flavour", choices=("0.4", "0.3"), default="0.4")
    parser.add_argument("--whole-only", action="store_true", help="only the whole file (a checkout without state)")
    args = parser.parse_args()

    from schemas.bods import import_bods
    from schemas.ftm import ImportDefaults, ImportReport

    statements = register(args.records, args.versions, args.flavour)
    defaults = ImportDefaults(source_url="https://register.example.org/", extractor_name="bods-import")
    with tempfile.TemporaryDirectory() as directory:
        whole = Path(directory) / "register.jsonl"
        whole.write_text("".join(json.dumps(s) + "\n" for s in statements))

        def reader(path: Path):
            return lambda: (json.loads(line) for line in path.open(encoding="utf-8"))

        started = time.perf_counter()
        events = list(import_bods(reader(whole), defaults, ImportReport()))
        seconds = time.perf_counter() - started
        count, digest = kept_digest(events)
        row = {"repo": str(REPO), "flavour": args.flavour, "statements": len(statements),
               "whole_statements_per_second": round(len(statements) / seconds), "whole_events": count,
               "whole_digest": digest}
        if not args.whole_only:
            from schemas.bods import BodsState

            dates = sorted({s["statementDate"] for s in statements})
            cuts = [dates[len(dates) * part // args.files] for part in range(1, args.files)]
            parts: list[list[dict]] = [[] for _ in range(args.files)]
            for s in statements:
                parts[sum(s["statementDate"] >= cut for cut in cuts)].append(s)
            state_file = Path(directory) / "register.state.jsonl"
            files = []
            for number, part in enumerate(parts):
                path = Path(directory) / f"part-{number}.jsonl"
                path.write_text("".join(json.dumps(s) + "\n" for s in part))
                files.append(path)
            installments = []
            started = time.perf_counter()
            for path in files:
                state = BodsState()
                if state_file.exists():
                    with state_file.open(encoding="utf-8") as lines:
                        state = BodsState.from_lines(json.loads(line) for line in lines)
                installments += import_bods(reader(path), defaults, ImportReport(), state)
                with state_file.open("w", encoding="utf-8") as out:
                    out.writelines(json.dumps(entry) + "\n" for entry in state.lines())
            seconds = time.perf_counter() - started
            count, digest = kept_digest(installments)
            row.update({"files": args.files, "installments_statements_per_second": round(len(statements) / seconds),
                        "installments_events": count, "installments_digest": digest,
                        "state_bytes_per_statement": round(state_file.stat().st_size / len(statements))})
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())

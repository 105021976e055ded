"""The tie paths a rule reads add up as the probability that one of them holds, each relation counted once
(`rules.assess` through `combine.union_strength`), as the authority paths do. Before, they combined by noisy-OR
kind by kind, so a relative's one stake, or his one family tie, shared by several tie paths counted once per path."""

from __future__ import annotations

import datetime as dt

import pytest

from scoring import Engine

MINISTER = ("minister", "Person", "The Minister", ("role.pep",))
OFFICE = ("finance-minister", "Position", "Minister of Finance", ("gov.national",))
SUPERVISOR = ("supervisor", "PublicBody", "Banking Supervisor", ("gov.national", "gov.financial"))
SON = ("son", "Person", "The Son", ())
BANK = ("bank", "Company", "Regulated Bank", ())


def world(make, firms: int, family_status: str = "confirmed", to_the_firms: str = "partners_with") -> list:
    """The minister steers the bank's supervisor; his son holds `firms` firms, each tied to the bank."""
    events = [make("occupancy", MINISTER, OFFICE, start="2020-01-01"), make("control", OFFICE, SUPERVISOR),
              make("regulates", SUPERVISOR, BANK),
              make("family", SON, MINISTER, relationship="son", status=family_status)]
    for number in range(firms):
        firm = (f"firm-{number}", "Company", f"Son's Firm {number}", ())
        events.append(make("ownership", SON, firm, percentage=100))
        events.append(make(to_the_firms, BANK, firm))
    return events


def score(events):
    engine = Engine(as_of=dt.date(2025, 1, 1))
    engine.apply_many(events)
    return engine.score("minister", "bank")


def test_a_family_tie_every_path_needs_counts_once(make):
    """Reported as his son (0.85), the six firms' paths all need that one relation: the tie is 0.85 x what the six
    partnerships add up to, never more than the family tie itself (noisy-OR made it 0.997)."""
    confirmed, reported = score(world(make, 6)), score(world(make, 6, "reported"))
    assert confirmed.rules == reported.rules == ("COI-AUTH-COMMERCIAL",)
    assert reported.score == pytest.approx(confirmed.score * 0.85, abs=2e-6)
    # one firm: one path, where noisy-OR and the union agree
    assert score(world(make, 1, "reported")).score == pytest.approx(score(world(make, 1)).score * 0.85, abs=2e-6)


def test_more_firms_still_add_up(make):
    """Counting the shared tie once does not stop independent ties from adding up: six firms tied to the bank are
    surer than one."""
    assert score(world(make, 1)).score < score(world(make, 3)).score < score(world(make, 6)).score


def test_paths_of_two_kinds_one_rule_reads_share_their_relations_too(make):
    """The revolving door reads ownership and commercial paths alike: the bank co-owning three of the son's firms
    (the ownership kind) and partnering with three others (the commercial kind) need the one family tie, counted
    once over both kinds (before, once per kind and once per path)."""
    def left_office(family_status):
        events = world(make, 3, family_status)
        events[0] = make("occupancy", MINISTER, OFFICE, start="2018-01-01", end="2023-12-31")
        for number in range(3, 6):
            firm = (f"firm-{number}", "Company", f"Son's Firm {number}", ())
            events += [make("ownership", SON, firm, percentage=100), make("ownership", BANK, firm, percentage=30)]
        return events
    confirmed, reported = score(left_office("confirmed")), score(left_office("reported"))
    assert confirmed.rules == reported.rules == ("COI-REVOLVING-DOOR",)
    assert reported.score == pytest.approx(confirmed.score * 0.85, abs=2e-6)

"""No single message can stop the processor (issue 11): null values, huge values, reused event ids, events from the
future and outputs over the message limit all end as bounded dead letters, and a replay decides the same."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from schemas import Alert, AlertState, DeadLetter, RejectReason, RiskScore
from scoring import AlertTracker, Engine, ScoringConfig
from streams.config import load_settings
from streams.metrics import PipelineMetrics
from streams.processor import EventProcessor, InputRecord, ProcessingLimits
from streams.snapshots import Identity, SnapshotState, SnapshotStore, config_hash
from tests.unit.streams.test_processor import APPENDED_MS, make_processor, record

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"
LINES = SEED.read_bytes().splitlines()


def keyed(line: bytes, offset: int, **kwargs) -> InputRecord:
    return record(line, offset, key=json.loads(line)["relation_id"].encode(), **kwargs)


def letter_of(outcome) -> DeadLetter:
    (out,) = [out for out in outcome.outbound if out.role == "dead_letters"]
    return DeadLetter.model_validate_json(out.value)


def test_a_null_value_is_a_dead_letter_without_an_original():
    processor, registry = make_processor()
    outcome = processor.process(record(None, 3, key=b"rel-1"))
    letter = letter_of(outcome)
    assert outcome.rejected is RejectReason.NULL_VALUE and outcome.event is None
    assert letter.original_value is None and letter.original_value_length is None
    assert base64.b64decode(letter.original_key) == b"rel-1"
    assert registry.get_sample_value("coi_events_rejected_total", {"reason": "null_value"}) == 1
    assert processor.process(keyed(LINES[0], 4)).rejected is None  # and the next message is applied


@pytest.mark.parametrize("size", [900_000, 5_000_000])
def test_a_dead_letter_is_bounded_whatever_the_size_of_the_message(size):
    processor, _ = make_processor()
    value = (LINES[0] + b" " * size)[:size]
    key = b"k" * size
    outcome = processor.process(record(value, 9, key=key))
    (out,) = outcome.outbound
    limits = ProcessingLimits()
    assert len(out.key) + len(out.value) <= limits.max_message_bytes
    letter = DeadLetter.model_validate_json(out.value)
    assert letter.reason is RejectReason.PAYLOAD_TOO_LARGE
    assert base64.b64decode(letter.original_value) == value[: limits.dead_letter_max_original_bytes]
    assert letter.original_value_truncated and letter.original_value_length == size
    assert letter.original_value_sha256 == hashlib.sha256(value).hexdigest()
    assert letter.original_key_truncated and letter.original_key_length == size
    assert (letter.topic, letter.partition, letter.offset) == ("in", 0, 9)


@pytest.mark.parametrize("max_message_bytes, value_size, key_size", [
    (100_000, 70_000, 20_000),  # an operator's broker that takes about 100 KB: each prefix fits alone, not both
    (4096, 70_000, 20_000),  # the lowest setting
    (4096, 1000, 20_000),  # a small value, a long key
])
def test_a_dead_letter_fits_the_message_limit_with_the_prefixes_cut_to_fit(max_message_bytes, value_size, key_size):
    # a letter the broker refused stopped the worker on the same message at every restart
    limits = ProcessingLimits(max_message_bytes=max_message_bytes)
    processor = EventProcessor(Engine(), AlertTracker(), None, limits=limits)
    value, key = b"x" * value_size, b"k" * key_size
    (out,) = processor.process(record(value, 7, key=key)).outbound
    assert len(out.key) + len(out.value) <= max_message_bytes
    letter = DeadLetter.model_validate_json(out.value)
    kept_value, kept_key = base64.b64decode(letter.original_value), base64.b64decode(letter.original_key)
    assert value.startswith(kept_value) and key.startswith(kept_key)
    assert letter.original_value_truncated is (len(kept_value) < value_size)
    assert letter.original_key_truncated is (len(kept_key) < key_size)
    assert (letter.original_value_length, letter.original_key_length) == (value_size, key_size)
    assert letter.original_value_sha256 == hashlib.sha256(value).hexdigest()
    # the room left is used, not given away: what is cut is cut because it would not fit
    assert len(out.key) + len(out.value) > max_message_bytes - 64 or not letter.original_value_truncated


def test_a_dead_letter_message_of_wide_characters_fits_the_lowest_limit(monkeypatch):
    limits = ProcessingLimits(max_message_bytes=4096)
    processor = EventProcessor(Engine(), AlertTracker(), None, limits=limits)

    def explode(*args, **kwargs):
        raise RuntimeError("\U0001f4a3" * 3000)  # four bytes each in UTF-8

    monkeypatch.setattr(processor.engine, "apply", explode)
    (out,) = processor.process(keyed(LINES[0], 0)).outbound
    assert len(out.key) + len(out.value) <= 4096
    letter = DeadLetter.model_validate_json(out.value)
    assert letter.reason is RejectReason.PROCESSING_ERROR and "\U0001f4a3" in letter.message


def test_a_small_rejected_message_is_kept_whole():
    processor, _ = make_processor()
    letter = letter_of(processor.process(record(b"[1]", 0)))
    assert base64.b64decode(letter.original_value) == b"[1]"
    assert not letter.original_value_truncated and letter.original_value_length == 3


def test_the_dead_letter_message_is_bounded_and_encodable(monkeypatch):
    processor, _ = make_processor()

    def explode(*args, **kwargs):
        raise RuntimeError("\ud800" + "x" * 100_000)  # a lone surrogate cannot be encoded as UTF-8

    monkeypatch.setattr(processor.engine, "apply", explode)
    letter = letter_of(processor.process(keyed(LINES[0], 0)))
    assert letter.reason is RejectReason.PROCESSING_ERROR
    assert len(letter.message) <= 2000 and "\\ud800" in letter.message


def reformatted(line: bytes) -> bytes:
    """The same event with other key order and spacing."""
    return json.dumps(dict(reversed(list(json.loads(line).items()))), indent=2).encode()


def test_the_same_event_again_changes_nothing_but_other_content_under_its_id_is_a_dead_letter():
    processor, registry = make_processor()
    outputs = [processor.process(keyed(line, offset)) for offset, line in enumerate(LINES)]
    assert all(outcome.rejected is None for outcome in outputs)
    again = processor.process(keyed(reformatted(LINES[3]), len(LINES)))
    assert again.rejected is None and again.outbound == []

    retraction = dict(json.loads(LINES[3]), op="retract")  # reuses the upsert's event_id
    encoded = json.dumps(retraction).encode()
    outcome = processor.process(keyed(encoded, len(LINES) + 1))
    assert outcome.rejected is RejectReason.CONFLICTING_EVENT_ID
    assert retraction["event_id"] in letter_of(outcome).message
    assert registry.get_sample_value("coi_events_rejected_total", {"reason": "conflicting_event_id"}) == 1
    # the relation still stands: the conflicting retraction was not applied
    assert processor.engine.graph.relation(retraction["relation_id"]) is not None


def test_a_restart_from_a_snapshot_still_knows_the_content_of_every_applied_event_id(tmp_path):
    processor, _ = make_processor()
    for offset, line in enumerate(LINES):
        processor.process(keyed(line, offset))
    snapshots = SnapshotStore(tmp_path, Identity("app", "events", config_hash(processor.engine.engine.config)))
    snapshots.save(SnapshotState(processor.engine, processor.tracker, {0: len(LINES)}))
    restarted, _ = make_processor()
    state, _ = snapshots.load_newest()
    restarted.engine, restarted.tracker = state.engine, state.tracker

    assert restarted.process(keyed(reformatted(LINES[3]), len(LINES))).outbound == []  # the same content: a no-op
    retraction = json.dumps(dict(json.loads(LINES[3]), op="retract")).encode()  # its id, other content
    assert restarted.process(keyed(retraction, len(LINES) + 1)).rejected is RejectReason.CONFLICTING_EVENT_ID


def test_a_replay_of_the_log_reaches_the_same_decisions():
    log = [keyed(line, offset) for offset, line in enumerate(LINES)]
    changed = dict(json.loads(LINES[5]), status="alleged")
    log.append(keyed(json.dumps(changed).encode(), len(log)))
    future = dict(json.loads(LINES[6]), event_id="future-1", observed_at="2205-01-01T00:00:00Z")
    log.append(keyed(json.dumps(future).encode(), len(log)))
    log.append(record(None, len(log)))

    def run() -> list:
        processor, _ = make_processor()
        return [(o.rejected, [(out.role, out.key, out.value) for out in o.outbound])
                for o in map(processor.process, log)]

    first, second = run(), run()
    assert first == second
    assert [rejected for rejected, _ in first[-3:]] == [RejectReason.CONFLICTING_EVENT_ID,
                                                         RejectReason.OBSERVED_AT_IN_FUTURE, RejectReason.NULL_VALUE]


def event_observed_at(when: dt.datetime, event_id: str) -> bytes:
    return json.dumps(dict(json.loads(LINES[6]), event_id=event_id, observed_at=when.isoformat())).encode()


def test_an_event_from_the_future_cannot_move_the_engine_clock():
    processor, registry = make_processor()
    for offset, line in enumerate(LINES):
        processor.process(keyed(line, offset))
    clock = processor.engine.clock
    appended = dt.datetime.fromtimestamp(APPENDED_MS / 1000, dt.UTC)
    outcome = processor.process(keyed(event_observed_at(dt.datetime(2205, 1, 1, tzinfo=dt.UTC), "far"), 100))
    assert outcome.rejected is RejectReason.OBSERVED_AT_IN_FUTURE
    assert "2205-01-01" in letter_of(outcome).message
    # "is 65380 days, 0:00:00 after": a duration the reader had to work out
    assert f"is 179 years after the message was appended ({appended.isoformat()}); at most 24 hours is " \
        "accepted" in letter_of(outcome).message
    just_over = appended + dt.timedelta(days=1, milliseconds=1)
    assert processor.process(keyed(event_observed_at(just_over, "over"), 101)).rejected \
        is RejectReason.OBSERVED_AT_IN_FUTURE
    assert processor.engine.clock == clock
    assert registry.get_sample_value("coi_events_rejected_total", {"reason": "observed_at_in_future"}) == 2
    within = appended + dt.timedelta(days=1)
    assert processor.process(keyed(event_observed_at(within, "within"), 102)).rejected is None
    assert processor.engine.clock == within


def test_the_future_skew_is_a_setting():
    settings_ = load_settings(environ={"COI_MAX_FUTURE_SKEW_SECONDS": "60"})
    limits = ProcessingLimits.from_settings(settings_)
    assert limits.max_future_skew == dt.timedelta(seconds=60)
    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config), limits=limits)
    appended = dt.datetime.fromtimestamp(APPENDED_MS / 1000, dt.UTC)
    two_minutes = event_observed_at(appended + dt.timedelta(minutes=2), "soon")
    assert processor.process(keyed(two_minutes, 0)).rejected is RejectReason.OBSERVED_AT_IN_FUTURE


def test_outputs_over_the_message_limit_are_withheld_and_the_event_dead_lettered():
    config = ScoringConfig.load()
    # the seed's outputs are 5 to 17 KB; cut to one path of each kind without quotes, some fit in 4 KB, some not
    limits = ProcessingLimits(max_message_bytes=4_000)
    processor = EventProcessor(Engine(config), AlertTracker(config), limits=limits)
    letters, published = [], []
    for offset, line in enumerate(LINES):
        outcome = processor.process(keyed(line, offset))
        assert outcome.event is not None  # every event was applied
        for out in outcome.outbound:
            assert len(out.key) + len(out.value) <= 4_000
            (letters if out.role == "dead_letters" else published).append(out)
    assert letters and published
    letter = DeadLetter.model_validate_json(letters[0].value)
    assert letter.reason is RejectReason.OUTPUT_TOO_LARGE and "4000" in letter.message
    assert "scores " in letter.message or "alerts " in letter.message


def test_an_event_with_outputs_withheld_counts_as_valid_and_as_rejected():
    # docs/observability.md and the dashboard said consumed = valid + rejected; this one event is both
    config = ScoringConfig.load()
    registry = CollectorRegistry()
    processor = EventProcessor(Engine(config), AlertTracker(config), PipelineMetrics(registry),
                               limits=ProcessingLimits(max_message_bytes=4_000))
    for offset, line in enumerate(LINES):
        processor.process(keyed(line, offset))
    processor.process(record(b"{", len(LINES)))  # and one that is only rejected

    def value(name, **labels):
        return registry.get_sample_value(name, labels) or 0

    withheld = value("coi_events_rejected_total", reason="output_too_large")
    rejected = sum(value("coi_events_rejected_total", reason=reason.value) for reason in RejectReason)
    assert withheld > 0 and value("coi_events_valid_total") == len(LINES)
    assert value("coi_events_consumed_total") == value("coi_events_valid_total") + rejected - withheld


@pytest.mark.parametrize("listed", [None, 1000], ids=["default listing", "every statement listed"])
def test_a_well_corroborated_conflict_is_published_with_its_evidence_cut_to_fit_not_withheld(listed):
    """A hundred outlets each quote (5,000 characters, the contract's limit) that the president controls the
    Treasury. Every path through that edge lists its statements, so the scores and alerts of Trump x Binance and
    Trump x Changpeng Zhao outgrew max_message_bytes when an edge listed them all: they used to be withheld, and the
    Zhao alert was never raised on the alerts topic at all. They are published with each edge's evidence cut to
    what fits (its primary statement first) and the number left out said. (By default an edge lists 25
    statements, `evidence.max_listed_statements`: with 1000, the worker's cut does all the work, as before.)"""
    config = ScoringConfig.load()
    if listed is not None:
        config = config.model_copy(update={"evidence": config.evidence.model_copy(
            update={"max_listed_statements": listed})})
    processor = EventProcessor(Engine(config), AlertTracker(config), PipelineMetrics(CollectorRegistry()))
    documents = [json.loads(line) for line in LINES]
    control = next(d for d in documents if d["relation_id"] == "trump-controls-treasury")
    restated = []
    for number in range(100):
        statement = json.loads(json.dumps(control))
        statement.update(event_id=f"outlet-{number}", relation_id=f"trump-controls-treasury-{number}")
        statement["provenance"].update(source_url=f"https://example.org/outlet/{number}", publisher=f"Outlet {number}",
                                       quote=("The president steers the Treasury. " * 150)[:5000])
        restated.append(json.dumps(statement).encode())
    limit = processor.limits.max_message_bytes
    published, raw = {"scores": {}, "alerts": []}, {}
    for offset, line in enumerate([*restated, *(line for line in LINES if b'"trump-controls-treasury"' not in line)]):
        outcome = processor.process(keyed(line, offset))
        assert outcome.event is not None
        for out in outcome.outbound:
            assert out.role != "dead_letters", out.value[:300]
            assert len(out.key) + len(out.value) <= limit
            if out.role == "scores":
                published["scores"][out.key.decode()] = RiskScore.model_validate_json(out.value)
                raw[out.key.decode()] = out.value
            else:
                published["alerts"].append(Alert.model_validate_json(out.value))
    raised = {(a.actor_id, a.case_id) for a in published["alerts"] if a.state is AlertState.RAISED}
    assert raised == {("trump", "binance"), ("trump", "cz"), ("trump", "sun")}
    engine, worker_cut = processor.engine, 0
    for key, score in published["scores"].items():
        live = engine.score(*key.split("|"))
        assert (score.score, score.band, score.rules) == (live.score, live.band, live.rules)
        for shown, full in zip((*score.authority_paths, *score.commercial_paths),
                               (*live.authority_paths, *live.commercial_paths), strict=True):
            assert (shown.text, shown.strength) == (full.text, full.strength)
            for edge, whole in zip(shown.edges, full.edges, strict=True):
                assert edge.evidence == whole.evidence[:len(edge.evidence)] and edge.evidence
                assert edge.evidence_omitted == whole.evidence_omitted + len(whole.evidence) - len(edge.evidence)
                worker_cut += len(whole.evidence) - len(edge.evidence)
    assert worker_cut > 0 if listed == 1000 else True
    cut = [edge for score in published["scores"].values() for path in score.authority_paths for edge in path.edges
           if edge.evidence_omitted]
    assert cut and all(edge.relation_type == "control" and edge.target_id == "treasury" for edge in cut)
    assert all(len(edge.evidence) + edge.evidence_omitted == 100 for edge in cut)
    # an output that fits is published whole, as before, without the field
    assert b"evidence_omitted" not in raw["trump|sun"] and b"evidence_omitted" in raw["trump|cz"]

EDGE_DAYS = st.sampled_from(["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31", "1000-01-01", "2999-12-31"])
EDGE_TIMES = st.builds("{}T{}{}".format, EDGE_DAYS, st.sampled_from(["00:00:00", "23:59:59"]),
                       st.sampled_from(["Z", "+23:59", "-23:59", "+01:00", "-01:00"]))


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(["observed_at", "retrieved_at", "start_date", "end_date"]), when=EDGE_TIMES,
       position=st.integers(0, len(LINES) - 1))
def test_extreme_dates_are_rejected_as_input_never_an_engine_failure(field, when, position):
    processor, _ = make_processor()
    document = json.loads(LINES[position])
    value = when if field in ("observed_at", "retrieved_at") else when[:10]
    (document["provenance"] if field == "retrieved_at" else document)[field] = value
    if field == "start_date":
        document.pop("end_date", None)
    for offset, line in enumerate(LINES[:position]):
        processor.process(keyed(line, offset))
    outcome = processor.process(record(json.dumps(document).encode(), position, timestamp_ms=None))
    assert outcome.rejected is not RejectReason.PROCESSING_ERROR


@pytest.mark.parametrize("listed", [None, 1000], ids=["default listing", "every merge listed"])
@pytest.mark.parametrize("id_length", [12, 200])
def test_a_conflict_of_an_entity_merged_from_many_ids_is_published_with_its_merges_cut_to_fit(id_length, listed):
    """Each id merged into an entity adds its merge's evidence (~570 bytes) and its id to every score and alert of
    the entity: 2,000 judgements naming ids nothing else names made the minister's conflict, arriving afterwards,
    1.14 MB, withheld as output_too_large, and its alert was never raised. (Here the same with 120 ids under a
    40 KB limit.) The merges' evidence is cut to fit, then the ids, each saying how many it left out. (A score
    lists 25 of each by default, `evidence.max_listed_merges`: with 1000, the worker's cut does all the work.)"""
    from tests.unit.scoring.conftest import EventFactory
    from tests.unit.scoring.resolution_support import judgement

    config = ScoringConfig.load()
    if listed is not None:
        config = config.model_copy(update={"evidence": config.evidence.model_copy(
            update={"max_listed_merges": listed})})
    processor = EventProcessor(Engine(config), AlertTracker(config),
                               limits=ProcessingLimits(max_message_bytes=40_000))
    make = EventFactory().make
    minister = ("minister", "Person", "Finance Minister", ("role.pep", "gov.national"))
    ghosts = [(f"zz-{number:04d}-" + "x" * (id_length - 8), "Person", f"Ghost {number}", ()) for number in range(120)]
    events = [make("control", minister, "regulator"), make("regulates", "regulator", "bank"),
              *(judgement(ghost, minister, relation_id=f"g{number}", matcher="adversary")
                for number, ghost in enumerate(ghosts)),
              make("ownership", "minister", "vendor", percentage=100),
              make("payment", "bank", "vendor", amount=3e6, currency="USD")]
    published, alerts = {}, []
    for offset, event in enumerate(events):
        outcome = processor.process(record(event.model_dump_json(by_alias=True).encode(), offset,
                                           key=event.relation_id.encode()))
        for out in outcome.outbound:
            assert out.role != "dead_letters", out.value[:300]
            assert len(out.key) + len(out.value) <= 40_000
            if out.role == "scores":
                published[out.key.decode()] = (RiskScore.model_validate_json(out.value), out.value)
            else:
                alerts.append(Alert.model_validate_json(out.value))
    assert [(a.state, a.actor_id, a.counterparty_id) for a in alerts] == [(AlertState.RAISED, "minister", "bank")]
    score, raw = published["minister|bank"]
    live = processor.engine.score("minister", "bank")
    assert (score.score, score.band, score.rules) == (live.score, live.band, live.rules)
    (note,), (whole,) = score.merges, live.merges
    assert note.evidence == whole.evidence[:len(note.evidence)]
    assert note.evidence_omitted == whole.evidence_omitted + len(whole.evidence) - len(note.evidence)
    assert len(note.evidence) + note.evidence_omitted == 120
    assert note.member_ids == whole.member_ids[:len(note.member_ids)] and note.member_ids[0] == "minister"
    assert note.member_ids_omitted == whole.member_ids_omitted + len(whole.member_ids) - len(note.member_ids)
    assert len(note.member_ids) + note.member_ids_omitted == 121
    assert score.actor_merged_ids == note.member_ids
    if listed == 1000:  # the worker cut: the evidence first, and the ids only where that was not enough
        assert len(note.evidence) < len(whole.evidence) == 120
        assert (note.member_ids_omitted > 0) is (id_length == 200)  # short ids fit once the evidence is cut
    else:
        assert len(whole.evidence) == len(whole.member_ids) == 25
    assert "stands for 121 ids" in note.text and "GET /entities/minister" in note.text


def test_a_duration_in_a_dead_letter_reads_as_a_person_says_it():
    from streams.processor import _how_long

    said = {1_500: "1.5 s", 119_600: "1 minute", 3_599_000: "59 minutes", 3_660_000: "1 hour 1 minute",
            18_420_000: "5 hours 7 minutes", 86_400_000: "24 hours", 3 * 86_400_000: "3 days",
            3 * 31_556_952_000: "3 years"}
    assert {ms: _how_long(ms) for ms in said} == said


def test_a_conflict_whose_quotes_outgrow_the_limit_is_published_with_them_cut_not_withheld():
    """Long quotes (the contract allows 5,000 characters) repeat in every shown path through their edge: a reviewer's
    chain of companies with CJK quotes made a conflict's score and alert 1.4 MB, withheld as output_too_large for
    good, while the alert tracker held the alert open, so its later transitions named an alert never raised. (Here
    the seed with a 5,000-character quote on every event, under a 30 KB limit.) Past the statements per edge, the
    quotes are cut (each ends with `QUOTE_CUT`), then the paths beyond the strongest of each list."""
    from streams.processor import QUOTE_CUT

    limit = 30_000
    processor = EventProcessor(Engine(), AlertTracker(), limits=ProcessingLimits(max_message_bytes=limit))
    quoted = []
    for line in LINES:
        document = json.loads(line)
        document["provenance"]["quote"] = ("\u6c5f" * 5000)
        quoted.append(json.dumps(document, ensure_ascii=False).encode())
    alerts, scores = [], {}
    for offset, line in enumerate(quoted):
        outcome = processor.process(keyed(line, offset))
        assert outcome.rejected is None
        for out in outcome.outbound:
            assert out.role != "dead_letters", out.value[:300]
            assert len(out.key) + len(out.value) <= limit
            if out.role == "alerts":
                alerts.append(Alert.model_validate_json(out.value))
            else:
                scores[out.key.decode()] = RiskScore.model_validate_json(out.value)
    assert {(a.actor_id, a.case_id) for a in alerts if a.state is AlertState.RAISED} == \
        {("trump", "binance"), ("trump", "cz"), ("trump", "sun")}
    quotes = [evidence.quote for score in scores.values() for path in (*score.authority_paths,
              *score.commercial_paths) for edge in path.edges for evidence in edge.evidence]
    assert any(quote is not None and quote.endswith(QUOTE_CUT) and len(quote) < 5000 for quote in quotes)
    live = processor.engine.score("trump", "sun")
    shown = scores["trump|sun"]
    assert (shown.score, shown.band, shown.rules) == (live.score, live.band, live.rules)
    assert shown.authority_paths[0].text == live.authority_paths[0].text  # the strongest kept, whole but its quotes


def test_an_alert_whose_related_parties_outgrow_the_limit_lists_the_strongest_and_counts_the_rest():
    # a relative owning hundreds of holding companies of one regulated firm: each a related party of the alert,
    # none of them cut, so the alert outgrew the limit (about 340 parties of long names) and was withheld
    from schemas.outputs import RelatedParty
    from streams.processor import _cut_to_fit

    processor, _ = make_processor()
    outputs = [out for offset, line in enumerate(LINES) for out in processor.process(keyed(line, offset)).outbound]
    alert = next(Alert.model_validate_json(out.value) for out in outputs if out.role == "alerts")
    parties = tuple(RelatedParty(id=f"holding-{n:04d}", name="H" * 500, score=0.3, band="medium")
                    for n in range(400))
    crowded = alert.model_copy(update={"related_parties": parties})
    room = len(alert.model_dump_json()) + 20 * 600
    value = _cut_to_fit(crowded, room)
    assert value is not None and len(value) <= room
    cut = Alert.model_validate_json(value)
    assert 0 < len(cut.related_parties) < 400
    assert cut.related_parties == parties[:len(cut.related_parties)]
    assert cut.related_parties_omitted == 400 - len(cut.related_parties)
    # an alert that lists every party is published as before, without the field
    assert b"related_parties_omitted" not in alert.model_dump_json().encode()

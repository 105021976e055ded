"""Output contracts: risk scores, alert transitions and dead letters, as downstream consumers read them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.vocabulary import RelationType

OUTPUT_SCHEMA_VERSION = "1.0"


class _Output(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Evidence(_Output):
    """One statement behind an edge: which event said it, where, and how sure. An edge is one fact; every statement
    of it (by any publisher, under any relation id) is one Evidence."""

    event_id: str
    relation_id: str | None = Field(default=None, description="the statement's relation id (an edge stated "
                                                              "several times lists each)")
    source_url: str
    publisher: str
    extractor: str = Field(description="name/version of the extractor")
    confidence: float
    status: str
    observed_at: dt.datetime
    quote: str | None = None
    offset: str | None = Field(default=None, description="partition:offset of the event in the input topic, "
                                                         "when the engine was fed from Kafka")


class PathEdge(_Output):
    """One hop of an explanation. `forward` is false when the path walks the relation against its direction. A tie
    that runs both ways (family, associate, partners_with) is shown from its primary statement's source, or, where
    only statements made from its other end give a word (`role`), from that end."""

    relation_id: str
    relation_type: RelationType
    source_id: str
    source_name: str
    target_id: str
    target_name: str
    forward: bool = True
    status: str
    weight: float = Field(description="Strength of this hop in [0, 1] after stake, status and confidence.")
    evidence: tuple[Evidence, ...]
    evidence_omitted: int = Field(
        default=0, ge=0, exclude_if=lambda omitted: omitted == 0,
        description="Statements of this edge's fact left out of `evidence`: beyond the scoring config's "
                    "`evidence.max_listed_statements` (the primary, the first of each other publisher, then the "
                    "oldest are listed), or cut because the message would otherwise exceed the worker's "
                    "max_message_bytes (the first ones listed are kept); the weight counts them all. Absent when "
                    "every statement is listed.")
    role: str | None = Field(
        default=None, exclude_if=lambda role: role is None,
        description="What the relation is, as its statements word it: the event's `relationship` for a family tie "
                    "or an associate (what the target is to the source: father, spouse, business partner), its "
                    "`role` for the rest (chief executive, monitor; a seat's role in its body, chair or member, also "
                    "weighs the seat's share of the body's authority: the scoring config's `authority.seat_roles`). "
                    "A fact its sources word otherwise: each distinct word, in the order `evidence` lists the "
                    "statements, joined by ' / '. Absent where no statement gives one.")
    roles: tuple[str, ...] = Field(
        default=(), exclude_if=lambda roles: not roles,
        description="The words `role` joins, each whole as stated (a source's own word can hold ' / '). Absent "
                    "where no statement gives one.")


class PathKind(StrEnum):
    AUTHORITY = "authority"
    COMMERCIAL = "commercial"


class ExplanationPath(_Output):
    kind: PathKind
    text: str = Field(description="Readable rendering, e.g. 'Donald Trump -family-> Eric Trump -ownership-> WLF'")
    strength: float
    edges: tuple[PathEdge, ...]


class ScoreKey(_Output):
    actor_id: str = Field(description="The politically exposed actor who holds (or whose office holds) authority.")
    counterparty_id: str = Field(description="The party under that authority with commercial ties to the actor.")

    def kafka_key(self) -> str:
        return f"{self.actor_id}|{self.counterparty_id}"


class IdentifierStatement(_Output):
    """The statement that gave one id an identifier a merge is made on: of every event stating it, the one with the
    lowest event id (the same one in any order of arrival)."""

    entity_id: str
    event_id: str
    publisher: str


class MergeEvidence(_Output):
    """Why two ids are one entity: a `same_as` judgement event, or a strong identifier both carry."""

    kind: str = Field(description="judgement | identifier")
    source_id: str
    target_id: str
    event_id: str | None = Field(default=None, description="The judgement event (kind judgement).")
    publisher: str | None = None
    source_url: str | None = None
    matcher: str | None = None
    criteria: str | None = None
    identifier: str | None = Field(default=None, description="scheme:value shared (kind identifier).")
    statements: tuple[IdentifierStatement, ...] = Field(
        default=(), exclude_if=lambda statements: not statements,
        description="Kind identifier: the statements that gave each of the two ids the identifier, source id first "
                    "(absent for a judgement, or for an identifier restored from a portable file without them).")
    observed_at: dt.datetime | None = None
    text: str


class MergeNote(_Output):
    """An entity of a score that stands for several ids (scoring.resolution): the canonical id, every id merged
    into it, and the evidence of each merge, e.g. 'CZ (cz) = Changpeng Zhao (Q...), by judgement event j-1 from
    Analyst desk'."""

    canonical_id: str
    name: str
    member_ids: tuple[str, ...]
    evidence: tuple[MergeEvidence, ...]
    text: str
    evidence_omitted: int = Field(
        default=0, ge=0, exclude_if=lambda omitted: omitted == 0,
        description="Merges of this entity left out of `evidence` and `text` (the first ones are listed): beyond the "
                    "scoring config's `evidence.max_listed_merges`, or because the message would otherwise exceed the "
                    "worker's max_message_bytes; GET /entities/ID lists them all. Absent when every merge is listed.")
    member_ids_omitted: int = Field(
        default=0, ge=0, exclude_if=lambda omitted: omitted == 0,
        description="Ids of this entity left out of `member_ids` (and of the score's `actor_merged_ids` or "
                    "`counterparty_merged_ids`; the canonical id and the next in order are listed) for the same "
                    "reason. Absent when every id is listed.")


class RiskScore(_Output):
    """Current risk for one (actor, counterparty) pair. Published compacted, keyed by `actor|counterparty`.

    A score of 0 with band `none` is a tombstone-equivalent: the pair no longer scores.
    """

    schema_version: str = OUTPUT_SCHEMA_VERSION
    actor_id: str
    actor_name: str
    counterparty_id: str
    counterparty_name: str
    score: float = Field(ge=0.0, le=1.0)
    band: Band
    rules: tuple[str, ...]
    authority_paths: tuple[ExplanationPath, ...]
    commercial_paths: tuple[ExplanationPath, ...]
    as_of: dt.date | None = Field(default=None, description="Validity date the graph was read at (None: latest).")
    graph_version: int = Field(description="Number of distinct events the engine had applied when this was computed: "
                                           "the input's relation events, and each relation the entity resolution "
                                           "layer re-sent under new ends when a merge or split moved them (a same_as "
                                           "judgement itself is not applied); after a portable snapshot import, "
                                           "counted on from the exporting engine's (format version 6). Not a "
                                           "count of input messages (input_offsets says how far the input was "
                                           "read).")
    trigger_event_id: str | None = Field(default=None, description="The event whose application changed this.")
    input_offsets: dict[str, int] = Field(default_factory=dict,
                                          description="partition -> next offset of the input topic at computation")
    actor_merged_ids: tuple[str, ...] = Field(default=(), description="Every id merged into the actor (entity "
                                              "resolution), the canonical actor_id included; empty when unmerged.")
    counterparty_merged_ids: tuple[str, ...] = Field(default=(), description="The same for the counterparty.")
    merges: tuple[MergeNote, ...] = Field(default=(), description="The merged entities this score passes through, "
                                          "with the judgements or identifiers that merged them.")


class AlertState(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"
    DOWNGRADED = "downgraded"
    RESOLVED = "resolved"
    # the band stayed, the parties did not: one joined or left the case, or another pair leads it
    UPDATED = "updated"


class RelatedParty(_Output):
    """Another counterparty of the same conflict (an alert case), with its own pair score."""

    id: str
    name: str
    score: float
    band: Band


class Alert(_Output):
    """One transition of an alert. Keyed by `alert_id`; deduplicate on (alert_id, sequence).

    One alert is one conflict (an alert *case*): the actor's pairs whose authority lands on the same party
    (`case_id`: the firm, for its beneficial owners, holding companies and the actor's own relatives who own it)
    are one alert, explained by its strongest pair (`counterparty_id`) and listing the others in
    `related_parties`. `alert_id` is derived from the actor, the case and the episode number (how many times the
    case was raised before), so a replay of the same events yields the same ids, and one id follows one alert from
    raised to resolved. A party joining or leaving the case, or another pair taking its lead, within the same band
    is an `updated` transition.
    """

    schema_version: str = OUTPUT_SCHEMA_VERSION
    alert_id: str
    sequence: int = Field(ge=0, description="0 for raised, +1 for each later transition of the same alert")
    state: AlertState
    actor_id: str
    actor_name: str
    counterparty_id: str
    counterparty_name: str
    band: Band
    previous_band: Band
    score: float
    previous_score: float
    rules: tuple[str, ...]
    authority_paths: tuple[ExplanationPath, ...]
    commercial_paths: tuple[ExplanationPath, ...]
    graph_version: int
    trigger_event_id: str | None = None
    input_offsets: dict[str, int] = Field(default_factory=dict)
    actor_merged_ids: tuple[str, ...] = ()
    counterparty_merged_ids: tuple[str, ...] = ()
    merges: tuple[MergeNote, ...] = ()
    case_id: str | None = Field(default=None, description="the party the actor's authority lands on: every "
                                                          "alerting pair of the actor with this case is this alert")
    related_parties: tuple[RelatedParty, ...] = Field(
        default=(), description="the case's other alerting counterparties (scored per pair on the scores topic)")
    related_parties_omitted: int = Field(
        default=0, ge=0, exclude_if=lambda omitted: omitted == 0,
        description="Related parties left out of `related_parties` because the message would otherwise exceed the "
                    "worker's max_message_bytes (the strongest are listed). Absent when every one is listed.")


class RejectReason(StrEnum):
    """Why an input message was dead-lettered (docs/events.md, "Reason codes", says when each applies)."""

    NULL_VALUE = "null_value"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    ENCODING_ERROR = "encoding_error"
    NESTING_TOO_DEEP = "nesting_too_deep"
    MALFORMED_JSON = "malformed_json"
    DUPLICATE_KEY = "duplicate_key"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_SCHEMA_VERSION = "unknown_schema_version"
    UNKNOWN_RELATION_TYPE = "unknown_relation_type"
    INVALID_ENDPOINT = "invalid_endpoint"
    INVALID_PROPERTY = "invalid_property"
    INVALID_DATES = "invalid_dates"
    INVALID_CONFIDENCE = "invalid_confidence"
    INVALID_EVENT = "invalid_event"
    KEY_MISMATCH = "key_mismatch"
    OBSERVED_AT_IN_FUTURE = "observed_at_in_future"
    CONFLICTING_EVENT_ID = "conflicting_event_id"
    PROCESSING_ERROR = "processing_error"
    OUTPUT_TOO_LARGE = "output_too_large"
    PROCESSING_ATTEMPTS_EXCEEDED = "processing_attempts_exceeded"


class DeadLetter(_Output):
    """A rejected input message. Its size is bounded whatever the input: it carries a prefix of the original value
    and key (the whole of them up to `dead_letter_max_original_bytes`, and within `max_message_bytes`), their
    lengths, the value's sha256, and where the original lives (topic, partition, offset): the input topic is
    retained, so it can be read whole."""

    schema_version: str = OUTPUT_SCHEMA_VERSION
    reason: RejectReason
    message: str = Field(description="What was wrong, for a person; never a stack trace.")
    original_value: str | None = Field(description="base64 of the original value, or of its first bytes when "
                                                   "`original_value_truncated`; null for a null value")
    original_value_length: int | None = Field(default=None, description="bytes in the original value; null for a "
                                                                       "null value (a tombstone)")
    original_value_sha256: str | None = Field(default=None, description="hex sha256 of the whole original value")
    original_value_truncated: bool = Field(default=False, description="true when `original_value` is a prefix")
    original_key: str | None = Field(default=None, description="base64 of the original key (a prefix when "
                                                               "`original_key_truncated`)")
    original_key_length: int | None = None
    original_key_truncated: bool = False
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp_ms: int | None = None

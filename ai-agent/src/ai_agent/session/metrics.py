"""The conversation's metrics: each turn stage as a histogram (seconds), barge-ins, outcomes."""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter, Gauge, Histogram

from dialplane.metrics import NAMESPACE

_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)

TURN_STAGE = Histogram(
    "agent_turn_stage_seconds",
    "Time of each stage of an agent turn: end_of_speech_to_stt_final, stt_final_to_llm_first_token, "
    "llm_first_token_to_tts_first_byte, tts_first_byte_to_first_audio, end_of_speech_to_first_audio.",
    ["stage"],
    buckets=_BUCKETS,
    namespace=NAMESPACE,
)
BARGE_INS = Counter("agent_barge_ins_total", "Times the person interrupted the agent.", namespace=NAMESPACE)
BARGE_IN_STOP = Histogram(
    "agent_barge_in_stop_seconds",
    "From the start of the person's speech to the agent's audio being flushed.",
    buckets=_BUCKETS,
    namespace=NAMESPACE,
)
OUTCOMES = Counter(
    "agent_outcomes_total", "Conversations ended, by outcome.", ["outcome"], namespace=NAMESPACE
)
ACTIVE = Gauge("agent_active_conversations", "Conversations going on in this process.", namespace=NAMESPACE)
ANSWER_TO_FIRST_AUDIO = Histogram(
    "agent_answer_to_first_audio_seconds",
    "From the call's answer to the agent's first audio sent, by who answered (human, machine, unknown; "
    "not_detected without answering-machine detection).",
    ["answered_by"],
    buckets=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 20.0, 30.0),
    namespace=NAMESPACE,
)


def stage(name: str, start: float | None, end: float | None) -> None:
    if start is not None and end is not None:
        TURN_STAGE.labels(name).observe(max(0.0, end - start))


def first_audio(
    answered_at: dt.datetime | None, first_audio_at: dt.datetime | None, answered_by: str | None
) -> None:
    if answered_at is not None and first_audio_at is not None:
        seconds = max(0.0, (first_audio_at - answered_at).total_seconds())
        ANSWER_TO_FIRST_AUDIO.labels(answered_by or "not_detected").observe(seconds)


def observe_turn(timings: dict[str, float]) -> None:
    """The stages after speech to text, from a turn's timings in milliseconds."""
    for key, millis in timings.items():
        name = key.removesuffix("_ms")
        if name != "end_of_speech_to_stt_final":  # observed when the transcript arrives
            TURN_STAGE.labels(name).observe(millis / 1000)

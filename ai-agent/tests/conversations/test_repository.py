"""What the conversation engine stores: a conversation's life (pending → active → ended, idempotent
creation, no move from the wrong state), its numbered turns with their timings, its recording, and which
conversations are still open."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from ai_agent.conversations import repository
from dialplane.db import SessionFactory, transaction

T0 = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)
LEAD = {"name": "Jane Doe", "email": "jane@example.com", "timezone": "Europe/Berlin"}


async def create(sessions: SessionFactory, call_id: uuid.UUID | None = None, **values: object) -> uuid.UUID:
    call_id = call_id or uuid.uuid4()
    fields = {"profile": "default", "to_number": "+12025550100", "lead": LEAD, "variables": {"product": "x"}}
    fields.update(values)
    async with transaction(sessions) as session:
        assert await repository.create_pending(session, call_id=call_id, **fields)  # type: ignore[arg-type]
    return call_id


async def test_a_conversation_is_created_pending_once(sessions: SessionFactory) -> None:
    call_id = await create(sessions)
    async with transaction(sessions) as session:
        again = await repository.create_pending(
            session, call_id=call_id, profile="other", to_number="+12025550101", lead={}, variables={}
        )
        stored = await repository.get(session, call_id)
        unknown = await repository.get(session, uuid.uuid4())

    assert again is False and unknown is None
    assert stored is not None
    assert (stored.status, stored.profile, stored.to_number) == ("pending", "default", "+12025550100")
    assert stored.lead == LEAD and stored.variables == {"product": "x"}
    assert stored.started_at is None and stored.ended_at is None and stored.outcome is None


async def test_start_moves_a_pending_conversation_to_active_only_once(sessions: SessionFactory) -> None:
    call_id = await create(sessions)
    async with transaction(sessions) as session:
        started = await repository.start(
            session, call_id, answered_by="human", language="en-US", started_at=T0
        )
        again = await repository.start(session, call_id, answered_by="machine", language="de", started_at=T0)
        unknown = await repository.start(
            session, uuid.uuid4(), answered_by=None, language="en", started_at=T0
        )

    assert started is not None and again is None and unknown is None
    assert (started.status, started.answered_by, started.language, started.started_at) == (
        "active",
        "human",
        "en-US",
        T0,
    )


async def test_finish_ends_an_active_or_pending_conversation_once(sessions: SessionFactory) -> None:
    answered, unanswered = await create(sessions), await create(sessions)
    callback = T0 + dt.timedelta(days=1)
    async with transaction(sessions) as session:
        await repository.start(session, answered, answered_by="human", language="en", started_at=T0)
        ended = await repository.finish(
            session,
            answered,
            outcome="callback_requested",
            summary="Asked to be called back tomorrow.",
            end_reason="agent_ended",
            callback_at=callback,
            meeting_id=None,
            ended_at=T0 + dt.timedelta(minutes=2),
        )
        again = await repository.finish(
            session, answered, outcome="opted_out", summary=None, end_reason="x", ended_at=T0
        )
        never = await repository.finish(
            session, unanswered, outcome="no_conversation", summary=None, end_reason="no_answer", ended_at=T0
        )
        restarted = await repository.start(
            session, unanswered, answered_by=None, language="en", started_at=T0
        )

    assert ended is not None and again is None and restarted is None
    assert (ended.status, ended.outcome, ended.callback_at) == ("ended", "callback_requested", callback)
    assert ended.summary == "Asked to be called back tomorrow." and ended.end_reason == "agent_ended"
    assert ended.ended_at == T0 + dt.timedelta(minutes=2)
    assert never is not None and (never.status, never.started_at) == ("ended", None)


async def test_an_unknown_outcome_is_refused_by_the_database(sessions: SessionFactory) -> None:
    call_id = await create(sessions)
    with pytest.raises(IntegrityError, match="conversations_outcome_known"):
        async with transaction(sessions) as session:
            await repository.finish(
                session, call_id, outcome="happy", summary=None, end_reason=None, ended_at=T0
            )


async def test_turns_are_numbered_in_order_with_their_timings_and_tool_calls(
    sessions: SessionFactory,
) -> None:
    call_id, other = await create(sessions), await create(sessions)
    timings = {
        "end_of_speech_to_stt_final_ms": 182.5,
        "end_of_speech_to_first_audio_ms": 640.0,
        "bad": float("nan"),
    }
    tool_call = {"name": "check_calendar_availability", "arguments": {"start": "2026-06-16T10:00:00+02:00"}}
    async with transaction(sessions) as session:
        first = await repository.add_turn(
            session, call_id, speaker="agent", text="Hello, this is Alex.", started_at=T0, ended_at=T0
        )
        in_other = await repository.add_turn(
            session, other, speaker="agent", text="Hi.", started_at=T0, ended_at=None
        )
        second = await repository.add_turn(
            session,
            call_id,
            speaker="person",
            text="Tomorrow at ten?",
            started_at=T0 + dt.timedelta(seconds=3),
            ended_at=T0 + dt.timedelta(seconds=4),
            timings=timings,
        )
        third = await repository.add_turn(
            session,
            call_id,
            speaker="agent",
            text="Let me check",
            started_at=T0 + dt.timedelta(seconds=5),
            ended_at=None,
            interrupted=True,
            tool_calls=[tool_call],
        )
        turns = await repository.turns(session, call_id)

    assert (first, second, third, in_other) == (1, 2, 3, 1)
    assert [(t.seq, t.speaker, t.text) for t in turns] == [
        (1, "agent", "Hello, this is Alex."),
        (2, "person", "Tomorrow at ten?"),
        (3, "agent", "Let me check"),
    ]
    assert turns[1].timings == {
        "end_of_speech_to_stt_final_ms": 182.5,
        "end_of_speech_to_first_audio_ms": 640.0,
    }
    assert turns[2].interrupted and turns[2].tool_calls == [tool_call] and turns[2].ended_at is None
    assert turns[0].timings == {} and turns[0].tool_calls == [] and not turns[0].interrupted


async def test_a_turn_of_an_unknown_speaker_or_conversation_is_refused(sessions: SessionFactory) -> None:
    call_id = await create(sessions)
    with pytest.raises(IntegrityError, match="conversation_turns_speaker_known"):
        async with transaction(sessions) as session:
            await repository.add_turn(
                session, call_id, speaker="robot", text="x", started_at=T0, ended_at=None
            )
    with pytest.raises(IntegrityError, match="foreign key"):
        async with transaction(sessions) as session:
            await repository.add_turn(
                session, uuid.uuid4(), speaker="agent", text="x", started_at=T0, ended_at=None
            )


async def test_a_recording_is_stored_and_replaced(sessions: SessionFactory) -> None:
    call_id = await create(sessions)
    audio = bytes(range(256)) * 40
    async with transaction(sessions) as session:
        missing = await repository.get_recording(session, call_id)
        await repository.save_recording(session, call_id, b"first", "audio/wav", 0.5)
        await repository.save_recording(session, call_id, audio, "audio/wav", 12.25)
        stored = await repository.get_recording(session, call_id)

    assert missing is None and stored is not None
    assert (stored.audio, stored.content_type, stored.duration_seconds) == (audio, "audio/wav", 12.25)


async def test_open_conversations_are_the_pending_and_active_ones(sessions: SessionFactory) -> None:
    pending, active, ended = await create(sessions), await create(sessions), await create(sessions)
    async with transaction(sessions) as session:
        await repository.start(session, active, answered_by="human", language="en", started_at=T0)
        await repository.finish(session, ended, outcome=None, summary=None, end_reason="failed", ended_at=T0)
        open_ids = await repository.active_call_ids(session)

    assert open_ids == [pending, active]

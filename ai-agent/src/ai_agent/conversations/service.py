"""Reading a call's conversation for the API: the conversation with its turns and booked meeting, its
transcript (JSON or plain text) and its recording."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.calendar import Meeting
from ai_agent.conversations import repository
from ai_agent.conversations.repository import ConversationRecord, RecordingRecord, TurnRecord
from ai_agent.meetings_api.service import find as find_meeting
from dialplane.errors import NotFound

SPEAKER_LABELS = {"agent": "Agent", "person": "Person"}


@dataclass(frozen=True, slots=True)
class ConversationDetails:
    conversation: ConversationRecord
    turns: list[TurnRecord]
    meeting: Meeting | None


async def get(session: AsyncSession, call_id: uuid.UUID) -> ConversationRecord:
    conversation = await repository.get(session, call_id)
    if conversation is None:
        raise NotFound(f"no conversation for call {call_id}", code="conversation_not_found")
    return conversation


async def details(session: AsyncSession, call_id: uuid.UUID) -> ConversationDetails:
    conversation = await get(session, call_id)
    turns = await repository.turns(session, call_id)
    meeting = await find_meeting(session, conversation.meeting_id)
    return ConversationDetails(conversation, turns, meeting)


async def transcript(
    session: AsyncSession, call_id: uuid.UUID
) -> tuple[ConversationRecord, list[TurnRecord]]:
    conversation = await get(session, call_id)
    return conversation, await repository.turns(session, call_id)


def transcript_text(turns: list[TurnRecord]) -> str:
    """One line per turn: ``Agent: …`` / ``Person: …`` (line breaks inside a turn become spaces)."""
    return "".join(f"{SPEAKER_LABELS[turn.speaker]}: {' '.join(turn.text.split())}\n" for turn in turns)


async def recording(session: AsyncSession, call_id: uuid.UUID) -> RecordingRecord:
    await get(session, call_id)
    stored = await repository.get_recording(session, call_id)
    if stored is None:
        raise NotFound(f"the call {call_id} has no recording", code="recording_not_found")
    return stored

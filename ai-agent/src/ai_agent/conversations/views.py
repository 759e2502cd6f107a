"""How a conversation is shown by the API, and which form of a transcript a client asked for."""

from __future__ import annotations

from typing import Any

from ai_agent.conversations.repository import ConversationRecord, TurnRecord
from ai_agent.conversations.service import ConversationDetails
from ai_agent.meetings_api.views import meeting_view
from dialplane.api.agent import Conversation, ConversationTurn, Transcript, TranscriptLine


def turn_view(turn: TurnRecord) -> ConversationTurn:
    return ConversationTurn.model_validate(
        {
            "seq": turn.seq,
            "speaker": turn.speaker,
            "text": turn.text,
            "started_at": turn.started_at,
            "ended_at": turn.ended_at,
            "interrupted": turn.interrupted,
            "tool_calls": turn.tool_calls,
            "timings": turn.timings,
        }
    )


def conversation_view(found: ConversationDetails) -> Conversation:
    conversation = found.conversation
    values: dict[str, Any] = {
        "call_id": conversation.call_id,
        "profile": conversation.profile,
        "to": conversation.to_number,
        "lead": conversation.lead,
        "variables": conversation.variables,
        "language": conversation.language,
        "status": conversation.status,
        "answered_by": conversation.answered_by,
        "outcome": conversation.outcome,
        "summary": conversation.summary,
        "callback_at": conversation.callback_at,
        "meeting": None if found.meeting is None else meeting_view(found.meeting),
        "end_reason": conversation.end_reason,
        "created_at": conversation.created_at,
        "started_at": conversation.started_at,
        "ended_at": conversation.ended_at,
        "turns": [turn_view(turn) for turn in found.turns],
    }
    return Conversation.model_validate(values)


def transcript_view(conversation: ConversationRecord, turns: list[TurnRecord]) -> Transcript:
    lines = [
        TranscriptLine.model_validate({"speaker": turn.speaker, "text": turn.text, "at": turn.started_at})
        for turn in turns
    ]
    return Transcript.model_validate(
        {"call_id": conversation.call_id, "status": conversation.status, "turns": lines}
    )


def prefers_text(accept: str | None) -> bool:
    """Whether ``Accept`` ranks ``text/plain`` above JSON (JSON wins ties and when neither is named)."""
    ranks = {"text/plain": 0.0, "application/json": 0.0}
    for item in (accept or "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() in ranks:
            ranks[media.lower()] = _quality(params)
    return ranks["text/plain"] > ranks["application/json"]


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0

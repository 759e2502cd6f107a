"""Where a conversation's turns go as they happen: ``conversation_turns``, each with its
``conversation.turn`` event in the same short transaction (live views show the conversation as it goes).
Times arrive as monotonic seconds and are stored as wall-clock times."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import structlog

from ai_agent.conversations import repository as conversations
from ai_agent.session.responding import TurnTimes
from dialplane.calls import CONVERSATIONS_STREAM
from dialplane.db import SessionFactory, transaction
from dialplane.events import EventStream, NewEvent

log = structlog.get_logger(__name__)

TURN = "conversation.turn"


class TurnStore:
    def __init__(self, sessions: SessionFactory, stream: EventStream, call_id: str) -> None:
        self._sessions, self._stream, self._call_id = sessions, stream, uuid.UUID(call_id)

    async def person(self, text: str, started: float, ended: float) -> None:
        await self._add("person", text, started, ended)
        log.info("conversation_turn", speaker="person", words=len(text.split()))

    async def agent(
        self,
        text: str,
        started: float,
        ended: float,
        *,
        interrupted: bool,
        times: TurnTimes,
        timings: dict[str, float],
    ) -> None:
        if not text and not times.tool_calls:
            return
        await self._add(
            "agent",
            text,
            started,
            ended,
            interrupted=interrupted,
            tool_calls=times.tool_calls,
            timings=timings,
        )
        log.info("conversation_turn", speaker="agent", interrupted=interrupted, **timings)

    async def _add(self, speaker: str, text: str, started: float, ended: float, **extra: Any) -> None:
        async with transaction(self._sessions) as session:
            seq = await conversations.add_turn(
                session,
                self._call_id,
                speaker=speaker,
                text=text,
                started_at=wall_clock(started),
                ended_at=wall_clock(ended),
                **extra,
            )
            data = {
                "call_id": str(self._call_id),
                "seq": seq,
                "speaker": speaker,
                "text": text,
                "at": wall_clock(started).isoformat(),
                "interrupted": bool(extra.get("interrupted")),
            }
            await self._stream.publish(
                session, NewEvent(CONVERSATIONS_STREAM, str(self._call_id), TURN, data)
            )


def wall_clock(monotonic: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=time.monotonic() - monotonic)

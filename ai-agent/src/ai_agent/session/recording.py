"""An optional recording of both sides of a conversation, as the person heard it, stored as one WAV.

The person's side is every frame the agent received (silence where none came), so its length is the call's
clock. The agent's audio is placed where it played: from the person's current position when the agent was
quiet, else after what was still queued; a barge-in cuts the agent's side at the moment of the flush.
"""

from __future__ import annotations

import uuid

from ai_agent.audio import mix, wav_bytes
from ai_agent.conversations import repository as conversations
from dialplane.db import SessionFactory, transaction


class Recorder:
    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._person = bytearray()
        self._agent = bytearray()

    def heard(self, pcm: bytes) -> None:
        self._person += pcm

    def spoken(self, pcm: bytes) -> None:
        if len(self._agent) < len(self._person):
            self._agent += bytes(len(self._person) - len(self._agent))
        self._agent += pcm

    def flushed(self) -> None:
        del self._agent[len(self._person) :]

    def wav(self) -> bytes:
        return wav_bytes(mix(bytes(self._person), bytes(self._agent)), self.sample_rate)

    @property
    def seconds(self) -> float:
        return max(len(self._person), len(self._agent)) / (2 * self.sample_rate)

    async def save(self, sessions: SessionFactory, call_id: str) -> None:
        if not self._person and not self._agent:
            return
        async with transaction(sessions) as session:
            await conversations.save_recording(
                session, uuid.UUID(call_id), self.wav(), "audio/wav", round(self.seconds, 3)
            )

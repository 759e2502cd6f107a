"""A conversation's recording: both sides on one clock, the agent cut where the person interrupted."""

from __future__ import annotations

from ai_agent.audio import read_wav
from ai_agent.audio.pcm import samples
from ai_agent.session.recording import Recorder

FRAME = 640  # 20 ms at 16 kHz


def tone(frames: int, level: int) -> bytes:
    return int(level).to_bytes(2, "little", signed=True) * (FRAME // 2) * frames


def test_the_agent_is_heard_where_it_played_and_stops_at_the_flush() -> None:
    recorder = Recorder(16000)
    recorder.heard(tone(50, 0))  # one second of the person being quiet
    recorder.spoken(tone(100, 1000))  # the agent starts here: two seconds queued at once
    recorder.heard(tone(25, 0))
    recorder.flushed()  # the person cut in half a second into it
    recorder.heard(tone(25, 200))
    pcm, rate = read_wav(recorder.wav())
    values = samples(pcm)
    assert rate == 16000 and len(pcm) == 100 * FRAME  # two seconds: the call's clock
    assert set(values[: 50 * FRAME // 2]) == {0}  # nobody spoke in the first second
    assert set(values[50 * FRAME // 2 : 75 * FRAME // 2]) == {1000}  # the agent, until the flush
    assert set(values[75 * FRAME // 2 :]) == {200}  # then only the person
    assert recorder.seconds == 2.0

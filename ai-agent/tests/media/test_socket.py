"""MediaSocket against the fake chan_websocket endpoint: the opening, the far end's frames, the agent's audio
cut into frames and paced by the endpoint, marks, flushing (barge-in), flow control and the end of the
connection."""

from __future__ import annotations

import asyncio
import time

import pytest

from ai_agent.media.socket import MediaError, MediaSocket
from ai_agent.media.testing import FRAME_BYTES, FakeMediaEndpoint, frames_of, serving_media_endpoint

from .conftest import Reading

FRAME = 0.02


def tone(frames: int, value: int = 1000) -> bytes:
    """Recognisable audio: ``frames`` frames of a constant sample."""
    return value.to_bytes(2, "little", signed=True) * (frames * FRAME_BYTES // 2)


async def test_media_start_is_parsed(endpoint: FakeMediaEndpoint) -> None:
    media = await MediaSocket.connect(endpoint.url)
    try:
        assert media.start.connection_id == "fake-media-connection"
        assert media.start.channel_id == endpoint.channel_id
        assert media.start.media_format == "slin16"
        assert (media.start.frame_bytes, media.start.sample_rate) == (640, 16000)
        assert endpoint.subprotocol == "media"
        assert endpoint.path == "/media/fake-media-connection"
    finally:
        await media.close()


async def test_an_unknown_connection_id_is_refused(endpoint: FakeMediaEndpoint) -> None:
    with pytest.raises(MediaError, match="cannot open"):
        await MediaSocket.connect(endpoint.url.replace("fake-media-connection", "another-call"))


async def test_nothing_listening_is_a_media_error() -> None:
    async with serving_media_endpoint() as endpoint:
        url = endpoint.url
    with pytest.raises(MediaError):
        await MediaSocket.connect(url, open_timeout=1.0)


async def test_the_far_end_audio_arrives_frame_by_frame(
    endpoint: FakeMediaEndpoint, reading: Reading
) -> None:
    spoken = tone(5, 1234)
    await endpoint.say(spoken)
    async with asyncio.timeout(2):
        while len(reading.frames) < 5:
            await asyncio.sleep(0.01)
    assert reading.frames == frames_of(spoken)


async def test_play_sends_whole_frames_and_end_of_speech_pads_the_rest(
    endpoint: FakeMediaEndpoint, reading: Reading
) -> None:
    media = reading.media
    await media.play(tone(2)[:1000])
    await media.play(tone(2)[:1000])  # 2000 bytes: three whole frames and 80 bytes kept back
    await asyncio.sleep(0.1)
    assert endpoint.received_sizes == [640, 640, 640]  # never a partial frame, which Asterisk would drop
    played = await media.end_of_speech("sentence-1")
    async with asyncio.timeout(2):
        await played.wait()
    assert endpoint.received_sizes == [640] * 4
    assert endpoint.agent_audio() == tone(2)[:1000] * 2 + bytes(4 * 640 - 2000)


async def test_a_mark_is_resolved_when_playback_reaches_it(
    endpoint: FakeMediaEndpoint, reading: Reading
) -> None:
    media = reading.media
    started = time.monotonic()
    await media.play(tone(25))  # half a second
    played = await media.end_of_speech("utterance-1")
    await asyncio.sleep(0.3)
    assert not played.is_set()
    async with asyncio.timeout(2):
        await played.wait()
    assert time.monotonic() - started >= 0.48
    last = endpoint.last_played_at
    assert last is not None and last <= time.monotonic()
    assert len(endpoint.played) == 25
    assert "MEDIA_MARK_PROCESSED correlation_id:utterance-1" in [text for _, text in endpoint.notices]


async def test_flush_drops_queued_audio_and_resolves_marks(
    endpoint: FakeMediaEndpoint, reading: Reading
) -> None:
    media = reading.media
    await media.play(tone(100))  # two seconds
    played = await media.end_of_speech("utterance-2")
    async with asyncio.timeout(2):
        await endpoint.wait_for_audio()
    await asyncio.sleep(0.2)
    await media.flush()
    assert played.is_set()  # at once: a flushed mark is never reported
    async with asyncio.timeout(1):
        flushed = await endpoint.wait_for("FLUSH_MEDIA")
    await asyncio.sleep(0.2)
    after = [frame for frame in endpoint.played if frame.at > flushed.at + FRAME]
    assert after == []
    assert 5 <= len(endpoint.played) <= 30
    assert not any("MEDIA_MARK_PROCESSED" in text for _, text in endpoint.notices)


async def test_flush_drops_the_partial_frame_kept_back(endpoint: FakeMediaEndpoint, reading: Reading) -> None:
    media = reading.media
    await media.play(tone(1, 777)[:300])
    await media.flush()
    await media.play(tone(1, 555))
    await media.end_of_speech("after-flush")
    async with asyncio.timeout(2):
        await endpoint.wait_played_out()
    assert endpoint.agent_audio() == tone(1, 555)


async def play_as_tts_delivers(media: MediaSocket, pcm: bytes, chunk_frames: int = 4) -> None:
    """``pcm`` played in chunks of a few frames, waiting for each as a TTS stream is waited for."""
    step = chunk_frames * FRAME_BYTES
    for offset in range(0, len(pcm), step):
        await media.play(pcm[offset : offset + step])
        await asyncio.sleep(0)


async def test_xoff_pauses_sending_until_xon(endpoint: FakeMediaEndpoint, reading: Reading) -> None:
    sending = asyncio.create_task(play_as_tts_delivers(reading.media, tone(1100)))  # 22 s of speech
    async with asyncio.timeout(5):
        while "MEDIA_XOFF" not in [text for _, text in endpoint.notices]:
            await asyncio.sleep(0.005)
    await asyncio.sleep(0.3)
    assert not sending.done()
    assert endpoint.queue_length >= 900 - 0.3 / FRAME - 2  # nothing sent since: it only drained
    assert endpoint.max_queue <= 1000
    async with asyncio.timeout(10):
        await sending  # after XON: at 800 queued, two seconds of playing later
        while len(endpoint.received_sizes) < 1100:
            await asyncio.sleep(0.01)
    notices = [text for _, text in endpoint.notices]
    assert notices.index("MEDIA_XON") > notices.index("MEDIA_XOFF")
    xon_at = next(at for at, text in endpoint.notices if text == "MEDIA_XON")
    assert len(endpoint.played) >= 95 and xon_at - endpoint.played[0].at >= 1.8
    assert (endpoint.dropped_frames, endpoint.dropped_bytes) == (0, 0)
    assert len(endpoint.received_sizes) == 1100


async def test_one_long_play_call_stops_at_xoff(endpoint: FakeMediaEndpoint, reading: Reading) -> None:
    async with asyncio.timeout(10):
        await reading.media.play(tone(1100))  # 22 s of speech in one call
        while len(endpoint.received_sizes) < 1100:
            await asyncio.sleep(0.01)
    assert endpoint.dropped_frames == 0


async def test_a_closed_connection_ends_the_audio_and_resolves_marks(
    endpoint: FakeMediaEndpoint, reading: Reading
) -> None:
    media = reading.media
    await media.play(tone(100))
    played = await media.end_of_speech("utterance-3")
    async with asyncio.timeout(2):
        await endpoint.wait_for_audio()
        await endpoint.hang_up()
        await reading.ended.wait()
        await played.wait()
    assert media.closed
    async with asyncio.timeout(1):  # nothing waits forever on a closed connection
        await media.play(tone(10))
        assert (await media.end_of_speech("too-late")).is_set()
        await media.flush()


async def test_hangup_asks_asterisk_to_hang_up(endpoint: FakeMediaEndpoint, reading: Reading) -> None:
    media = reading.media
    await media.play(tone(50))
    async with asyncio.timeout(2):
        await endpoint.wait_for_audio()
        await media.hangup()
        await reading.ended.wait()
    assert [command.name for command in endpoint.commands] == ["HANGUP"]
    assert endpoint.dropped_at_hangup is not None and endpoint.dropped_at_hangup > 30  # never heard

"""Deepgram live streaming (``/v1/listen``) on the wire: the URL, the control messages, the ``Results``
messages read back, and the text of one turn assembled from them.

Times in ``Results`` (``start``, ``duration``, each word's ``start``/``end``) are seconds of audio since the
connection opened, so a turn is a span of the connection's audio: ``[start, end)``. Results about audio
before the turn (a discarded false start, still being transcribed) are left out by their times; a result
straddling the turn's start keeps only the words mostly inside the turn (their middle is in it, so a word
whose timestamp starts a little early is not lost).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

FINALIZE = json.dumps({"type": "Finalize"})
KEEP_ALIVE = json.dumps({"type": "KeepAlive"})
CLOSE_STREAM = json.dumps({"type": "CloseStream"})

_SLACK = 0.02  # seconds: rounding in Deepgram's times


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # punctuated when Deepgram punctuates
    start: float
    end: float

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


@dataclass(frozen=True, slots=True)
class Result:
    """One ``Results`` message (its first alternative)."""

    transcript: str
    start: float
    end: float
    is_final: bool
    from_finalize: bool
    confidence: float | None = None
    words: tuple[Word, ...] = ()


def listen_url(
    base_url: str, *, sample_rate: int, language: str, model: str, extra: Mapping[str, str] | None = None
) -> str:
    """``{base_url}/v1/listen`` with the query for raw 16-bit mono PCM at ``sample_rate``."""
    query = {
        "encoding": "linear16",
        "sample_rate": str(sample_rate),
        "channels": "1",
        "language": language,
        "model": model,
        "punctuate": "true",
        "interim_results": "true",
        **(extra or {}),
    }
    return f"{base_url.rstrip('/')}/v1/listen?{urlencode(query)}"


def parse_result(message: str | bytes) -> Result | None:
    """The ``Results`` message in ``message``; ``None`` for anything else (``Metadata``, ``SpeechStarted``,
    ``UtteranceEnd``, unreadable text)."""
    try:
        body = json.loads(message)
        if not isinstance(body, dict) or body.get("type") != "Results":
            return None
        return _result(body)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


def _result(body: dict[str, Any]) -> Result:
    alternative = body["channel"]["alternatives"][0]
    start = float(body.get("start", 0.0))
    confidence = alternative.get("confidence")
    return Result(
        transcript=str(alternative.get("transcript") or "").strip(),
        start=start,
        end=start + float(body.get("duration", 0.0)),
        is_final=body.get("is_final") is True,
        from_finalize=body.get("from_finalize") is True,
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        words=tuple(_word(word) for word in alternative.get("words") or ()),
    )


def _word(word: dict[str, Any]) -> Word:
    start = float(word["start"])
    return Word(str(word.get("punctuated_word") or word["word"]), start, float(word.get("end", start)))


def in_turn(result: Result, turn_start: float) -> bool:
    """Whether ``result`` is about audio of the turn that began at ``turn_start``."""
    return result.end > turn_start + _SLACK


def confirmed(results: Sequence[Result], turn_start: float, turn_end: float) -> bool:
    """Whether the turn is completely final: Deepgram confirmed the Finalize, or its final results already
    reach the end of the turn (it may not confirm a Finalize when nothing was left to process)."""
    finals = [result for result in results if result.is_final and in_turn(result, turn_start)]
    if any(result.from_finalize for result in finals):
        return True
    return bool(finals) and max(result.end for result in finals) >= turn_end - _SLACK


def turn_text(
    results: Sequence[Result], turn_start: float, *, with_interim: bool = False
) -> tuple[str, float | None]:
    """The turn's text from its final results in order, and their mean confidence. ``with_interim`` adds
    the latest interim result after the last final one (the tail Deepgram has not finalized)."""
    finals = [result for result in results if result.is_final and in_turn(result, turn_start)]
    pieces = [_text_from(result, turn_start) for result in finals]
    if with_interim:
        pieces.append(_interim_tail(results, turn_start, finals[-1].end if finals else turn_start))
    spoken = [result.confidence for result in finals if result.transcript and result.confidence is not None]
    confidence = round(sum(spoken) / len(spoken), 3) if spoken else None
    return " ".join(piece for piece in pieces if piece), confidence


def _text_from(result: Result, turn_start: float) -> str:
    if result.start >= turn_start - _SLACK or not result.words:
        return result.transcript
    return " ".join(word.text for word in result.words if word.middle >= turn_start)


def _interim_tail(results: Sequence[Result], turn_start: float, finalized_until: float) -> str:
    for result in reversed(results):
        if result.is_final:
            return ""
        if in_turn(result, turn_start) and result.end > finalized_until + _SLACK:
            return _text_from(result, turn_start)
    return ""

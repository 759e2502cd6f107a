"""Reading an email address from what the person said, as speech-to-text wrote it.

Accepted: written addresses (``jane.doe@example.com``, ``Jane.Doe at example.com``), spoken ones (``jane dot
doe at example dot com``, ``underscore``, ``dash``, ``plus``, ``at sign``) and spelled ones (``j a n e dot d
o e at example dot com``, ``J-A-N-E``). Words before "at" are joined up to a filler word ("my email is",
"send it to"), so "jane doe at example dot com" reads as ``janedoe@example.com``; a missing "dot" before a
common top-level domain ("example com") is put back. The result is checked for the shape of an address.
"""

from __future__ import annotations

import re
from typing import Final

from ai_agent.llm.policy_speech import UNITS, words

_ADDRESS: Final = re.compile(r"^[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9])?@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$")
_WRITTEN: Final = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_CONNECTORS: Final = {
    "dot": ".",
    "period": ".",
    "point": ".",
    "underscore": "_",
    "dash": "-",
    "hyphen": "-",
    "minus": "-",
    "plus": "+",
}
_FILLERS: Final = frozenset(
    words(
        "is it's its email address my it to the sure yes yeah ok okay that's thats um uh er so and send me "
        "please use well oh mine at would be"
    )
)
_TLDS: Final = frozenset(words("com org net io co uk de fr edu gov us ca au info biz me ai app dev"))
_MAX_WORDS: Final = 4


def is_email(address: str) -> bool:
    return bool(_ADDRESS.match(address)) and ".." not in address


def read_email(text: str) -> str | None:
    """The email address in ``text``, lower case, or None when there is none of a valid shape."""
    t = text.lower()
    for written in _WRITTEN.findall(t):
        candidate = str(written).strip(".")
        if is_email(candidate):
            return candidate
    tokens = _tokens(t)
    for at in reversed([i for i, word in enumerate(tokens) if word == "at"]):
        local, domain = _local_part(tokens[:at]), _domain(tokens[at + 1 :])
        if local and domain and is_email(address := f"{local}@{domain}"):
            return address
    return None


def _tokens(t: str) -> list[str]:
    t = re.sub(r"\be[\s-]mail\b", "email", t)
    t = re.sub(r"\bat (?:sign|symbol)\b", "at", t)
    t = re.sub(r"\bunder score\b", "underscore", t)
    t = re.sub(r"\b(?:[a-z0-9]-)+[a-z0-9]\b", lambda m: " ".join(m[0].split("-")), t)  # J-A-N-E
    t = t.replace("@", " at ")
    for symbol, word in ((".", "dot"), ("_", "underscore"), ("-", "dash"), ("+", "plus")):
        t = re.sub(rf"(?<=\w){re.escape(symbol)}(?=\w)", f" {word} ", t)
    t = re.sub(r"[^a-z0-9' ]", " ", t)
    return [str(UNITS.index(word)) if word in UNITS[:10] else word for word in t.split()]


def _local_part(before: list[str]) -> str:
    """Backwards from "at": words, letters and connectors, until a filler word."""
    parts: list[str] = []
    words = 0
    for token in reversed(before):
        if token in _CONNECTORS:
            parts.append(_CONNECTORS[token])
            continue
        if token in _FILLERS or words >= _MAX_WORDS:
            break
        parts.append(token)
        words += len(token) > 1
    text = "".join(reversed(parts))
    return text.strip("._+-")


def _domain(after: list[str]) -> str:
    """Forwards from "at": a word (or spelled letters), then a dot or dash and a word, while they last."""
    parts: list[str] = []
    last = "connector"
    for token in after:
        kind = "connector" if token in _CONNECTORS else "letter" if len(token) == 1 else "word"
        if kind == "connector":
            if last == "connector" or _CONNECTORS[token] not in ".-":
                break
            parts.append(_CONNECTORS[token])
        elif (last == "connector" and token not in _FILLERS - _TLDS) or kind == last == "letter":
            parts.append(token)
        elif token in _TLDS and "." not in parts:
            parts += [".", token]  # "example com": the "dot" was lost
        else:
            break
        last = kind
    return "".join(parts).strip(".-")

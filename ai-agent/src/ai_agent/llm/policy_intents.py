"""What the person wants, from keyword patterns on the speech-to-text transcript.

One utterance can carry several intents ("I am busy, call me back tomorrow, goodbye"); the policy decides
which wins (an opt-out always does). Patterns work on lower-case text without punctuation, so "Call me.
Back tomorrow" and "call me back tomorrow" read the same.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    HUMAN = "human"
    IDENTITY = "identity"  # "are you a robot?"
    WHO = "who"  # "who is this?", "what is this about?"
    NUMBER_SOURCE = "number_source"  # "how did you get my number?"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    BUSY = "busy"
    GOODBYE = "goodbye"
    NOT_INTERESTED = "not_interested"
    NO = "no"
    YES = "yes"
    INTERESTED = "interested"
    REPEAT = "repeat"
    HELLO = "hello"
    NO_EMAIL = "no_email"
    EMAIL_ON_FILE = "email_on_file"
    WHENEVER = "whenever"


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


_WHO_TO: Final = (
    r"(?:a |an |the |some |your )?(?:real |actual |live )?"
    r"(?:person|human|someone|somebody|agent|representative|rep|operator|manager|people|colleague"
    r"|sales ?person)"
)
_PATTERNS: Final[dict[Intent, re.Pattern[str]]] = {
    Intent.OPT_OUT: _any(
        r"\bstop\b(?! by)",
        r"\b(?:do not|don't|dont|never|stop|quit) (?:ever )?(?:call|calling|contact|ring|phone)",
        r"\bremove (?:me|my|us|this)\b",
        r"\btake (?:me|my number|us|this number) off\b",
        r"\bunsubscribe\b",
        r"\bopt(?:ing)? ?out\b",
        r"\bdo not call list\b",
        r"\bno more calls\b",
        r"\bleave me alone\b",
        r"\bwrong number\b",
    ),
    Intent.HUMAN: _any(
        rf"\b(?:talk|speak|chat)(?:ing)? (?:to|with) {_WHO_TO}\b",
        r"\b(?:transfer|connect|put) me\b",
        r"\b(?:human|representative|operator|real person)\b",
    ),
    Intent.IDENTITY: _any(
        r"\b(?:are you|is this|is it|am i (?:talking|speaking) (?:to|with))\b.*"
        r"\b(?:robot|machine|bot|computer|ai|a i|real|human|person|recording|recorded|automated)\b"
    ),
    Intent.WHO: _any(
        r"\bwho (?:is|'s|are) (?:this|calling|you|it)\b",
        r"\bwho am i (?:talking|speaking)",
        r"\bwhat (?:is|'s) (?:this|it|that) (?:about|regarding|for)\b",
        r"\bwhat company\b",
        r"\bwhere (?:are you|is this) calling from\b",
        r"\bwhy are you calling\b",
        r"\bwhat do you want\b",
    ),
    Intent.NUMBER_SOURCE: _any(r"\b(?:how|where) did you get (?:my|this) (?:number|details|info)"),
    Intent.VOICEMAIL: _any(
        r"\bleave (?:a|your) (?:message|name)\b",
        r"\bafter the (?:tone|beep)\b",
        r"\byou(?:'ve| have) reached\b",
        r"\b(?:can't|cannot|can not|unable to) (?:take|come to) (?:your|the) (?:call|phone)\b",
        r"\bvoice ?mail\b",
    ),
    Intent.CALLBACK: _any(
        r"\bcall ?back\b",
        r"\b(?:call|ring|phone|try)(?:ing)? (?:me |us )?"
        r"(?:back|later|again later|another time|some other time)\b",
        r"\b(?:call|ring|phone) (?:me|us)\b",
        r"\bget back to me\b",
        r"\b(?:another|some other|a better) time\b",
    ),
    Intent.BUSY: _any(
        r"\bbusy\b",
        r"\b(?:bad|not a good|inconvenient) (?:time|moment)\b",
        r"\bin a meeting\b",
        r"\bdriving\b",
        r"\b(?:can't|cannot|can not) talk\b",
        r"\bnot (?:right )?now\b",
    ),
    Intent.GOODBYE: _any(
        r"\b(?:good ?bye|bye|see you|see ya|talk to you later)\b",
        r"\bhave a (?:nice|good|great) (?:day|one|evening|afternoon)\b",
        r"\b(?:gotta|have to|got to|must) go\b",
    ),
    Intent.NOT_INTERESTED: _any(
        r"\bnot (?:really |very )?interest",
        r"\bno (?:thanks|thank you)\b",
        r"\bnot for (?:me|us)\b",
        r"\b(?:don't|do not) (?:need|want) (?:it|this|that|a meeting|any|one)\b",
        r"\bno interest\b",
    ),
    Intent.NO: _any(r"\b(?:no|nope|nah|neither|not really)\b(?! (?:problem|worries|doubt))"),
    Intent.YES: _any(
        r"\b(?:yes|yeah|yep|yup|sure|okay|ok|alright|all right|of course|absolutely|definitely|certainly)\b",
        r"\b(?:go ahead|sounds good|that works|works for me|perfect|great|fine|why not|correct|please do)\b",
    ),
    Intent.INTERESTED: _any(
        r"\binterest(?:ed|ing)\b",
        r"\b(?:tell me|hear|know|learn) more\b",
        r"\bsounds (?:good|great|interesting|nice)\b",
        r"\bi(?:'d| would) (?:like|love)\b",
        r"\blet's do (?:it|that)\b",
        r"\bi(?:'m| am) (?:in|open|curious)\b",
    ),
    Intent.REPEAT: _any(
        r"\b(?:repeat|say (?:that|it) again|come again|pardon|what did you say|speak up)\b",
        r"\b(?:didn't|did not) (?:catch|hear|get|understand) (?:that|it|you|what)\b",
        r"\b(?:can't|cannot|can not) hear\b",
        r"^(?:what|sorry|huh|excuse me|what was that|sorry what)$",
    ),
    Intent.HELLO: _any(
        r"^(?:(?:yes|yeah) )?(?:hello|hi|hey|hallo|hullo)(?: (?:hello|hi|there))*"
        r"(?: (?:is )?(?:anybody|anyone|somebody|someone) there)?$"
    ),
    Intent.NO_EMAIL: _any(
        r"\b(?:don't|do not|rather not|won't|will not|not going to) (?:want to )?"
        r"(?:give|share|have|provide)\b",
        r"\bno (?:email|e mail)\b",
        r"\b(?:rather not|prefer not)\b",
    ),
    Intent.EMAIL_ON_FILE: _any(
        r"\b(?:the one|the email|the address|the same) (?:you have|on file|you've got)\b",
        r"\byou (?:already )?have (?:it|my email)\b",
    ),
    Intent.WHENEVER: _any(
        r"\b(?:any ?time|whenever|doesn't matter|does not matter|don't mind|up to you|later)\b",
        r"\bwhat (?:do you have|times? (?:do you have|works for you|is free))\b",
        r"\bwhen (?:are you|is it) (?:free|available|possible)\b",
        r"\byou (?:tell me|choose|pick|decide)\b",
    ),
}
_CHOICES: Final = (
    re.compile(r"\b(?:first|former|earlier|1st|sooner)\b"),
    re.compile(r"\b(?:second|latter|later one|last one|2nd|other one)\b"),
)


def clean(text: str) -> str:
    """Lower case, straight apostrophes, no other punctuation, single spaces."""
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"[^\w' ]+", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def classify(text: str) -> frozenset[Intent]:
    """Every intent whose pattern matches ``text``; IDENTITY questions are not requests for a HUMAN, and
    an opt-out or "not interested" is not also a YES or an INTEREST."""
    t = clean(text)
    found = {intent for intent, pattern in _PATTERNS.items() if pattern.search(t)}
    if Intent.IDENTITY in found and not re.search(r"\b(?:talk|speak|transfer|connect)\b.*\b(?:to|me)\b", t):
        found.discard(Intent.HUMAN)
    if found & {Intent.OPT_OUT, Intent.NOT_INTERESTED}:
        found -= {Intent.YES, Intent.INTERESTED}
    return frozenset(found)


def choice(text: str) -> int | None:
    """0 for "the first one", 1 for "the second one", None otherwise."""
    t = clean(text)
    for index, pattern in enumerate(_CHOICES):
        if pattern.search(t):
            return index
    return None

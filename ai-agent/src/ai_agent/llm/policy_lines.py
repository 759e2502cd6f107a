"""What the policy says: short spoken sentences, no markdown, numbers and times in words.

Each method returns the sentences of one answer (the policy streams them one by one). The words live here,
apart from the decisions, so that they can be read — and changed — in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ai_agent.llm.policy_intents import Intent
from ai_agent.llm.policy_speech import (
    first_name,
    number_words,
    say_day,
    say_email,
    say_phone,
    say_time,
    say_when,
)
from ai_agent.llm.policy_state import Phase, State

Sentences = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who calls whom, about what, and the rules of time (see :class:`~ai_agent.llm.policy.DialoguePolicy`)"""

    company: str
    agent_name: str = "Alex"
    lead_name: str | None = None
    timezone: str = "UTC"
    topic: str | None = None
    meeting_minutes: int = 30
    lead_email: str | None = None
    callback_number: str | None = None
    calling_hours: tuple[dt.time, dt.time] = (dt.time(8), dt.time(21))
    meeting_hours: tuple[dt.time, dt.time] = (dt.time(9), dt.time(17))

    @property
    def about(self) -> str:
        return self.topic or f"how {self.company} can help you"


class Lines:
    def __init__(self, context: CallContext, today: dt.date) -> None:
        self.c, self.today = context, today
        self.name = first_name(context.lead_name)

    def _with_name(self, text: str) -> str:
        """``text`` with ", Jane" before its final punctuation, when the lead's name is known."""
        return f"{text[:-1]}, {self.name}{text[-1]}" if self.name else text

    def when(self, moment: dt.datetime) -> str:
        return say_when(moment, self.today)

    def identify(self) -> str:
        hello = f"Hello {self.name}" if self.name else "Hello"
        return f"{hello}, this is {self.c.agent_name}, an automated assistant calling for {self.c.company}."

    def opening(self) -> Sentences:
        number = (
            (f"You can reach us at {say_phone(self.c.callback_number)}.",) if self.c.callback_number else ()
        )
        return (
            self.identify(),
            f"I'm calling to set up a short meeting about {self.c.about}.",
            *number,
            "If you'd rather not be called, say stop or press nine at any time.",
            "Would you be interested?",
        )

    def voicemail(self) -> Sentences:
        number = (
            f" You can reach us at {say_phone(self.c.callback_number)}." if self.c.callback_number else ""
        )
        return (
            self.identify(),
            f"I was calling about a short meeting on {self.c.about}.{number}",
            "We'll try you again another time. Goodbye.",
        )

    def explain(self, intents: Iterable[Intent]) -> Sentences:
        found = set(intents)
        if Intent.NUMBER_SOURCE in found:
            return (
                "I don't have the details of where your number came from.",
                "If you'd rather not be called, just say stop.",
            )
        if Intent.IDENTITY in found:
            return (
                f"Yes, I'm an automated assistant calling for {self.c.company}.",
                "I can also put you through to a person if you prefer.",
            )
        return (
            f"This is {self.c.agent_name}, an automated assistant calling for {self.c.company}.",
            f"I'm calling about a short meeting on {self.c.about}.",
        )

    def question(self, state: State) -> Sentences:
        """The question of the current phase, asked again."""
        match state.phase:
            case Phase.INTEREST:
                return ("Would you be interested in a short meeting?",)
            case Phase.ASK_TIME:
                return (self.ask_time(),)
            case Phase.OFFERED if state.offered:
                return self.which_offer(state.offered)
            case Phase.ASK_EMAIL:
                return (self.ask_email(),)
            case Phase.SPELL_EMAIL:
                return ("Could you spell the email address for me, letter by letter?",)
            case Phase.ASK_CALLBACK:
                return (self.ask_callback(),)
        return ()

    def repeat(self, state: State) -> Sentences:
        return ("Yes, I'm here.", *self.question(state))

    def interested(self) -> Sentences:
        minutes = number_words(self.c.meeting_minutes)
        return (
            "Great.",
            f"It's a {minutes} minute call with one of our team about {self.c.about}.",
            self.ask_time(),
        )

    @staticmethod
    def ask_time(*, other: bool = False) -> str:
        return f"What {'other ' if other else ''}day and time would suit you?"

    @staticmethod
    def ask_email() -> str:
        return "What email address should I send the invitation to?"

    @staticmethod
    def ask_callback() -> str:
        return "When would be a good time to call you back?"

    def slot_free(self, start: dt.datetime, *, chosen: bool) -> str:
        return f"Great, {self.when(start)} it is." if chosen else "Good news, that time is free."

    def offer(self, slots: list[dt.datetime]) -> Sentences:
        if len(slots) == 1:
            return (f"I have {self.when(slots[0])}.", "Would that work for you?")
        return (f"I have {self._either(slots)}.", "Which would suit you better?")

    def which_offer(self, slots: list[dt.datetime]) -> Sentences:
        if len(slots) == 1:
            return (f"Would {self.when(slots[0])} work for you?",)
        return (f"Which would you prefer, {self._either(slots)}?",)

    def _either(self, slots: list[dt.datetime]) -> str:
        first, second = slots[0], slots[1]
        if first.date() == second.date():
            return f"{self.when(first)} or at {say_time(second)}"
        return f"{self.when(first)} or {self.when(second)}"

    def nothing_on(self, start: dt.datetime) -> Sentences:
        return (
            f"I'm sorry, I have nothing free {say_day(start.date(), self.today)}.",
            self.ask_time(other=True),
        )

    def booked(self, start: dt.datetime, email: str | None) -> Sentences:
        where = (
            f"The invitation goes to {say_email(email)}."
            if email
            else "Please make a note of it, as I have no email address to send an invitation to."
        )
        return (f"You're all set for {self.when(start)}.", where, self._with_name("Thank you.") + " Goodbye.")

    def noted(self, start: dt.datetime) -> Sentences:
        return (
            f"I've noted {self.when(start)}, and a colleague will confirm the meeting with you.",
            "Thank you, and goodbye.",
        )

    def callback_confirmed(self, when: dt.datetime) -> Sentences:
        return (f"Alright, {self.c.company} will call you back {self.when(when)}.", "Thank you, goodbye.")

    def call_us_back(self) -> Sentences:
        number = f" at {say_phone(self.c.callback_number)}" if self.c.callback_number else ""
        return (
            f"I'm sorry, I can't schedule a call back myself. Please call us{number} when it suits you.",
            "Goodbye.",
        )

    def opted_out(self) -> Sentences:
        return (f"Understood. {self.c.company} will not call you again.", "Goodbye.")

    def opt_out_failed(self) -> Sentences:
        return (
            "I'm sorry, something went wrong on my side.",
            "I have noted that you don't want to be called again. Goodbye.",
        )

    def not_interested(self) -> Sentences:
        return ("I understand.", self._with_name("Thank you for your time."), "Goodbye.")

    def goodbye(self) -> Sentences:
        return (self._with_name("Thank you for your time."), "Goodbye.")

    def give_up(self) -> Sentences:
        return ("I'm sorry, I'm having trouble understanding.", "I'll let you go for now. Goodbye.")

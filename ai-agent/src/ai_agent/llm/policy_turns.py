"""The policy's decisions: what to say and which tool to call, for one thing the lead said.

:class:`Dialogue` holds the derived :class:`~ai_agent.llm.policy_state.State` while the messages are
replayed; each decision also moves the state on (the phase: what was asked). The answers to tool results
are :mod:`ai_agent.llm.policy_results`; the words themselves are :class:`~ai_agent.llm.policy_lines.Lines`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ai_agent.llm import policy_tools as tools
from ai_agent.llm.policy_email import read_email
from ai_agent.llm.policy_intents import Intent, choice, classify
from ai_agent.llm.policy_lines import CallContext, Lines
from ai_agent.llm.policy_speech import say_day, say_when
from ai_agent.llm.policy_state import Phase, Reply, State
from ai_agent.llm.policy_time import Moment, read_moment
from ai_agent.llm.policy_when import Request, callback_time, meeting_request

_LEAVING = frozenset({Intent.GOODBYE, Intent.NOT_INTERESTED})
_EXPLAIN = frozenset({Intent.IDENTITY, Intent.WHO, Intent.NUMBER_SOURCE})
_YES_NO = frozenset({Phase.INTEREST, Phase.ASK_CALLBACK})  # questions a bare "no" declines


class Dialogue:
    """One replay of a conversation: the context, "now" in the lead's zone, the tools on offer."""

    def __init__(self, context: CallContext, now: dt.datetime, offered: frozenset[str]) -> None:
        self.context, self.now, self.offered = context, now, offered
        self.state = State()
        self.lines = Lines(context, now.date())
        self._unclear_before = 0

    def has(self, tool: str) -> bool:
        return tool in self.offered

    # -- the lead's words ---------------------------------------------------------------------------------

    def opening(self) -> Reply:
        self.state.greeted, self.state.phase = True, Phase.INTEREST
        return Reply(self.lines.opening())

    def on_user(self, text: str) -> Reply:
        s = self.state
        if s.ended:
            return Reply()
        self._unclear_before, s.unclear = s.unclear, 0
        intents, moment = classify(text), read_moment(text, self.now)
        reply = self._decide(text, intents, moment)
        if not s.greeted and reply.sentences:
            s.greeted = True
            reply = Reply((self.lines.identify(), *reply.sentences), reply.calls)
        return reply

    def _decide(self, text: str, intents: frozenset[Intent], moment: Moment | None) -> Reply:
        s = self.state
        if Intent.VOICEMAIL in intents and s.phase in {Phase.START, Phase.INTEREST}:
            s.greeted = True
            return self.close(self.lines.voicemail(), "voicemail", "answering machine")
        if Intent.OPT_OUT in intents:
            return self.opt_out(text)
        if Intent.HUMAN in intents:
            return self.transfer(text)
        if s.phase is Phase.START and not intents & (_LEAVING | {Intent.CALLBACK, Intent.BUSY}):
            return self.opening()
        if email := read_email(text):
            return (
                self.book(email)
                if s.phase in {Phase.ASK_EMAIL, Phase.SPELL_EMAIL}
                else self.early_email(email)
            )
        if self._wants_callback(intents, moment):
            return self.callback(text, intents, moment)
        if Intent.GOODBYE in intents:
            return self.close(self.lines.goodbye(), self.outcome(), "the lead said goodbye")
        if Intent.NOT_INTERESTED in intents or (Intent.NO in intents and s.phase in _YES_NO):
            s.declined = True
            return self.close(self.lines.not_interested(), "not_interested", "the lead is not interested")
        if s.phase is Phase.OFFERED and (picked := self._pick(text, intents, moment)) is not None:
            return self.slot_free(picked, chosen=True)
        if moment is not None and s.phase is not Phase.ASK_CALLBACK:
            return self.check(moment)
        return self._answer(intents)

    def _answer(self, intents: frozenset[Intent]) -> Reply:
        """Input that names no time: by what was asked."""
        s = self.state
        if intents & _EXPLAIN:
            return Reply((*self.lines.explain(intents), *self.lines.question(s)))
        if intents & {Intent.REPEAT, Intent.HELLO}:
            return self.opening() if s.phase is Phase.INTEREST else Reply(self.lines.repeat(s))
        if s.phase in {Phase.ASK_EMAIL, Phase.SPELL_EMAIL}:
            return self._no_email(intents)
        if s.phase is Phase.OFFERED and intents & {Intent.NO}:
            s.phase, s.offered = Phase.ASK_TIME, []
            return Reply(("No problem.", self.lines.ask_time(other=True)))
        if s.phase is Phase.OFFERED and intents & {Intent.YES, Intent.INTERESTED}:
            return self.unclear(self.lines.which_offer(s.offered))
        if s.phase in {Phase.ASK_TIME, Phase.OFFERED} and Intent.WHENEVER in intents:
            return self.check(Moment(day=self.now.date() + dt.timedelta(days=1)))  # "what do you have?"
        if s.phase is Phase.INTEREST and intents & {Intent.YES, Intent.INTERESTED}:
            s.interested, s.phase = True, Phase.ASK_TIME
            return Reply(self.lines.interested())
        return self.unclear()

    def _wants_callback(self, intents: frozenset[Intent], moment: Moment | None) -> bool:
        s = self.state
        if Intent.CALLBACK in intents:
            return True
        if Intent.BUSY in intents and s.phase in {Phase.START, Phase.INTEREST}:
            return True
        answers = {Intent.WHENEVER, Intent.YES, Intent.GOODBYE}
        return s.phase is Phase.ASK_CALLBACK and (moment is not None or bool(intents & answers))

    def _pick(self, text: str, intents: frozenset[Intent], moment: Moment | None) -> dt.datetime | None:
        """The offered slot the lead chose ("the first one", "yes" to a single one, "eleven"), if any."""
        offered = self.state.offered
        index = choice(text)
        if index is not None and index < len(offered):
            return offered[index]
        if len(offered) == 1 and moment is None and intents & {Intent.YES, Intent.INTERESTED}:
            return offered[0]
        if moment is None or moment.clock is None:
            return None
        for slot in offered:
            if moment.clock == slot.time() and moment.day in {None, slot.date()}:
                return slot
        return None

    # -- meetings --------------------------------------------------------------------------------------------

    def check(self, moment: Moment) -> Reply:
        s = self.state
        s.interested = True
        request = meeting_request(moment, self.now, s.context_day, self.context.meeting_hours, self.length)
        if request is None:
            s.phase = Phase.ASK_TIME
            return Reply(("I'm sorry, that time has already passed.", self.lines.ask_time(other=True)))
        s.context_day, s.taken = request.start.date(), None
        if not self.has(tools.CHECK_AVAILABILITY):
            return self.slot_free(request.start) if request.exact else Reply((self.lines.ask_time(),))
        when = (
            say_when(request.start, self.now.date()) if request.exact else self._range_words(moment, request)
        )
        check = f"Let me check {when}." if request.exact else f"Let me see {when}."
        return Reply((check,), (self.availability_call(request),))

    def _range_words(self, moment: Moment, request: Request) -> str:
        day = say_day(request.start.date(), self.now.date())
        if moment.part is None:
            return f"what I have {day if day in {'today', 'tomorrow'} else f'on {day}'}"
        if day == "today":
            return f"what I have this {moment.part}"
        return f"what I have {day if day == 'tomorrow' else f'on {day}'} {moment.part}"

    def availability_call(self, request: Request) -> tuple[str, dict[str, Any]]:
        minutes = self.context.meeting_minutes
        arguments = {"start": iso(request.start), "end": iso(request.end), "duration_minutes": minutes}
        return tools.CHECK_AVAILABILITY, arguments

    @property
    def length(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.context.meeting_minutes)

    def slot_free(self, start: dt.datetime, *, chosen: bool = False) -> Reply:
        s = self.state
        s.slot, s.offered, s.taken, s.interested = start, [], None, True
        confirm = self.lines.slot_free(start, chosen=chosen)
        if s.email is not None:
            return self.book(s.email, (confirm,))
        s.phase = Phase.ASK_EMAIL
        return Reply((confirm, self.lines.ask_email()))

    def offer(self, slots: list[dt.datetime], *, preface: tuple[str, ...] = ()) -> Reply:
        s = self.state
        if not slots:
            s.phase, s.offered = Phase.ASK_TIME, []
            return Reply(
                (*preface, "I'm sorry, I have nothing free around then.", self.lines.ask_time(other=True))
            )
        s.phase, s.offered, s.context_day = Phase.OFFERED, slots, slots[0].date()
        return Reply((*preface, *self.lines.offer(slots)))

    def book(self, email: str | None, preface: tuple[str, ...] = ()) -> Reply:
        s = self.state
        s.email = email
        if s.slot is None:
            s.phase = Phase.ASK_TIME
            return Reply((*preface, "Thank you.", self.lines.ask_time()))
        if not self.has(tools.BOOK_MEETING):
            return self.close((*preface, *self.lines.noted(s.slot)), "interested", "no booking tool")
        arguments: dict[str, Any] = {
            "start": iso(s.slot),
            "duration_minutes": self.context.meeting_minutes,
            "attendee_name": self.context.lead_name or (email or "").split("@")[0] or "Unknown",
        }
        if email is not None:
            arguments["email"] = email
        return Reply((*preface, "Thank you, I'm booking it now."), ((tools.BOOK_MEETING, arguments),))

    def early_email(self, email: str) -> Reply:
        """An address before the time was agreed: kept for the booking."""
        s = self.state
        s.email, s.interested = email, True
        if s.phase in {Phase.START, Phase.INTEREST}:
            s.phase = Phase.ASK_TIME
        return Reply(("Thank you, I have your email address.", *self.lines.question(s)))

    def _no_email(self, intents: frozenset[Intent]) -> Reply:
        """The lead answered the email question without an address we could read."""
        s, on_file = self.state, self.context.lead_email
        if Intent.EMAIL_ON_FILE in intents and on_file:
            return self.book(on_file)
        if intents & {Intent.NO_EMAIL, Intent.NO}:
            return self.book(None, ("No problem, I'll book it without an email address.",))
        if s.phase is Phase.ASK_EMAIL:
            s.phase = Phase.SPELL_EMAIL
            return Reply(
                ("Sorry, I didn't catch the address.", "Could you spell it for me, letter by letter?")
            )
        if on_file:
            return self.book(
                on_file, ("Sorry, I still didn't get it, so I'll use the address we have on file.",)
            )
        return self.book(None, ("Sorry, I still didn't get it, so I'll book it without an email address.",))

    # -- call backs, opt-outs, transfers, endings ------------------------------------------------------------

    def callback(self, text: str, intents: frozenset[Intent], moment: Moment | None) -> Reply:
        s = self.state
        vague = moment is None and not intents & {Intent.WHENEVER, Intent.GOODBYE, Intent.YES}
        if vague and s.phase is not Phase.ASK_CALLBACK:
            s.phase = Phase.ASK_CALLBACK
            return Reply(("Of course.", self.lines.ask_callback()))
        if not self.has(tools.SCHEDULE_CALLBACK):
            return self.close(self.lines.call_us_back(), "callback_requested", "no callback tool")
        when = callback_time(moment, self.now, self.context.calling_hours)
        note = f"The lead asked to be called back: {text.strip()}"[:300]
        return Reply((), ((tools.SCHEDULE_CALLBACK, {"callback_at": iso(when), "note": note}),))

    def opt_out(self, text: str) -> Reply:
        if not self.has(tools.OPT_OUT):
            return self.close(self.lines.opted_out(), "opted_out", "opt-out tool not offered")
        return Reply((), ((tools.OPT_OUT, {"reason": text.strip()[:300]}),))

    def transfer(self, text: str) -> Reply:
        if not self.has(tools.TRANSFER_TO_HUMAN):
            return self.nobody_available()
        reason = f"The lead asked for a person: {text.strip()}"[:300]
        return Reply(
            ("Of course, I'll connect you with a colleague now.",),
            ((tools.TRANSFER_TO_HUMAN, {"reason": reason}),),
        )

    def nobody_available(self) -> Reply:
        self.state.phase = Phase.ASK_CALLBACK
        return Reply(
            ("I'm sorry, nobody is available to take the call right now.", self.lines.ask_callback())
        )

    def unclear(self, question: tuple[str, ...] | None = None) -> Reply:
        s = self.state
        s.unclear = self._unclear_before + 1
        if s.unclear > 2:
            return self.close(self.lines.give_up(), self.outcome(), "the lead could not be understood")
        return Reply(("Sorry, I didn't quite catch that.", *(question or self.lines.question(s))))

    def outcome(self) -> str:
        """How the call ends if it ends now."""
        s = self.state
        flags = (
            (s.booked, "meeting_booked"),
            (s.callback, "callback_requested"),
            (s.opted_out, "opted_out"),
            (s.interested, "interested"),
            (s.declined, "not_interested"),
        )
        return next((outcome for flag, outcome in flags if flag), "no_conversation")

    def close(self, sentences: tuple[str, ...], outcome: str, reason: str) -> Reply:
        """Say ``sentences`` and hang up (when the conversation offers ``end_call``)."""
        if not self.has(tools.END_CALL):
            return Reply(sentences)
        return Reply(sentences, ((tools.END_CALL, {"outcome": outcome, "reason": reason}),))


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with the offset, to the second: ``2025-03-05T10:00:00-08:00``."""
    return moment.replace(microsecond=0).isoformat()

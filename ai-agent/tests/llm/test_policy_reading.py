"""The policy's reading of speech-to-text: days and times, email addresses, intents; and its speaking."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ai_agent.llm.policy_email import read_email
from ai_agent.llm.policy_intents import Intent, choice, classify
from ai_agent.llm.policy_speech import say_day, say_email, say_phone, say_time
from ai_agent.llm.policy_time import Moment, read_moment
from ai_agent.llm.policy_when import callback_time, meeting_request

LA = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2025, 3, 4, 9, 0, tzinfo=LA)  # a Tuesday
TOMORROW = dt.date(2025, 3, 5)
HOURS = (dt.time(8), dt.time(21))


@pytest.mark.parametrize(
    ("said", "day", "clock"),
    [
        ("Tomorrow at ten a m works for me.", TOMORROW, dt.time(10)),
        ("tomorrow at 10 a.m. works for me", TOMORROW, dt.time(10)),
        ("Tomorrow, the 10M works for me.", TOMORROW, dt.time(10)),  # speech to text lost the "a"
        ("Tomorrow at 10am.", TOMORROW, dt.time(10)),
        ("TOMORROW AT TEN A.M.", TOMORROW, dt.time(10)),
        ("tomorrow at ten a. m.", TOMORROW, dt.time(10)),
        ("Tomorrow, 10 o'clock.", TOMORROW, dt.time(10)),
        ("next Tuesday at 3 pm", dt.date(2025, 3, 11), dt.time(15)),
        ("10:30", None, dt.time(10, 30)),
        ("ten thirty", None, dt.time(10, 30)),
        ("half past two tomorrow", TOMORROW, dt.time(14, 30)),
        ("quarter to eleven on Friday", dt.date(2025, 3, 7), dt.time(10, 45)),
        ("tomorrow at noon", TOMORROW, dt.time(12)),
        ("the 12th at 3", dt.date(2025, 3, 12), dt.time(15)),
        ("March twelfth at four p m", dt.date(2025, 3, 12), dt.time(16)),
        ("Monday, not Friday, how about Wednesday at 9", dt.date(2025, 3, 5), dt.time(9)),
        ("tonight at 8", dt.date(2025, 3, 4), dt.time(20)),
        ("at 5 in the morning", None, dt.time(5)),
        ("at 17:00", None, dt.time(17)),
    ],
)
def test_days_and_times_are_read(said: str, day: dt.date | None, clock: dt.time) -> None:
    moment = read_moment(said, NOW)
    assert moment is not None and (moment.day, moment.clock) == (day, clock)


@pytest.mark.parametrize(
    "said",
    [
        "Oh yes, that sounds interesting. I would like to hear more.",
        "My email is jane dot doe at example dot com.",
        "I am not interested. Please do not call me again. Goodbye.",
        "Hello?",
        "Give me a second.",
        "I have two kids.",
    ],
)
def test_sentences_without_a_time_read_as_none(said: str) -> None:
    assert read_moment(said, NOW) is None


def test_parts_of_the_day_and_delays() -> None:
    assert read_moment("call me back tomorrow afternoon", NOW) == Moment(day=TOMORROW, part="afternoon")
    assert read_moment("this evening", NOW) == Moment(day=NOW.date(), part="evening")
    assert read_moment("in half an hour", NOW) == Moment(delay=dt.timedelta(minutes=30))
    assert read_moment("in two hours", NOW) == Moment(delay=dt.timedelta(hours=2))


def test_meeting_requests() -> None:
    length = dt.timedelta(minutes=30)
    hours = (dt.time(9), dt.time(17))
    exact = meeting_request(Moment(day=TOMORROW, clock=dt.time(10)), NOW, None, hours, length)
    assert exact is not None and exact.exact and exact.start.isoformat() == "2025-03-05T10:00:00-08:00"
    day = meeting_request(Moment(day=TOMORROW), NOW, None, hours, length)
    assert day is not None and not day.exact and (day.start.hour, day.end.hour) == (9, 17)
    context = meeting_request(Moment(clock=dt.time(15)), NOW, TOMORROW, hours, length)
    assert context is not None and context.start.date() == TOMORROW  # "how about three?" on the day discussed
    assert meeting_request(Moment(day=NOW.date(), clock=dt.time(8)), NOW, None, hours, length) is None


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (Moment(day=TOMORROW, part="afternoon"), "2025-03-05T14:00:00-08:00"),
        (Moment(day=TOMORROW, part="morning"), "2025-03-05T10:00:00-08:00"),
        (Moment(day=TOMORROW, part="evening"), "2025-03-05T18:00:00-08:00"),
        (Moment(day=TOMORROW), "2025-03-05T10:00:00-08:00"),
        (Moment(day=TOMORROW, clock=dt.time(6)), "2025-03-05T08:00:00-08:00"),  # before calling hours
        (Moment(clock=dt.time(23)), "2025-03-04T20:30:00-08:00"),  # after them
        (Moment(day=NOW.date(), part="morning"), "2025-03-04T10:00:00-08:00"),
        (None, "2025-03-04T11:00:00-08:00"),  # nothing said: in two hours
    ],
)
def test_call_back_times(moment: Moment | None, expected: str) -> None:
    assert callback_time(moment, NOW, HOURS).isoformat() == expected


def test_a_call_back_past_the_calling_hours_moves_to_the_next_morning() -> None:
    late = dt.datetime(2025, 3, 4, 20, 45, tzinfo=LA)
    assert callback_time(None, late, HOURS).isoformat() == "2025-03-05T10:00:00-08:00"
    assert (
        callback_time(Moment(day=late.date(), part="morning"), late, HOURS)
        .isoformat()
        .startswith("2025-03-05")
    )


@pytest.mark.parametrize(
    "said",
    [
        "My email is jane dot doe at example dot com.",
        "my email is jane dot doe at example dot com",
        "My email is jane.doe@example.com.",
        "My email is Jane.Doe at example.com.",
        "My e-mail is Jane dot Doe at example dot com",
        "jane dot doe at example com",
        "j a n e dot d o e at example dot com",
        "J-A-N-E dot D-O-E at E-X-A-M-P-L-E dot com",
        "Yes, it's jane period doe at example dot c o m, thanks.",
        "jane dot doe at sign example dot com",
    ],
)
def test_email_addresses_are_read(said: str) -> None:
    assert read_email(said) == "jane.doe@example.com"


def test_other_email_shapes() -> None:
    assert read_email("it's john underscore smith at gmail dot com") == "john_smith@gmail.com"
    assert read_email("bob plus sales at acme dot co dot uk please") == "bob+sales@acme.co.uk"
    assert read_email("jane two at example dot com") == "jane2@example.com"
    assert read_email("Jane Doe at example dot com") == "janedoe@example.com"  # a lost "dot" is not guessed


@pytest.mark.parametrize(
    "said",
    [
        "jane dot doe at example dot",
        "Tomorrow at ten a m works for me.",
        "I'm at home.",
        "at example dot com",
        "",
    ],
)
def test_no_email_address(said: str) -> None:
    assert read_email(said) is None


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("I am not interested. Please do not call me again. Goodbye.", Intent.OPT_OUT),
        ("Stop.", Intent.OPT_OUT),
        ("Please take me off your list.", Intent.OPT_OUT),
        ("Sorry, I am busy right now. Could you call me back tomorrow afternoon? Goodbye.", Intent.CALLBACK),
        ("could you call me. back tomorrow", Intent.CALLBACK),
        ("Sorry, I am busy right now.", Intent.BUSY),
        ("Oh yes, that sounds interesting. I would like to hear more.", Intent.INTERESTED),
        ("Great, thank you. Goodbye!", Intent.GOODBYE),
        ("Hello? Is anybody there? Goodbye.", Intent.GOODBYE),
        ("Hello?", Intent.HELLO),
        ("Can I talk to a real person?", Intent.HUMAN),
        ("Get me a human.", Intent.HUMAN),
        ("Am I talking to a robot?", Intent.IDENTITY),
        ("Who is this?", Intent.WHO),
        ("How did you get my number?", Intent.NUMBER_SOURCE),
        ("Hi, you have reached Alex. Please leave a message after the tone.", Intent.VOICEMAIL),
        ("No thanks.", Intent.NOT_INTERESTED),
        ("Sorry, what?", Intent.REPEAT),
        ("I'd rather not give my email.", Intent.NO_EMAIL),
    ],
)
def test_intents(said: str, intent: Intent) -> None:
    assert intent in classify(said)


def test_intents_that_must_not_be_read() -> None:
    assert Intent.HUMAN not in classify("Are you a real person?")
    assert Intent.INTERESTED not in classify("I am not interested.")
    assert Intent.NO not in classify("No problem.")
    assert Intent.OPT_OUT not in classify("Could you stop by tomorrow?")
    assert Intent.REPEAT not in classify("Sorry, I am busy right now.")
    assert choice("the second one") == 1 and choice("the earlier one") == 0 and choice("yes") is None


def test_speaking() -> None:
    assert say_time(dt.time(10)) == "ten in the morning"
    assert say_time(dt.time(14, 30)) == "two thirty in the afternoon"
    assert say_time(dt.time(9, 5)) == "nine oh five in the morning"
    assert say_time(dt.time(12)) == "noon"
    assert say_time(dt.time(18, 45)) == "six forty five in the evening"
    assert say_day(TOMORROW, NOW.date()) == "tomorrow"
    assert say_day(dt.date(2025, 3, 7), NOW.date()) == "Friday"
    assert say_day(dt.date(2025, 3, 21), NOW.date()) == "Friday, March twenty first"
    assert say_email("jane.doe+x@example.co.uk") == "jane dot doe plus x at example dot co dot uk"
    assert say_phone("+1 415 555 0100") == "four one five, five five five, zero one zero zero"

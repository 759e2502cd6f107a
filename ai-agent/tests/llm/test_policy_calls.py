"""Whole calls with the offline dialogue policy: the test carrier's lines (asterisk/voices/lines.txt) and
variations as whisper writes them, dates and time zones, slots, with simulated tools answering as the
conversation would."""

from __future__ import annotations

import datetime as dt

import pytest

from ai_agent.llm.policy_state import Reply
from ai_agent.llm.policy_testing import Call, interested_call, local, make_policy, tools_sim
from ai_agent.llm.policy_tools import TOOLS
from ai_agent.llm.types import Message

# -- the test carrier's people ----------------------------------------------------------------------------


async def test_the_opening_names_the_lead_the_company_that_it_is_automated_and_how_to_opt_out() -> None:
    call = Call()
    opening = await call.start()
    assert "Jane" in opening and "Acme Solar" in opening and "automated" in opening
    assert "say stop or press nine at any time" in opening
    assert call.log == []


@pytest.mark.parametrize(
    ("interested", "tomorrow", "email"),
    [
        (
            "Oh yes, that sounds interesting. I would like to hear more.",
            "Tomorrow at ten a m works for me.",
            "My email is jane dot doe at example dot com.",
        ),
        (
            "oh yes that sounds interesting i would like to hear more",
            "Tomorrow at 10 a.m. works for me.",
            "My email is jane.doe@example.com.",
        ),
        (
            "Oh, yes. That sounds interesting.",
            "tomorrow at 10am works for me",
            "My email is Jane.Doe at example.com",
        ),
        (
            "Yes, that sounds interesting.",
            "Tomorrow at ten AM works for me",
            "my email is jane dot doe at example com",
        ),
    ],
)
async def test_0110_books_tomorrow_at_ten_and_ends_the_call(
    interested: str, tomorrow: str, email: str
) -> None:
    call = Call()
    assert "Acme Solar" in await call.say("Hello?")  # the person speaks first: the greeting answers
    asked = await call.say(interested)
    assert "day and time" in asked
    checked = await call.say(tomorrow)
    assert call.called("check_calendar_availability") == [
        {"start": "2025-03-05T10:00:00-08:00", "end": "2025-03-05T10:30:00-08:00", "duration_minutes": 30}
    ]
    assert "tomorrow at ten in the morning" in checked and "email" in checked
    goodbye = await call.say(email)
    assert call.called("book_meeting") == [
        {
            "start": "2025-03-05T10:00:00-08:00",
            "duration_minutes": 30,
            "attendee_name": "Jane Doe",
            "email": "jane.doe@example.com",
        }
    ]
    assert "tomorrow at ten in the morning" in goodbye and "jane dot doe at example dot com" in goodbye
    assert "goodbye" in goodbye.lower()
    assert call.outcome == "meeting_booked" and call.ended
    late = [*call.messages, Message(role="user", content="Great, thank you. Goodbye!")]
    assert call.policy.reply(late, TOOLS) == Reply()  # the call has ended: nothing more to say


async def test_0110_when_the_agent_speaks_first_and_hears_hello_it_greets_again() -> None:
    call = Call()
    await call.start()
    again = await call.say("Hello?")
    assert "Acme Solar" in again and "automated" in again
    await call.say("Oh yes, that sounds interesting. I would like to hear more.")
    await call.say("Tomorrow at ten a m works for me.")
    await call.say("My email is jane dot doe at example dot com.")
    assert call.outcome == "meeting_booked"


@pytest.mark.parametrize(
    "declines",
    [
        "I am not interested. Please do not call me again. Goodbye.",
        "i am not interested please do not call me again goodbye",
        "I'm not interested. Please don't call me again.",
        "Stop.",
        "Take me off your list",
        "remove me",
    ],
)
async def test_0111_opts_out_then_confirms_and_ends(declines: str) -> None:
    call = Call()
    await call.start()
    said = await call.say(declines)
    assert [call.name for call in call.log] == ["opt_out", "end_call"]
    assert call.outcome == "opted_out"
    assert "will not call you again" in said and "Acme Solar" in said


@pytest.mark.parametrize(
    "busy",
    [
        "Sorry, I am busy right now. Could you call me back tomorrow afternoon? Goodbye.",
        "sorry i am busy right now could you call me back tomorrow afternoon goodbye",
        "Sorry, I'm busy right now. Could you call me? Back tomorrow afternoon. Goodbye.",
        "Sorry I am busy right now, could you call me back tomorrow after noon? Good bye.",
    ],
)
async def test_0112_schedules_the_call_back_tomorrow_at_two_and_ends(busy: str) -> None:
    call = Call()
    await call.start()
    said = await call.say(busy)
    callbacks = call.called("schedule_callback")
    assert [c["callback_at"] for c in callbacks] == ["2025-03-05T14:00:00-08:00"]
    assert busy.strip() in callbacks[0]["note"]
    assert "tomorrow at two in the afternoon" in said
    assert call.outcome == "callback_requested"


async def test_a_person_who_gives_up_at_the_greeting_hears_who_called() -> None:
    call = Call()
    said = await call.say("Hello? Is anybody there? Goodbye.")
    assert "Acme Solar" in said and "automated" in said
    assert call.outcome == "no_conversation"


async def test_an_answering_machine_gets_a_short_message() -> None:
    call = Call(make_policy(callback_number="+1 415 555 0100"))
    said = await call.say(
        "Hi, you have reached Alex. I cannot take your call right now. Please leave a message after the tone."
    )
    assert "Acme Solar" in said and "four one five" in said
    assert call.outcome == "voicemail"


# -- times, days and time zones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "start"),
    [
        ("Next Tuesday at 3 pm", "2025-03-11T15:00:00-07:00"),  # after the switch to daylight saving time
        ("next tuesday at three p.m.", "2025-03-11T15:00:00-07:00"),
        ("10:30", "2025-03-04T10:30:00-08:00"),  # later today
        ("How about ten thirty?", "2025-03-04T10:30:00-08:00"),
        ("Friday at two", "2025-03-07T14:00:00-08:00"),  # no am/pm: business hours
        ("the day after tomorrow at 9", "2025-03-06T09:00:00-08:00"),
        ("March 12th at 4 p.m.", "2025-03-12T16:00:00-07:00"),
        ("8:30", "2025-03-05T08:30:00-08:00"),  # passed today: tomorrow
    ],
)
async def test_date_phrases_are_read_in_the_leads_zone(said: str, start: str) -> None:
    call = await interested_call()
    await call.say(said)
    checks = call.called("check_calendar_availability")
    assert checks[0]["start"] == start
    assert dt.datetime.fromisoformat(checks[0]["end"]) - dt.datetime.fromisoformat(start) == dt.timedelta(
        minutes=30
    )


async def test_tomorrow_is_the_leads_tomorrow_late_in_the_evening() -> None:
    # 06:00 UTC on March 5th is still March 4th, 22:00 in Los Angeles.
    call = await interested_call(make_policy(now=lambda: dt.datetime(2025, 3, 5, 6, 0, tzinfo=dt.UTC)))
    await call.say("Tomorrow at ten a m works for me.")
    assert call.called("check_calendar_availability")[0]["start"] == "2025-03-05T10:00:00-08:00"


async def test_another_zone_gets_its_own_offset() -> None:
    call = await interested_call(make_policy(timezone="Europe/Berlin"))
    await call.say("Tomorrow at ten a m works for me.")
    assert call.called("check_calendar_availability")[0]["start"] == "2025-03-05T10:00:00+01:00"


async def test_a_day_without_a_time_offers_two_free_slots_apart() -> None:
    call = await interested_call()
    said = await call.say("How about Thursday?")
    assert call.called("check_calendar_availability")[0] == {
        "start": "2025-03-06T09:00:00-08:00",
        "end": "2025-03-06T17:00:00-08:00",
        "duration_minutes": 30,
    }
    assert "Thursday at nine in the morning or at eleven in the morning" in said
    chosen = await call.say("The second one, please.")
    assert "Thursday at eleven in the morning" in chosen and "email" in chosen
    await call.say("jane dot doe at example dot com")
    assert call.called("book_meeting")[0]["start"] == "2025-03-06T11:00:00-08:00"


async def test_a_taken_slot_offers_the_nearest_free_ones() -> None:
    call = await interested_call(fake=tools_sim(busy={local(5, 10)}))
    said = await call.say("Tomorrow at ten a m works for me.")
    assert "isn't available" in said
    assert "tomorrow at nine thirty in the morning or at ten thirty in the morning" in said
    assert "email" not in said
    await call.say("Ten thirty works.")
    await call.say("My email is jane dot doe at example dot com.")
    assert call.called("book_meeting")[0]["start"] == "2025-03-05T10:30:00-08:00"
    assert call.outcome == "meeting_booked"


async def test_a_slot_taken_at_booking_time_offers_others() -> None:
    call = await interested_call(fake=tools_sim(booking_refused="taken"))
    await call.say("Tomorrow at ten a m works for me.")
    said = await call.say("My email is jane dot doe at example dot com.")
    assert "just taken" in said and "Which would suit you better?" in said
    call.fake.booking_refused = None
    booked = await call.say("the first one")
    assert call.called("book_meeting")[-1]["email"] == "jane.doe@example.com"  # not asked again
    assert "email" not in booked.split("booking")[0]
    assert call.outcome == "meeting_booked"


async def test_a_time_already_past_today_is_refused() -> None:
    call = await interested_call()
    said = await call.say("today at 8 am")
    assert "already passed" in said and call.called("check_calendar_availability") == []

"""Whole calls with the offline dialogue policy: email, call backs, transfers, questions, unclear answers,
endings, failing tools and the streaming interface, with simulated tools answering as the
conversation would."""

from __future__ import annotations

import pytest

from ai_agent.llm.policy_testing import Call, interested_call, make_policy, tools_sim
from ai_agent.llm.policy_tools import TOOLS
from ai_agent.llm.types import Message, TextDelta


async def booking_call() -> Call:
    call = await interested_call()
    await call.say("Tomorrow at ten a m works for me.")
    return call


# -- email ------------------------------------------------------------------------------------------------


async def test_an_email_not_understood_is_asked_to_be_spelled_once() -> None:
    call = await booking_call()
    said = await call.say("It's the usual one.")
    assert "spell" in said and call.called("book_meeting") == []
    await call.say("j a n e dot d o e at example dot com")
    assert call.called("book_meeting")[0]["email"] == "jane.doe@example.com"


async def test_twice_not_understood_books_without_an_email_and_says_so() -> None:
    call = await booking_call()
    await call.say("It's the usual one.")
    said = await call.say("Mumble mumble.")
    assert "email" not in call.called("book_meeting")[0]
    assert "without an email address" in said and call.outcome == "meeting_booked"


async def test_rather_not_books_without_an_email_at_once() -> None:
    call = await booking_call()
    said = await call.say("I'd rather not.")
    assert "email" not in call.called("book_meeting")[0] and "without an email address" in said


async def test_twice_not_understood_uses_the_address_on_file() -> None:
    call = Call(make_policy(lead_email="jane@lead.example"))
    await call.start()
    await call.say("Yes, that sounds interesting.")
    await call.say("Tomorrow at ten a m works for me.")
    await call.say("It's the usual one.")
    said = await call.say("Mumble mumble.")
    assert call.called("book_meeting")[0]["email"] == "jane@lead.example"
    assert "on file" in said


# -- call backs, transfers, questions, unclear answers, endings -------------------------------------------


@pytest.mark.parametrize(
    ("said", "at"),
    [
        ("Tomorrow morning.", "2025-03-05T10:00:00-08:00"),
        ("In an hour.", "2025-03-04T10:00:00-08:00"),
        ("This evening.", "2025-03-04T18:00:00-08:00"),
        ("Tonight at ten.", "2025-03-04T20:30:00-08:00"),  # capped to the calling hours
        ("Whenever.", "2025-03-04T11:00:00-08:00"),
    ],
)
async def test_busy_asks_when_to_call_back(said: str, at: str) -> None:
    call = Call()
    await call.start()
    asked = await call.say("I'm busy right now.")
    assert "call you back" in asked and call.log == []
    await call.say(said)
    assert [c["callback_at"] for c in call.called("schedule_callback")] == [at]
    assert call.outcome == "callback_requested"


async def test_asking_for_a_person_transfers_the_call() -> None:
    call = Call()
    await call.start()
    said = await call.say("Can I talk to a real person, please?")
    assert "connect you" in said
    assert [c.name for c in call.log] == ["transfer_to_human"]
    assert not call.ended


async def test_when_nobody_can_take_the_transfer_a_call_back_is_offered() -> None:
    call = Call(fake=tools_sim(failing={"transfer_to_human": 1}))
    await call.start()
    said = await call.say("I want to speak to a human.")
    assert "nobody is available" in said and "call you back" in said
    await call.say("tomorrow afternoon")
    assert call.called("schedule_callback")[0]["callback_at"] == "2025-03-05T14:00:00-08:00"


async def test_are_you_a_robot_is_answered_honestly() -> None:
    call = Call()
    await call.start()
    said = await call.say("Wait, are you a robot?")
    assert "automated assistant" in said and "Would you be interested" in said
    assert call.log == []


async def test_unclear_answers_get_two_clarifying_questions_then_a_polite_close() -> None:
    call = Call()
    await call.start()
    for _ in range(2):
        said = await call.say("Purple monkey dishwasher.")
        assert "didn't quite catch" in said and not call.ended
    said = await call.say("Purple monkey dishwasher.")
    assert "Goodbye" in said and call.outcome == "no_conversation"


async def test_an_understood_answer_resets_the_clarifying_questions() -> None:
    call = Call()
    await call.start()
    await call.say("Purple monkey.")
    await call.say("Purple monkey.")
    await call.say("Yes.")
    said = await call.say("Purple monkey.")
    assert "didn't quite catch" in said and not call.ended


async def test_plain_not_interested_ends_politely_without_an_opt_out() -> None:
    call = Call()
    await call.start()
    said = await call.say("No thanks, I'm not interested.")
    assert [c.name for c in call.log] == ["end_call"] and call.outcome == "not_interested"
    assert "Thank you for your time" in said


async def test_goodbye_after_showing_interest_ends_as_interested() -> None:
    call = await interested_call()
    await call.say("Actually I have to go, goodbye.")
    assert call.outcome == "interested"


async def test_an_opt_out_that_fails_is_retried_once_then_still_ends_as_opted_out() -> None:
    call = Call(fake=tools_sim(failing={"opt_out": 2}))
    await call.start()
    said = await call.say("Stop calling me.")
    assert [c.name for c in call.log] == ["opt_out", "opt_out", "end_call"]
    assert call.outcome == "opted_out" and "don't want to be called again" in said


async def test_an_opt_out_wins_over_everything_else_said() -> None:
    call = await booking_call()
    await call.say("Actually, remove me from your list. My email is jane at example dot com.")
    assert [c.name for c in call.log][-2:] == ["opt_out", "end_call"]
    assert call.called("book_meeting") == []


# -- the interface ----------------------------------------------------------------------------------------


async def test_text_streams_sentence_by_sentence_then_the_calls_then_done() -> None:
    call = await booking_call()
    call.messages.append(Message(role="user", content="My email is jane dot doe at example dot com."))
    turn = await call.turn()
    kinds = [type(event).__name__ for event in turn.events]
    assert kinds == ["TextDelta", "ToolCallsReady", "Done"]
    call.messages.append(Message(role="tool", content='{"meeting_id": "m"}', tool_call_id=turn.calls[0].id))
    final = await call.turn()
    kinds = [type(event).__name__ for event in final.events]
    assert kinds == ["TextDelta"] * 3 + ["ToolCallsReady", "Done"]
    texts = [event.text for event in final.events if isinstance(event, TextDelta)]
    assert all(text.rstrip()[-1] in ".?!" for text in texts) and texts[0].endswith(". ")
    ids = [c.id for c in call.log]
    assert len(ids) == len(set(ids))


async def test_the_policy_is_stateless_a_fresh_one_answers_the_same() -> None:
    call = await booking_call()
    call.messages.append(Message(role="user", content="My email is jane dot doe at example dot com."))
    fresh = make_policy()
    assert fresh.reply(call.messages, TOOLS) == call.policy.reply(call.messages, TOOLS)
    assert fresh.reply(call.messages, TOOLS).calls[0][0] == "book_meeting"


async def test_without_tools_it_still_talks_and_never_calls_one() -> None:
    call = Call(tools=())
    await call.start()
    await call.say("Yes, that sounds interesting.")
    said = await call.say("Tomorrow at ten a m works for me.")
    assert "email" in said
    said = await call.say("I am not interested. Please do not call me again. Goodbye.")
    assert "will not call you again" in said and call.log == []


async def test_after_end_call_nothing_more_is_said() -> None:
    call = Call()
    await call.start()
    await call.say("Stop.")
    call.ended = False
    assert await call.say("Great, thank you. Goodbye!") == ""


async def test_what_do_you_have_offers_free_slots_tomorrow() -> None:
    call = await interested_call()
    said = await call.say("I don't know, what do you have?")
    assert call.called("check_calendar_availability")[0]["start"] == "2025-03-05T09:00:00-08:00"
    assert "tomorrow at nine in the morning or at eleven in the morning" in said

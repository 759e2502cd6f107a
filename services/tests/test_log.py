"""Structured logs: JSON lines carrying the bound context; phone numbers masked for info logs."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from dialplane.log import bound_context, configure_logging, mask_number


def test_json_lines_carry_the_service_and_the_bound_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json=True, service="dialer")
    try:
        with bound_context(request_id="req-1", call_id="call-9"):
            structlog.get_logger("test").info("call_dialed", attempt=2)
        logging.getLogger("uvicorn.error").warning("from the standard library")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        configure_logging(level="INFO", json=False)
    assert lines[0] | {"timestamp": None} == {
        "event": "call_dialed",
        "attempt": 2,
        "request_id": "req-1",
        "call_id": "call-9",
        "service": "dialer",
        "level": "info",
        "logger": "test",
        "timestamp": None,
    }
    assert (lines[1]["event"], lines[1]["level"], "call_id" in lines[1]) == (
        "from the standard library",
        "warning",
        False,
    )


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+12025550100", "+1********00"), ("02025550100", "0********00"), ("", ""), (None, ""), ("+1", "+1")],
)
def test_phone_numbers_are_masked_but_for_the_prefix_and_last_two_digits(
    number: str | None, masked: str
) -> None:
    assert mask_number(number) == masked

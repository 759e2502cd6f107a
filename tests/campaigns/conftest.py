"""Fixtures: the whole AI call path (:mod:`ai_stack`)."""

from ai_stack import ai_stack, radicale

__all__ = ["ai_stack", "radicale"]

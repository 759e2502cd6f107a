"""Metrics of the language-model providers. ``provider`` is a configured name (``openai``, ``ollama``, …),
never a model's output; ``outcome`` and ``reason`` are the short fixed words listed in ``docs/llm.md``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from dialplane.metrics import NAMESPACE

# First-token latency of a spoken turn: tens of milliseconds (local cache) to the seconds a caller notices.
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)

LLM_REQUESTS = Counter(
    "llm_requests_total",
    "Answers asked of a language model, by provider and outcome (after the provider's own retries).",
    ["provider", "outcome"],
    namespace=NAMESPACE,
)
LLM_FIRST_TOKEN = Histogram(
    "llm_first_token_seconds",
    "Time from asking for an answer to its first text or tool-call fragment, retries included.",
    ["provider"],
    namespace=NAMESPACE,
    buckets=FIRST_TOKEN_BUCKETS,
)
LLM_RETRIES = Counter(
    "llm_retries_total",
    "Requests to a language model sent again, by provider and the reason the previous one failed.",
    ["provider", "reason"],
    namespace=NAMESPACE,
)

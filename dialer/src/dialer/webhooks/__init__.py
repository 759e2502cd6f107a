"""Status-callback webhooks of the dialer: recorded with the status change, delivered by a runner.

* :func:`enqueue_status_callback` — in the caller's transaction, no network I/O;
  :class:`WebhookStatusListener` calls it for the calls consumer's status changes;
* :class:`WebhookRunner` — claims and delivers (signed POST, retries with backoff, order per call);
* :func:`validate_callback_url` — the request-time URL check (raises :class:`ValueError`);
* :func:`verify_signature` — the receiver's check of ``X-Dialplane-Signature``.

See ``docs/webhooks.md`` for the wire format.
"""

from dialer.webhooks.config import WebhookConfig
from dialer.webhooks.listener import WebhookStatusListener
from dialer.webhooks.runner import WebhookRunner
from dialer.webhooks.sender import create_client
from dialer.webhooks.service import enqueue_status_callback
from dialer.webhooks.signing import signature, verify_signature
from dialer.webhooks.targets import RefusedTargetError, is_public_address, validate_callback_url

__all__ = [
    "RefusedTargetError",
    "WebhookConfig",
    "WebhookRunner",
    "WebhookStatusListener",
    "create_client",
    "enqueue_status_callback",
    "is_public_address",
    "signature",
    "validate_callback_url",
    "verify_signature",
]

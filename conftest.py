"""Root pytest configuration: Dialplane's shared fixtures (real PostgreSQL, real Asterisk).

The service packages are imported here first on purpose: pytest's importlib mode names a test module after
its path (``gateway/tests/test_main.py`` -> ``gateway.tests.test_main``) and would otherwise create a
placeholder ``gateway`` package for the directory, hiding the real one.
"""

import ai_agent
import ari_bridge
import dialer
import gateway

pytest_plugins = ["dialplane.testing"]

__all__ = ["ai_agent", "ari_bridge", "dialer", "gateway"]

from dialer.analytics import api

__all__ = ["api"]

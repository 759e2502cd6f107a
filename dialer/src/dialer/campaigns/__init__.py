from dialer.campaigns import api

__all__ = ["api"]

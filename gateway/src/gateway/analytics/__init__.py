from gateway.analytics import api

__all__ = ["api"]

from gateway.campaigns import api

__all__ = ["api"]

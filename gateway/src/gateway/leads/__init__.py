from gateway.leads import api

__all__ = ["api"]

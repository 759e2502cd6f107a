from gateway.refusals import api

__all__ = ["api"]

from dialer.refusals import api

__all__ = ["api"]

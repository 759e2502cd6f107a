from dialer.leads import api

__all__ = ["api"]

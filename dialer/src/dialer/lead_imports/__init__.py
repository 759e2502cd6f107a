from dialer.lead_imports import api

__all__ = ["api"]

from dialer.do_not_call import api

__all__ = ["api"]

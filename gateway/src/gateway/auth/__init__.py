"""Who is calling the gateway: access tokens, API keys, scopes, rate limits and request size limits.

Routes protect themselves with :func:`gateway.auth.dependencies.requires` (a scope) or
:data:`gateway.auth.dependencies.CurrentPrincipal` (any authenticated caller).
"""

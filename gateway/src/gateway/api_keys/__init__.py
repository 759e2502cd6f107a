"""API keys for partner systems: ``X-API-Key: dpk_<id>_<secret>``, looked up by id, secret stored hashed."""

"""The API key format and secret handling."""

from __future__ import annotations

from gateway.api_keys.keys import KeyParts, hash_secret, new_id, new_secret, parse_key, secret_matches


def test_a_key_parses_back_into_its_parts() -> None:
    parts = KeyParts(new_id(), new_secret())
    assert parse_key(str(parts)) == parts
    assert parts.secret not in repr(parts)


def test_secrets_with_underscores_still_parse() -> None:
    parts = KeyParts("0123456789abcdef", "_" * 43)
    assert parse_key(str(parts)) == parts


def test_malformed_keys_do_not_parse() -> None:
    good = str(KeyParts(new_id(), new_secret()))
    for bad in ("", "dpk", good[:-1], good + "x", good.replace("dpk_", "abc_"), good.upper()):
        assert parse_key(bad) is None, bad


def test_secrets_are_random_and_compared_by_hash() -> None:
    secret = new_secret()
    assert secret != new_secret()
    assert len(secret) == 43
    assert secret_matches(secret, hash_secret(secret))
    assert not secret_matches(secret, hash_secret(new_secret()))
    assert not secret_matches(secret, None)

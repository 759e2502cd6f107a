"""Secrets are compared in constant time: no ``==`` / ``!=`` in the services' code has a password, secret,
signature, digest, hash or key on either side (those go through ``hmac.compare_digest``, or a verifier that
uses it). The source is read, not run, so a new comparison anywhere fails here until it is fixed or shown
to be harmless below."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ["services/src", "gateway/src", "dialer/src", "ari-bridge/src", "ai-agent/src"]
SECRET_NAME = re.compile(
    r"secret|passw|signature|digest|_hash$|^hash_|api_?key|internal_token|access_token|bearer|credential",
    re.IGNORECASE,
)
HARMLESS = {
    # (file, comparison): why a timing difference gives nothing away
    (
        "gateway/src/gateway/auth/service.py",
        "microseconds(user.password_changed_at) != claims.password_changed_us",
    ): "a timestamp from a token whose signature has been verified already",
    ("dialer/src/dialer/idempotency/service.py", "stored.request_hash != key.request_hash"): (
        "the hash of a request body, compared for a retry of the same idempotency key"
    ),
}


def names(node: ast.AST) -> list[str]:
    """The identifiers an expression reads (string constants are not names)."""
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.append(child.id)
        elif isinstance(child, ast.Attribute):
            found.append(child.attr)
    return found


def secret_comparisons(path: Path) -> list[tuple[str, int]]:
    """(the comparison, its line) of each ``==`` / ``!=`` that involves a secret-looking name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Compare) or not any(isinstance(o, ast.Eq | ast.NotEq) for o in node.ops):
            continue
        sides = [node.left, *node.comparators]
        if any(isinstance(side, ast.Constant) for side in sides):
            continue  # against a literal (None, "bearer", ...): a format check, not a secret comparison
        if any(SECRET_NAME.search(name) for side in sides for name in names(side)):
            found.append((ast.unparse(node), node.lineno))
    return found


def source_files() -> list[Path]:
    files = [path for source in SOURCES for path in (ROOT / source).rglob("*.py")]
    return [path for path in files if not path.name.startswith("testing")]  # test doubles, not services


def test_the_scan_finds_the_service_code() -> None:
    files = source_files()
    assert len(files) > 100
    assert ROOT / "gateway/src/gateway/api_keys/keys.py" in files


def test_no_secret_is_compared_with_equality() -> None:
    unsafe = []
    for path in source_files():
        relative = path.relative_to(ROOT).as_posix()
        for comparison, line in secret_comparisons(path):
            if (relative, comparison) not in HARMLESS:
                unsafe.append(f"{relative}:{line}: {comparison}")
    assert unsafe == [], "compare secrets with hmac.compare_digest (or list a harmless case, with why)"


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("ok = token_hash == stored_hash", True),
        ("ok = request.headers['x'] != settings.internal_token.get_secret_value()", True),
        ("ok = given_signature == expected", True),
        ("ok = hmac.compare_digest(given_signature, expected)", False),
        ("ok = secret is None or secret == ''", False),
    ],
)
def test_the_scan_flags_equality_on_secrets(tmp_path: Path, code: str, flagged: bool) -> None:
    module = tmp_path / "module.py"
    module.write_text(code + "\n")
    assert bool(secret_comparisons(module)) is flagged

"""Secrets too weak to guard a service that others can reach: the example value of
.env.example, or fewer than :data:`MIN_CHARS` characters.

One rule for two places: ``pcsearch api`` refuses to start with such a token on a public
bind, and docker-compose.yml's one-shot ``secrets-check`` service runs
``python -m api.secret_check`` before anything else starts (Postgres keeps the password it
was first started with, so a weak one must be stopped before that).
"""

from __future__ import annotations

import os
import re
import sys

EXAMPLE_VALUE = "change-me"
"""The placeholder of .env.example (and the README): refused in any case or spelling."""
MIN_CHARS = 16
MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
"""Characters a password may have to go into a database URL unquoted (RFC 3986's unreserved)."""


def is_example(value: str) -> bool:
    """Whether ``value`` is the placeholder, as ``change-me``, ``CHANGE_ME``, ``changeme``..."""
    return re.sub(r"[^a-z0-9]", "", value.lower()) == re.sub(r"[^a-z0-9]", "", EXAMPLE_VALUE)


def weakness(value: str) -> str | None:
    """Why ``value`` cannot guard a public service (the value itself is never shown), or None."""
    if is_example(value):
        return f"is the example value {EXAMPLE_VALUE!r} of .env.example"
    if len(value) < MIN_CHARS:
        return f"has {len(value)} characters; at least {MIN_CHARS} are needed"
    return None


def split_tokens(raw: str) -> tuple[str, ...]:
    """PCSEARCH_API_TOKENS as the API reads it: comma-separated, blanks ignored."""
    return tuple(t.strip() for t in raw.split(",") if t.strip())


def token_problems(tokens: tuple[str, ...]) -> list[str]:
    """One phrase per weak token, naming it by position (``token 2 of 3 ...``)."""
    problems = []
    for number, token in enumerate(tokens, 1):
        why = weakness(token)
        if why:
            problems.append(f"token {number} of {len(tokens)} {why}")
    return problems


def compose_problems(env: dict[str, str]) -> list[str]:
    """What is wrong with the secrets docker-compose.yml reads from .env, one line each."""
    fix = f"set a new value in .env, e.g. the output of: {MAKE_ONE}"
    problems = []
    password = env.get("POSTGRES_PASSWORD", "")
    why = weakness(password) if password else "is not set"
    if why:
        problems.append(f"POSTGRES_PASSWORD {why}; {fix}")
    elif not URL_SAFE.fullmatch(password):
        problems.append(
            "POSTGRES_PASSWORD has characters that break the database URL it is placed in; use "
            f"letters, digits and - . _ ~ only, e.g. the output of: {MAKE_ONE}"
        )
    tokens = split_tokens(env.get("PCSEARCH_API_TOKENS", ""))
    if not tokens:
        problems.append(f"PCSEARCH_API_TOKENS is not set; {fix}")
    problems += [f"PCSEARCH_API_TOKENS: {p}; {fix}" for p in token_problems(tokens)]
    return problems


def main() -> int:
    """``python -m api.secret_check``: exit 2 with one line per weak secret, else 0."""
    problems = compose_problems(dict(os.environ))
    for problem in problems:
        print(f"secrets-check: {problem}", file=sys.stderr)
    if problems:
        return 2
    print("secrets-check: POSTGRES_PASSWORD and PCSEARCH_API_TOKENS are set and strong enough")
    return 0


if __name__ == "__main__":
    sys.exit(main())

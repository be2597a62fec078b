"""Password hashing (Argon2id, OWASP's parameters) and the rules a new password must meet.

Hashes made before Argon2id (Werkzeug's scrypt) still verify, and are replaced by an
Argon2id hash at the next successful login (`needs_rehash`). The parameters are pinned in
tests/web/test_sessions.py, so lowering them fails a test.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from werkzeug.security import check_password_hash
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

# OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1 (the minimum it gives).
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1
_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)

MIN_LENGTH = 12
MAX_LENGTH = 256  # ASVS asks for at least 64; Argon2 takes any length
MIN_SCORE = 3  # zxcvbn: 0 (too guessable) .. 4; 3 is "safely unguessable" (~10^8 guesses offline)
# The top of the Xato corpus that zxcvbn ships (30,000 passwords), for an exact-match check.
COMMON = frozenset(FREQUENCY_LISTS["passwords"])
# Words that make a password easy to guess for this service (ASVS: context-specific words).
CONTEXT_WORDS = ("supervise", "supervision", "safeguarding", "school")


def _normal(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An Argon2id hash of the password (NFKC-normalised, so the same characters typed on
    another keyboard still match)."""
    return _hasher.hash(_normal(password))


def verify(stored: str, password: str) -> bool:
    """Whether `password` matches the stored hash (Argon2id, or an older Werkzeug hash)."""
    if stored.startswith("$argon2"):
        try:
            return _hasher.verify(stored, _normal(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored, password)


def needs_rehash(stored: str) -> bool:
    """True for any hash not made with the current Argon2id parameters."""
    if not stored.startswith("$argon2id$"):
        return True
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


# A stable hash to check against when the email is unknown, so a login takes the same
# time whether or not the account exists.
DUMMY_HASH = hash_password("not a password, only a timing stand-in")


def problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Why this password may not be used (empty when it may): length, a common password,
    or one guessed quickly from common patterns, the person's name or email, or this service."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return [f"The password must be at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"The password must be at most {MAX_LENGTH} characters."]
    lowered = _normal(password).lower()
    local = email.split("@")[0].lower() if email else ""
    personal = [w for w in (email.lower(), local, *local.replace("_", ".").split("."),
                            *name.lower().split()) if len(w) >= 3]
    if lowered in COMMON:
        return ["That password is on a list of common passwords. Choose another."]
    if lowered in personal:
        return ["The password may not be your name or email address."]
    # zxcvbn checks at most its max_length characters; a longer password is at least as strong.
    estimate = zxcvbn(password[:72], user_inputs=[*personal, *CONTEXT_WORDS])
    if estimate["score"] < MIN_SCORE:
        hint = estimate["feedback"].get("warning") or ""
        return [("That password is too easy to guess" + (f" ({hint.rstrip('.')})" if hint else "")
                 + ". A few unrelated words make a strong password that is easy to remember.")]
    return []

"""Console passwords: scrypt from the standard library (no extra dependency), one salt per hash.

A stored hash reads `scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`, so the cost can be raised later
without breaking the hashes already stored. Passwords are never logged or kept in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os

N, R, P, DKLEN = 2**14, 8, 1, 32  # about 70 ms and 16 MB per hash
MIN_LENGTH = 8


class WeakPassword(ValueError):
    pass


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A new hash with a random salt (`salt`: only for the demo company's published password)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; False for no hash or a malformed one."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * int(n) * int(r) * 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def fingerprint(stored: str | None) -> str:
    """A short digest of the stored hash: a session carries it, so a new password ends old sessions."""
    return hashlib.sha256((stored or "").encode()).hexdigest()[:16]


def dummy_check(password: str) -> None:
    """Spend the time of a real check (for unknown users), so timing does not tell who exists."""
    verify_password(password, _DUMMY)


_DUMMY = f"scrypt${N}${R}${P}${'00' * 16}${'00' * DKLEN}"

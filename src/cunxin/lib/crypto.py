"""Field encryption and keyed blind indexes for personal data (DESIGN.md §6).

ID numbers, phone numbers and bank cards are stored encrypted (AES-256-GCM, a random
nonce per value) together with a *blind index*: a keyed hash of the normalised value, so
that an exact search ("find 13800001111") is an indexed equality without decrypting
anything. Masked forms for display are computed from the plaintext when a value is
written, never from a query.

Keys come from the environment (CUNXIN_FIELD_KEYS, CUNXIN_BLIND_INDEX_KEYS) or from the
files named by the same variables with ``_FILE``. Each is a key ring
``"kid:base64key,kid:base64key"``: the first key is current, the others are still
accepted for reading (encryption) or searching (blind index) while `cunxin keys rotate`
re-encrypts every row. See docs/operations.md, "Key rotation".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Demo keys are derived from a fixed phrase so that the demo runs without set-up; production
# settings refuse to start with them (see cunxin.project.settings).
DEMO_PHRASE = "cunxin-demo-only-not-a-secret"


class KeyRingError(ValueError):
    """A key ring is missing or malformed."""


@dataclass(frozen=True)
class KeyRing:
    """Named 32-byte keys; ``current`` encrypts, all of them decrypt."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, text: str, what: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        first = ""
        for n, item in enumerate((p.strip() for p in text.split(",")), 1):
            if not item:
                continue
            kid, sep, b64 = item.partition(":")
            if not sep or not kid.isalnum():
                # by position, not text: an entry without "id:" may be the key itself
                raise KeyRingError(f"{what}: each key must be 'id:base64' (entry {n})")
            try:
                key = base64.b64decode(b64, validate=True)
            except ValueError:
                raise KeyRingError(f"{what}: key {kid!r} is not valid base64") from None
            if len(key) != 32:
                raise KeyRingError(f"{what}: key {kid!r} must be 32 bytes, got {len(key)}")
            if kid in keys:
                raise KeyRingError(f"{what}: key id {kid!r} appears twice")
            keys[kid] = key
            first = first or kid
        if not keys:
            raise KeyRingError(f"{what}: no keys")
        return cls(current=first, keys=keys)

    @property
    def is_demo(self) -> bool:
        return any(kid.startswith("demo") for kid in self.keys)


def new_key() -> str:
    """A fresh random key in the ring's base64 form (for `cunxin keys new`)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _demo_ring(purpose: str) -> str:
    key = hashlib.sha256(f"{DEMO_PHRASE}:{purpose}".encode()).digest()
    return f"demo1:{base64.b64encode(key).decode()}"


def demo_mode() -> bool:
    """CUNXIN_DEMO=1 (set by `cunxin demo`, the tests and the benchmarks) allows the
    built-in demo keys; anything else must bring its own."""
    return os.environ.get("CUNXIN_DEMO", "") in ("1", "true", "yes")


def _from_env(name: str, purpose: str) -> str:
    if os.environ.get(name):
        return os.environ[name]
    if os.environ.get(f"{name}_FILE"):
        return Path(os.environ[f"{name}_FILE"]).read_text(encoding="utf-8").strip()
    if demo_mode():
        return _demo_ring(purpose)
    raise KeyRingError(
        f"{name} (or {name}_FILE) is not set: personal data needs its own keys "
        "(`cunxin keys new`, docs/operations.md); CUNXIN_DEMO=1 uses the demo keys"
    )


@lru_cache(maxsize=1)
def field_keys() -> KeyRing:
    return KeyRing.parse(_from_env("CUNXIN_FIELD_KEYS", "field"), "CUNXIN_FIELD_KEYS")


@lru_cache(maxsize=1)
def blind_index_keys() -> KeyRing:
    return KeyRing.parse(
        _from_env("CUNXIN_BLIND_INDEX_KEYS", "blind-index"), "CUNXIN_BLIND_INDEX_KEYS"
    )


def reload_keys() -> None:
    """Forget cached key rings (after the environment changed: tests, rotation)."""
    field_keys.cache_clear()
    blind_index_keys.cache_clear()
    _aead.cache_clear()


@lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def _associated(purpose: str, owner: str) -> bytes:
    return f"{purpose}\x1f{owner}".encode() if owner else purpose.encode()


def encrypt(plaintext: str | None, *, purpose: str, owner: str = "") -> str | None:
    """``kid$base64(nonce|ciphertext)``. `purpose` and `owner` (the person's uid) are
    bound as associated data: a phone ciphertext pasted into the ID column, or one
    person's ciphertext copied to another person's row, does not decrypt."""
    if plaintext is None or plaintext == "":
        return None
    ring = field_keys()
    nonce = secrets.token_bytes(12)
    sealed = _aead(ring.keys[ring.current]).encrypt(
        nonce, plaintext.encode(), _associated(purpose, owner)
    )
    return f"{ring.current}${base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str | None, *, purpose: str, owner: str = "") -> str | None:
    if token is None or token == "":
        return None
    kid, _, b64 = token.partition("$")
    ring = field_keys()
    if kid not in ring.keys:
        raise KeyRingError(f"value encrypted with key {kid!r}, which is not in CUNXIN_FIELD_KEYS")
    raw = base64.b64decode(b64)
    return _aead(ring.keys[kid]).decrypt(raw[:12], raw[12:], _associated(purpose, owner)).decode()


def encrypt_many(
    values: list[str | None], *, purpose: str, owners: list[str] | None = None
) -> list[str | None]:
    """`encrypt` over a column (the publish of a county: ~1.5 µs per value)."""
    ring = field_keys()
    seal = _aead(ring.keys[ring.current]).encrypt
    prefix, token, b64 = f"{ring.current}$", secrets.token_bytes, base64.b64encode
    owners = owners if owners is not None else [""] * len(values)
    out: list[str | None] = []
    for v, owner in zip(values, owners, strict=True):
        if not v:
            out.append(None)
            continue
        nonce = token(12)
        out.append(
            prefix + b64(nonce + seal(nonce, v.encode(), _associated(purpose, owner))).decode()
        )
    return out


def blind_index_many(values: list[str | None], *, purpose: str) -> list[str | None]:
    """`blind_index` over a column."""
    ring = blind_index_keys()
    key, digest, head = ring.keys[ring.current], hmac.digest, f"{purpose}\x1f"
    return [
        digest(key, (head + normalise(v)).encode(), "sha256").hex()[:32] if v else None
        for v in values
    ]


def protect_column(job: tuple[str, list[str | None], list[str]]) -> tuple[list, list]:
    """(purpose, values, owners) → (ciphertexts, blind indexes); a top-level function so
    that a worker process can run it."""
    purpose, values, owners = job
    return (
        encrypt_many(values, purpose=purpose, owners=owners),
        blind_index_many(values, purpose=purpose),
    )


def key_id(token: str | None) -> str | None:
    return None if not token else token.partition("$")[0]


def normalise(value: str) -> str:
    """What a blind index is computed over: no spaces or dashes, upper-case (ID's X)."""
    return "".join(ch for ch in value if ch not in " -\t").upper()


def blind_index(value: str | None, *, purpose: str, kid: str | None = None) -> str | None:
    """Keyed hash (HMAC-SHA256, 128 bits, hex) of the normalised value."""
    if value is None or value == "":
        return None
    ring = blind_index_keys()
    key = ring.keys[kid or ring.current]
    msg = f"{purpose}\x1f{normalise(value)}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


def blind_index_candidates(value: str, *, purpose: str) -> list[str]:
    """The value's blind index under every key of the ring: a search during a blind-index
    key rotation finds rows written under the old key as well as the new."""
    return [blind_index(value, purpose=purpose, kid=kid) for kid in blind_index_keys().keys]

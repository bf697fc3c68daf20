"""Ed25519 signing keys of publish, and verification (used by portals and the reference receiver).

The key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key. The private key
is a PEM file (PKCS#8): given by a setting, or — on the embedded database, when none is given —
generated at first start beside the SQLite file with mode 0600. Nothing logs a private key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "ed25519"
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_pem(public_raw: bytes) -> str:
    key = Ed25519PublicKey.from_public_bytes(public_raw)
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_raw_from_pem(pem: bytes | str) -> bytes:
    """Raw 32 bytes of an Ed25519 public key given as PEM (SubjectPublicKeyInfo)."""
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key.public_bytes(*_RAW)


def verify(public_raw: bytes, payload: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``payload`` by ``public_raw``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, payload)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(*_RAW)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    def sign(self, payload: bytes) -> bytes:
        return self.private_key.sign(payload)

    def __repr__(self) -> str:  # never the key
        return f"Signer(key_id={self.key_id!r})"

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> Signer:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key is not an Ed25519 private key")
        return cls(key)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())


def load_key_file(path: str | os.PathLike[str]) -> Signer:
    """The signer in a PEM file; ValueError naming the file (never its content) when it is not one."""
    try:
        return Signer.from_pem(Path(path).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot read an Ed25519 private key from {path}: {type(exc).__name__}") from None


def load_or_create_key_file(path: str | os.PathLike[str]) -> tuple[Signer, bool]:
    """The signer in ``path``, created first (mode 0600) when the file does not exist; ``True`` when
    created. Two processes starting at once agree on one key (exclusive create, then read)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return load_key_file(target), False
    signer = Signer.generate()
    # Written whole under a temporary name, then linked into place: a process starting beside this
    # one sees either no file or the complete key, and link() refuses to replace one.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(signer.private_pem())
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, target)
    except FileExistsError:
        return load_key_file(target), False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return signer, True

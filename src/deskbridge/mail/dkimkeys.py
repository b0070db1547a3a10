"""DKIM keys kept in the data dir: made on first use (RSA 2048, mode 0600), read once per process,
and the DNS TXT record that publishes each."""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import tempfile
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


def private_key_pem(path: Path) -> bytes:
    """The RSA key at `path` (PKCS#1 PEM), created there if it does not exist yet."""
    with _lock:
        if path not in _keys:
            if not path.exists():
                _create(path)
            _keys[path] = path.read_bytes()
        return _keys[path]


def _create(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and linked into place: two processes starting at once agree on one key.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dkim-")
    try:
        os.write(fd, pem)
        os.close(fd)
        os.chmod(temporary, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


@functools.cache
def public_key_record(pem: bytes) -> str:
    """The TXT record (at <selector>._domainkey.<domain>) that publishes the key's public half."""
    key = serialization.load_pem_private_key(pem, password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"

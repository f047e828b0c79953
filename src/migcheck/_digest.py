"""blake2b without hashlib's import: ``import hashlib`` loads OpenSSL's ``_hashlib`` (about 5 ms,
measured with ``python -X importtime``), which the check path never needs; hashlib's blake2b is
CPython's built-in ``_blake2`` module anyway. Falls back to hashlib elsewhere."""

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover (another Python implementation)
    from hashlib import blake2b

__all__ = ["blake2b"]

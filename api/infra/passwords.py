"""argon2id hashing off the event loop, and the password policy."""

from __future__ import annotations

import asyncio
import gzip
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHashing:
    """Hashes and verifies in a small thread pool, so concurrency (and memory) is bounded
    and the event loop never blocks on argon2."""

    def __init__(
        self, *, time_cost: int, memory_cost_kib: int, parallelism: int, workers: int
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        # Verifying against this when the email is unknown makes both paths cost the same.
        self._dummy_hash = self._hasher.hash("glassshop-timing-equaliser")

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        loop = asyncio.get_running_loop()
        target = password_hash if password_hash is not None else self._dummy_hash
        ok = await loop.run_in_executor(self._pool, self._verify, target, password)
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# The 100,000 most common passwords of a public breach corpus, lower-cased, one a line,
# most common first; where it comes from and its licence: common_passwords.README.md.
COMMON_PASSWORDS_FILE = "common_passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Read and unpacked on first use only (a few tens of milliseconds), then kept."""
    packed = resources.files("api.infra").joinpath(COMMON_PASSWORDS_FILE).read_bytes()
    text = gzip.decompress(packed).decode("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(password: str, *, min_length: int, max_length: int) -> list[str]:
    """What is wrong with a new password, as messages for extensions.fields."""
    problems = []
    if len(password) < min_length:
        problems.append(f"Use at least {min_length} characters.")
    elif len(password) > max_length:
        problems.append(f"Use at most {max_length} characters.")
    elif password.lower() in common_passwords():
        problems.append("This password is too common; choose another.")
    return problems

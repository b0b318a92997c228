"""What a Lambda process builds once, on first use (its cold start): settings, AWS clients, the
repository. ``per_process`` marks such a builder; ``reset_process_state`` forgets them all, so tests,
benchmarks and the local stack can give handlers a fresh cold start after changing the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_BUILT_ONCE: list[Any] = []


def per_process(builder: F) -> F:
    """``functools.cache``, registered so ``reset_process_state`` clears it."""
    cached = cache(builder)
    _BUILT_ONCE.append(cached)
    return cached  # type: ignore[return-value]


def reset_process_state() -> None:
    """Forget every settings object and client built so far: the next use builds them again from the
    environment as it is now."""
    for cached in _BUILT_ONCE:
        cached.cache_clear()

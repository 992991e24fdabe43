"""How a collector uses the network, in one value every fetcher takes (YouTube via yt-dlp, article pages)."""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class Net:
    """``sleep`` s between requests to one host (yt-dlp jitters it up to twice that), ``retries``
    more attempts on transient errors waiting ``backoff * 2**attempt`` s (or the server's
    Retry-After), ``timeout`` s per request, and a browser ``cookies`` export for yt-dlp."""

    sleep: float = 1.0
    retries: int = 3
    timeout: float = 30.0
    backoff: float = 2.0
    cookies: str | os.PathLike | None = None

    def __post_init__(self):
        if self.retries < 0 or self.sleep < 0 or self.timeout <= 0 or self.backoff < 0:
            raise ValueError(f"retries and sleep must be >= 0, timeout > 0, backoff >= 0: {self}")

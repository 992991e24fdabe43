"""How a collector uses the network: one policy value (:class:`Net`) every fetcher takes, and the
polite HTTP GET (:func:`fetch`) that pages, covers and transcripts go through (yt-dlp has its own
retries, configured from the same Net by collectors.youtube.ydl_params)."""

from __future__ import annotations

import dataclasses
import email.utils
import http.client
import os
import threading
import time
import urllib.error
import urllib.request
from typing import NamedTuple
from urllib.parse import urlsplit

from collectors.records import ItemError

USER_AGENT = "vsumhub/0.1 (research crawler for video-summarization datasets; polite, 1 request/s)"


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


class Response(NamedTuple):
    """What :func:`fetch` got: the body, the response headers and the final URL (after redirects)."""

    body: bytes
    headers: object  # http.client.HTTPMessage: .get(), .get_content_charset(), .get_content_type()
    url: str

    def text(self) -> str:
        """The body decoded with the charset the server names (UTF-8 otherwise; bad bytes replaced)."""
        charset = self.headers.get_content_charset() if self.headers is not None else None
        try:
            return self.body.decode(charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name in the header
            return self.body.decode("utf-8", errors="replace")


_pace_lock = threading.Lock()
_next_slot: dict[str, float] = {}  # host -> monotonic time its next request may start


def _wait_turn(host: str, sleep: float) -> None:
    """Space requests to one host `sleep` seconds apart, across threads (slots are reserved)."""
    with _pace_lock:
        now = time.monotonic()
        start = max(now, _next_slot.get(host, now))
        _next_slot[host] = start + sleep
    if start > now:
        time.sleep(start - now)


def retry_after(headers) -> float | None:
    """Seconds a Retry-After header asks for (either form: seconds or an HTTP date), None without one."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _read(resp, url: str, max_bytes: int | None) -> bytes:
    if max_bytes is None:
        return resp.read()
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ItemError("bad_media", f"{url}: {int(declared)} bytes, over the cap of {max_bytes}")
    body = resp.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ItemError("bad_media", f"{url}: more than the cap of {max_bytes} bytes")
    return body


def fetch(
    url: str,
    net: Net = Net(),
    *,
    max_wait: float = 60.0,
    max_bytes: int | None = None,
    session: urllib.request.OpenerDirector | None = None,
    user_agent: str = USER_AGENT,
    accept: str = "*/*",
) -> Response:
    """GET `url` politely; returns a :class:`Response`.

    `net.timeout` bounds the connect and each read (urllib semantics). 429, 5xx, timeouts and
    dropped connections are retried up to `net.retries` more times, waiting ``backoff * 2**attempt``
    seconds, or the server's Retry-After when it sends one; a Retry-After above `max_wait` ends
    the retries at once (a collector must not stall for an hour). Requests to one host start at
    least `net.sleep` seconds apart. A body over `max_bytes` (declared or read) is refused.
    `session` is an urllib opener (cookies, proxies); default a plain one.

    Raises ItemError: 404/410 -> unavailable; 401/403 -> blocked (bot_check when Cloudflare
    answers with a challenge); 429 after the retries -> rate_limited; timeouts -> timeout; a body
    over `max_bytes` -> bad_media; other HTTP statuses, 5xx after the retries and connection
    failures -> error.
    """
    timeout, retries, backoff, sleep = net.timeout, net.retries, net.backoff, net.sleep
    opener = session or urllib.request.build_opener()
    host = urlsplit(url).netloc.lower()
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept": accept})
    for attempt in range(retries + 1):
        _wait_turn(host, sleep)
        wait = backoff * 2**attempt
        try:
            with opener.open(request, timeout=timeout) as resp:
                return Response(_read(resp, url, max_bytes), resp.headers, resp.geturl())
        except urllib.error.HTTPError as e:
            e.close()
            if e.code in (404, 410):
                raise ItemError("unavailable", f"{url}: HTTP {e.code} (the page is gone)") from None
            if e.code in (401, 403):
                challenge = (e.headers.get("cf-mitigated") or "").lower() == "challenge"
                kind = "bot_check" if challenge else "blocked"
                raise ItemError(
                    kind, f"{url}: HTTP {e.code} (access refused{', bot challenge' if challenge else ''})"
                ) from None
            if e.code != 429 and e.code < 500:
                raise ItemError("error", f"{url}: HTTP {e.code} {e.reason}") from None
            kind = "rate_limited" if e.code == 429 else "error"
            last = ItemError(kind, f"{url}: HTTP {e.code} after {attempt + 1} attempt(s)")
            told = retry_after(e.headers)
            if told is not None:
                if told > max_wait:
                    raise ItemError(
                        kind, f"{url}: HTTP {e.code}, Retry-After {told:.0f} s exceeds max_wait={max_wait:g} s"
                    ) from None
                wait = told
        except TimeoutError:
            last = ItemError("timeout", f"{url}: no answer within {timeout:g} s ({attempt + 1} attempt(s))")
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                last = ItemError("timeout", f"{url}: no answer within {timeout:g} s ({attempt + 1} attempt(s))")
            else:
                last = ItemError("error", f"{url}: cannot connect ({e.reason}) after {attempt + 1} attempt(s)")
        except (OSError, http.client.HTTPException) as e:  # reset / dropped mid-response
            last = ItemError("error", f"{url}: connection failed ({e!r}) after {attempt + 1} attempt(s)")
        if attempt < retries:
            time.sleep(wait)
    raise last

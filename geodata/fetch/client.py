"""The polite HTTP client the fetchers share: rate limit, retries, Retry-After, a disk cache.

Standard library only (:mod:`urllib.request`). A :class:`PoliteClient` keeps to a service's
published call limits (a token bucket), retries transient failures with exponential back-off,
waits for an HTTP 429's ``Retry-After``, says "offline" at once for a refused connection or a
failed name look-up, and can cache every answer on disk by request (method, URL and body), so
a second run asks nothing it already has.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import logging
import math
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from hotspots._files import atomic_write_bytes
from hotspots.errors import InputError, ParameterError

from ..settings import FETCH_DEADLINE, MAX_ANSWER_BYTES, MAX_RETRY_AFTER

__all__ = [
    "FetchError",
    "MalformedAnswer",
    "PoliteClient",
    "Progress",
    "check_options",
    "check_url",
]

log = logging.getLogger(__name__)

_USER_AGENT = "hotspots-fetch/0.1 (+https://data.police.uk/docs/)"
_MAX_WAIT = 120.0  # seconds: longest single wait (Retry-After or back-off)
_RETRY_STATUS = frozenset({408, 500, 502, 503, 504})

_T = TypeVar("_T")

#: ``progress(done, total, message)``, called by a fetcher after each step.
Progress = Callable[[int, int, str], None]


class _Redirected(Exception):
    """A redirect to another host, or from https to anything else, refused."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same host and port with the same or a safer scheme
    (urllib's own follows one anywhere: another host, https to http, ftp)."""

    def redirect_request(  # type: ignore[override]
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        safe_scheme = new.scheme == old.scheme or (old.scheme, new.scheme) == ("http", "https")
        if (new.hostname, new.port) != (old.hostname, old.port) or not safe_scheme:
            raise _Redirected(f"{new.scheme}://{new.netloc}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# The one opener of every request: redirects kept to their host.
_OPENER = urllib.request.build_opener(_SameHostRedirects)


class FetchError(InputError):
    """A download that failed: names what failed and what to do (often: download by hand)."""


class MalformedAnswer(Exception):
    """An answer with status 200 that is not what the service sends (retried)."""


class _TooSlow(TimeoutError):
    """The answer did not arrive in full within the request's time (retried)."""


class _TooBig(Exception):
    """The answer is larger than the client accepts (not retried)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _TokenBucket:
    """At most ``rate`` requests a second on average, bursts of at most ``capacity``."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def acquire(self) -> None:
        while True:  # at most two turns: the sleep makes the token
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            time.sleep((1.0 - self.tokens) / self.rate)

    def drain(self) -> None:
        """Forget saved-up tokens (after HTTP 429: the server thinks we are too fast)."""
        self.tokens = 0.0
        self.stamp = time.monotonic()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), or None.

    >>> _retry_after("2"), _retry_after("soon"), _retry_after(None)
    (2.0, None, None)
    """
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(exc: BaseException) -> str:
    """A short reason for a network failure, e.g. ``connection refused``."""
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, _TooSlow):
        return str(reason)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"host name lookup failed: {reason.strerror or reason}"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(reason, ConnectionResetError):
        return "connection reset"
    if isinstance(reason, http.client.IncompleteRead):
        return "answer cut short"
    text = str(reason).strip() or type(reason).__name__
    return " ".join(text.split())


def _is_offline(exc: BaseException) -> bool:
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class PoliteClient:
    """Requests to one service: rate limit, retries with back-off, an optional disk cache.

    Parameters
    ----------
    service
        The service's name in messages, e.g. ``"data.police.uk"``.
    manual
        What to do by hand when the service cannot help, ending each failure's message.
    rate
        At most this many requests a second (bursts of ``max(1, rate)``); None for no limit.
    retries, backoff, timeout
        Transient failures are sent again ``retries`` times after ``backoff * 2**attempt``
        seconds; ``timeout`` bounds each request, in seconds, from connecting to the last
        byte of the answer (a server trickling bytes is cut off, and the request retried).
    cache_dir
        Folder caching answers by request (method, URL and body); None for no cache.
    deadline
        Seconds the client may work in all, waits and retries included (from its creation);
        past it the next step raises :class:`FetchError`. None: no limit.
    max_retry_after
        Longest HTTP 429 ``Retry-After`` waited for; a longer one raises :class:`FetchError`.
    max_bytes
        Largest answer accepted; a larger one raises :class:`FetchError`.

    Attributes
    ----------
    sent, resent, cache_hits
        Requests sent (retries included), sent again, and answered from ``cache_dir``.
    """

    def __init__(
        self,
        *,
        service: str,
        manual: str,
        rate: float | None,
        retries: int,
        backoff: float,
        timeout: float,
        cache_dir: Path | None,
        deadline: float | None = FETCH_DEADLINE,
        max_retry_after: float = MAX_RETRY_AFTER,
        max_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.service = service
        self.deadline = deadline
        self.ends = time.monotonic() + deadline if deadline is not None else math.inf
        self.max_retry_after = max_retry_after
        self.max_bytes = max_bytes
        self.manual = manual
        self.bucket = _TokenBucket(rate, max(1.0, rate)) if rate is not None else None
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.cache_dir = cache_dir
        self.sent = 0
        self.resent = 0
        self.cache_hits = 0

    # --- cache -----------------------------------------------------------------------------
    def _cache_path(self, method: str, url: str, body: bytes | None) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{method}\n{url}\n".encode() + (body or b"")).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.cache"

    # --- one exchange ------------------------------------------------------------------------
    def _send(
        self, method: str, url: str, body: bytes | None
    ) -> tuple[int, str, bytes, str | None]:
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        if self.bucket is not None:
            self.bucket.acquire()
        self.sent += 1
        ends = min(time.monotonic() + self.timeout, self.ends)
        wait = max(0.001, ends - time.monotonic())
        try:
            with _OPENER.open(req, timeout=wait) as resp:
                return int(resp.status), str(resp.reason), self._read(resp, ends), None
        except urllib.error.HTTPError as err:
            try:
                data = self._read(err, ends)
            except (OSError, http.client.HTTPException):
                data = b""
            return int(err.code), str(err.reason), data, err.headers.get("Retry-After")

    def _read(self, resp: Any, ends: float) -> bytes:
        """The answer's body, read as it comes, until ``ends`` (monotonic) or ``max_bytes``."""
        length = resp.headers.get("Content-Length")
        if length and length.strip().isdigit() and int(length) > self.max_bytes:
            raise _TooBig(int(length))
        chunks: list[bytes] = []
        total = 0
        while True:
            if time.monotonic() > ends:
                raise _TooSlow(f"answer not complete within {self.timeout:g} s ({total:,} bytes)")
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > self.max_bytes:
                raise _TooBig(total)
            chunks.append(chunk)

    def call(
        self,
        method: str,
        url: str,
        body: bytes | None,
        *,
        what: str,
        parse: Callable[[bytes], _T],
        passthrough: frozenset[int] = frozenset(),
        resume_hint: str = "",
        cache_if: Callable[[_T], bool] | None = None,
    ) -> tuple[int, _T | None]:
        """Send a request until it succeeds; ``(200, parsed)`` or ``(status, None)``.

        Statuses in ``passthrough`` go back to the caller at once. Transient failures
        (resets, timeouts, 408/500/502/503/504, malformed answers) and HTTP 429 are tried
        ``retries`` more times; refused connections and failed look-ups are not (offline).
        Parsed answers are cached when ``cache_if`` (default: always) says so.
        """
        cache = self._cache_path(method, url, body)
        if cache is not None and cache.is_file():
            hit = self._read_cache(cache, parse)
            if hit is not None:
                return 200, hit[0]
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.resent += 1
            self._check_deadline(what, last, resume_hint, 0.0)
            outcome = self._attempt(method, url, body, what, parse, passthrough, attempt)
            if not isinstance(outcome, _Retry):
                status, parsed, data = outcome
                if (
                    status == 200
                    and cache is not None
                    and (cache_if is None or cache_if(cast(_T, parsed)))
                ):
                    atomic_write_bytes(cache, data)
                return status, parsed
            last = outcome.reason
            wait = self.backoff * 2.0**attempt if outcome.wait is None else outcome.wait
            if attempt < self.retries:
                self._check_deadline(what, last, resume_hint, min(_MAX_WAIT, wait))
                time.sleep(min(_MAX_WAIT, wait))
        raise self._gave_up(what, last, resume_hint)

    def _check_deadline(self, what: str, last: str, resume_hint: str, wait: float) -> None:
        """Raise :class:`FetchError` if the deadline has passed (or will have, after ``wait``)."""
        if time.monotonic() + wait < self.ends:
            return
        why = f" (last: {last})" if last else ""
        raise FetchError(
            f"{what}: stopped after {self.deadline:g} s, the deadline for the whole download"
            f"{why}; run again later{resume_hint}, or raise the deadline."
        )

    def _read_cache(self, cache: Path, parse: Callable[[bytes], _T]) -> tuple[_T] | None:
        """The cached answer parsed (in a 1-tuple), or None when the file is unreadable."""
        try:
            parsed = parse(cache.read_bytes())
        except (MalformedAnswer, OSError):
            log.warning("ignoring an unreadable cache file %s", cache)
            return None
        self.cache_hits += 1
        return (parsed,)

    def _attempt(
        self,
        method: str,
        url: str,
        body: bytes | None,
        what: str,
        parse: Callable[[bytes], _T],
        passthrough: frozenset[int],
        attempt: int,
    ) -> tuple[int, _T | None, bytes] | _Retry:
        """One exchange: ``(status, parsed or None, raw answer)`` to return, or a :class:`_Retry`.

        Raises :class:`FetchError` when offline or for a status that no retry will change.
        """
        try:
            status, phrase, data, retry_after = self._send(method, url, body)
        except _Redirected as exc:
            raise FetchError(
                f"{what}: {self.service} redirected {_short(url)} to {exc.target}, another host "
                f"or a less secure scheme; refused: check the address (base_url), or "
                f"{self.manual}"
            ) from None
        except _TooBig as exc:
            raise FetchError(
                f"{what}: {self.service} sent an answer of {exc.size:,} bytes or more, over the "
                f"limit of {self.max_bytes:,}; check the address (base_url), or {self.manual}"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            if _is_offline(exc):
                raise FetchError(
                    f"could not reach {self.service} ({_describe(exc)} at "
                    f"{urllib.parse.urlsplit(url).netloc}); {self.manual}"
                ) from None
            return _retrying(what, _describe(exc), attempt)
        if status == 200:
            try:
                return 200, parse(data), data
            except MalformedAnswer as exc:
                return _retrying(what, str(exc), attempt)
        if status in passthrough:
            return status, None, data
        if status == 429:
            given = _retry_after(retry_after)
            if given is not None and given > self.max_retry_after:
                raise FetchError(
                    f"{what}: {self.service} asks to wait {given:,.0f} s (HTTP 429 Retry-After), "
                    f"more than {self.max_retry_after:g} s; run again later, or {self.manual}"
                )
            if self.bucket is not None:
                self.bucket.drain()
            wait = self.backoff * 2.0**attempt if given is None else given
            log.info("%s: HTTP 429, waiting %.2f s", what, min(_MAX_WAIT, wait))
            return _Retry("HTTP 429 Too Many Requests", given)
        if status in _RETRY_STATUS:
            return _retrying(what, f"HTTP {status} {phrase}".strip(), attempt)
        raise FetchError(
            f"{what}: {self.service} answered HTTP {status} {phrase}".strip()
            + f" to {method} {_short(url)}; check the request (base_url, dates), "
            f"or {self.manual}"
        )

    def _gave_up(self, what: str, last: str, resume_hint: str) -> FetchError:
        """The error after the last retry, naming the last failure."""
        if last.startswith("HTTP 429"):
            return FetchError(
                f"{what}: {self.service} kept answering HTTP 429 Too Many Requests "
                f"({self.retries + 1} tries); lower max_requests_per_second and run again"
                f"{resume_hint}, or {self.manual}"
            )
        return FetchError(
            f"{what}: {self.service} failed {self.retries + 1} times (last: {last}); try again "
            f"later{resume_hint}, or {self.manual}"
        )


@dataclass
class _Retry:
    """A failed attempt worth another: why, and the wait the server asked for (or None)."""

    reason: str
    wait: float | None = None


def _retrying(what: str, reason: str, attempt: int) -> _Retry:
    log.info("%s: %s (attempt %d), retrying", what, reason, attempt + 1)
    return _Retry(reason)


def _short(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."


def check_options(
    retries: int,
    backoff: float,
    timeout: float,
    rate: float | None = None,
    deadline: float | None = None,
) -> None:
    """Check the client options of a fetcher (``rate``: its ``max_requests_per_second``).

    >>> check_options(4, 1.0, 60.0, 15.0)
    >>> check_options(-1, 1.0, 60.0)
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: retries: expected a whole number >= 0, got -1.
    """
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ParameterError(f"retries: expected a whole number >= 0, got {retries!r}.")
    if not (isinstance(backoff, int | float) and math.isfinite(backoff) and backoff >= 0):
        raise ParameterError(f"backoff: expected seconds >= 0, got {backoff!r}.")
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ParameterError(f"timeout: expected seconds > 0, got {timeout!r}.", argument="timeout")
    if deadline is not None and not (
        isinstance(deadline, int | float) and math.isfinite(deadline) and deadline > 0
    ):
        raise ParameterError(
            f"deadline: expected seconds > 0, got {deadline!r}.", argument="deadline"
        )
    if rate is not None and not (
        isinstance(rate, int | float) and math.isfinite(rate) and rate > 0
    ):
        raise ParameterError(
            f"max_requests_per_second: expected a number > 0 (data.police.uk allows 15), "
            f"got {rate!r}."
        )


def check_url(base_url: str) -> None:
    """Check that ``base_url`` is a web address (http or https).

    >>> check_url("ftp://example.org")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: base_url 'ftp://example.org': not a web address; ...
    """
    parts = urllib.parse.urlsplit(str(base_url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ParameterError(
            f"base_url {base_url!r}: not a web address; give one starting https://."
        )

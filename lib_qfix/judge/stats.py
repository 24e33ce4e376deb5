"""What the judge cost in this process: calls, cache hits, failures, retries, latency, tokens.

One process-wide :data:`STATS` (thread-safe), filled by the client and the scorer, read by the
``qfix`` commands for their closing summary line. Tokens come from the server's ``usage`` object
when it sends one (Ollama, llama.cpp, vLLM and OpenAI do); otherwise they stay 0 and the summary
says "tokens not reported".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace


@dataclass
class Snapshot:
    """``calls``: judge requests that got an answer or failed for good (retries are not extra
    calls); ``attempts``: HTTP requests sent; ``cache_hits``: verdicts read from the cache;
    ``failures``: calls that gave no verdict; ``skipped``: calls not made (budget spent, judge
    switched off after repeated failures); ``latencies``: seconds per successful call;
    ``prompt_tokens``/``completion_tokens``: sums of what servers reported; ``reported``: calls
    whose answer carried ``usage``."""

    calls: int = 0
    attempts: int = 0
    cache_hits: int = 0
    failures: int = 0
    skipped: int = 0
    latencies: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reported: int = 0

    def median_latency(self) -> float | None:
        s = sorted(self.latencies)
        if not s:
            return None
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2

    def summary(self) -> str:
        """One line, e.g. ``judge: 12 calls (1 failed), 3 cache hits, latency median 1.20 s
        (max 2.31 s), tokens 9,120 in / 1,040 out``."""
        failed = f" ({self.failures} failed)" if self.failures else ""
        retries = self.attempts - self.calls
        parts = [f"judge: {self.calls} calls{failed}", f"{self.cache_hits} cache hits"]
        if retries > 0:
            parts.append(f"{retries} retries")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        med = self.median_latency()
        if med is not None:
            parts.append(f"latency median {med:.2f} s (max {max(self.latencies):.2f} s)")
        if self.reported:
            parts.append(f"tokens {self.prompt_tokens:,} in / {self.completion_tokens:,} out")
        elif self.calls:
            parts.append("tokens not reported")
        return ", ".join(parts)


class Stats:
    """Thread-safe counters; :meth:`snapshot` copies them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._s = Snapshot()

    def add(self, **counts: int) -> None:
        """Add to counters by name (``calls=1, attempts=2``)."""
        with self._lock:
            for k, v in counts.items():
                setattr(self._s, k, getattr(self._s, k) + int(v))

    def latency(self, seconds: float) -> None:
        with self._lock:
            self._s.latencies.append(float(seconds))
            if len(self._s.latencies) > 100_000:  # bounded in a long-running server
                del self._s.latencies[:50_000]

    def snapshot(self) -> Snapshot:
        with self._lock:
            return replace(self._s, latencies=list(self._s.latencies))  # every counter, the list copied

    def reset(self) -> None:
        with self._lock:
            self._s = Snapshot()


STATS = Stats()

"""Where the judge is: endpoint URL, model name, API key and cache folder.

These are the choice of whoever runs QFix, never of a request: the A1111 server's settings (or its
environment, which wins), or the ``qfix`` command's flags and environment. No option carries them,
so no HTTP request to QFix's routes or the txt2img API can make the server call another URL, and
they never reach infotext, presets or reports. The key is kept out of ``repr``/``str`` (so out of
logs and error messages); only :attr:`JudgeSetup.fingerprint`, a digest of URL and model, is shown
where a result must say which judge made it (the scorer's version, cache keys).

Environment: ``QFIX_JUDGE_URL`` (e.g. ``http://localhost:11434/v1``), ``QFIX_JUDGE_MODEL``
(e.g. ``qwen2.5vl``), ``QFIX_JUDGE_KEY`` (sent as ``Authorization: Bearer``; empty for a local
server), ``QFIX_JUDGE_CACHE`` (a folder for cached verdicts; empty: no cache, unless the host sets one).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ENV_URL, ENV_MODEL, ENV_KEY, ENV_CACHE = "QFIX_JUDGE_URL", "QFIX_JUDGE_MODEL", "QFIX_JUDGE_KEY", "QFIX_JUDGE_CACHE"
#: longest URL / model name accepted (characters)
MAX_URL, MAX_MODEL = 2048, 256


class JudgeUnavailable(RuntimeError):
    """The judge is not configured or its setup is unusable; the message says what to set (and
    never shows the URL or the key)."""

    clear_message = True


@dataclass(frozen=True)
class JudgeSetup:
    """``url``: base URL of an OpenAI-compatible API (``.../v1``; a URL ending in
    ``/chat/completions`` is used as it is); ``model``: the model name the server knows;
    ``key``: API key ("" for none); ``cache_dir``: folder for cached verdicts ("" = no cache)."""

    url: str = ""
    model: str = ""
    key: str = field(default="", repr=False)
    cache_dir: str = ""

    def __repr__(self) -> str:  # never the URL, model or key: this may end up in a log line
        return f"JudgeSetup(configured={self.configured}, fingerprint={self.fingerprint})"

    __str__ = __repr__

    @property
    def configured(self) -> bool:
        return bool(self.url.strip() and self.model.strip())

    @property
    def fingerprint(self) -> str:
        """12 hex digits identifying (URL, model); reveals neither, and never depends on the key."""
        blob = f"{self.url.strip()}\0{self.model.strip()}".encode()
        return hashlib.blake2b(blob, digest_size=6).hexdigest()

    def endpoint(self) -> str:
        """The chat-completions URL. Raises :class:`JudgeUnavailable` when the setup is incomplete
        or the URL is not plain http(s) (credentials inside a URL are refused: use the key)."""
        if not self.configured:
            raise JudgeUnavailable(f"the judge is not configured: set {ENV_URL} and {ENV_MODEL} (or the "
                                   "server's QFix judge settings, or --judge-url/--judge-model)")
        url = self.url.strip()
        if len(url) > MAX_URL or len(self.model) > MAX_MODEL:
            raise JudgeUnavailable(f"the judge URL or model name is too long (at most {MAX_URL} / {MAX_MODEL} "
                                   "characters)")
        try:
            parts = urlsplit(url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:
            ok, parts = False, None
        if not ok or parts is None:
            raise JudgeUnavailable("the judge URL is not an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise JudgeUnavailable("the judge URL holds credentials; give the key separately "
                                   f"({ENV_KEY})")
        url = url.rstrip("/")
        return url if url.endswith("/chat/completions") else url + "/chat/completions"


def from_env(environ: Mapping[str, str] | None = None) -> JudgeSetup:
    """The setup the environment gives (``QFIX_JUDGE_*``, see the module doc)."""
    env = os.environ if environ is None else environ
    return JudgeSetup(env.get(ENV_URL, "").strip(), env.get(ENV_MODEL, "").strip(), env.get(ENV_KEY, "").strip(),
                      env.get(ENV_CACHE, "").strip())


def overlay(base: JudgeSetup, environ: Mapping[str, str] | None = None) -> JudgeSetup:
    """``base`` (e.g. the server's settings) with every ``QFIX_JUDGE_*`` variable that is set
    taking precedence: an administrator can pin the judge in the environment, where neither the
    settings page nor A1111's ``/sdapi/v1/options`` can change it."""
    env = from_env(environ)
    return JudgeSetup(env.url or base.url, env.model or base.model, env.key or base.key,
                      env.cache_dir or base.cache_dir)


_lock = threading.Lock()
_configured: JudgeSetup | None = None


def configure(setup: JudgeSetup | None) -> None:
    """Set the process's judge (the host or the CLI calls this); None: back to the environment."""
    global _configured
    with _lock:
        _configured = setup


def current() -> JudgeSetup:
    """The judge set by :func:`configure`, else the one the environment gives."""
    with _lock:
        found = _configured
    return found if found is not None else from_env()

"""The assistant's text and the token usage in the server's chat-completions answer (its
"envelope"), before the verdict is parsed from that text (:mod:`lib_qfix.judge.parse`).

The text is ``choices[0].message.content`` (a string or a list of text parts), or the ``delta``
pieces of an event stream a server sent although none was asked for (a repair, as in
:mod:`~lib_qfix.judge.parse`). An answer without one raises :class:`JudgeAnswerError` naming why
(the server's error message, a refusal, an empty answer).
"""

from __future__ import annotations

import json
from typing import Any

from lib_qfix.judge.parse import MAX_REASON, JudgeAnswerError


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "".join(parts) if parts else None
    return None


def _from_event_stream(text: str) -> str | None:
    """The concatenated ``delta.content`` of an SSE answer (``data: {...}`` lines), or None."""
    pieces, seen = [], False
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            continue
        try:
            chunk = json.loads(payload)
            seen = True
            choice = chunk["choices"][0]
            piece = _text_of((choice.get("delta") or choice.get("message") or {}).get("content"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            continue
        if piece:
            pieces.append(piece)
    return "".join(pieces) if seen else None


def message_text(envelope: dict[str, Any] | None, raw: str = "") -> str:
    """The assistant's text in a chat-completions answer (see the module doc)."""
    if envelope is None:
        streamed = _from_event_stream(raw)
        if streamed is None:
            raise JudgeAnswerError("judge answer is not a chat completion (not JSON)")
        return streamed
    try:
        choice = envelope["choices"][0]
        message = choice.get("message") or choice.get("delta") or {}
        text = _text_of(message.get("content"))
        if text is None and isinstance(message.get("refusal"), str):
            raise JudgeAnswerError(f"judge refused: {message['refusal'][:MAX_REASON]}")
    except (KeyError, IndexError, TypeError, AttributeError):
        err = envelope.get("error") if isinstance(envelope, dict) else None
        why = err.get("message") if isinstance(err, dict) else None
        raise JudgeAnswerError("judge answer has no message" + (f" ({str(why)[:MAX_REASON]})" if why else "")) from None
    if text is None or not text.strip():
        raise JudgeAnswerError("judge answer is empty")
    return text


def usage_of(envelope: dict[str, Any] | None) -> tuple[int, int] | None:
    """(prompt tokens, completion tokens) when the server reported ``usage``."""
    u = envelope.get("usage") if isinstance(envelope, dict) else None
    if not isinstance(u, dict):
        return None
    try:
        return int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0)
    except (TypeError, ValueError):
        return None

"""The LLM judge: a vision language model behind any OpenAI-compatible chat-completions endpoint
rates an image against its prompt (1-10 prompt match, 1-10 technical quality) and lists its
defects in QFix's catalogue vocabulary.

Modules: :mod:`~lib_qfix.judge.setup` (where the endpoint is: server settings, environment, CLI
flags, never an option or a request), :mod:`~lib_qfix.judge.prompt` (the versioned judge prompt),
:mod:`~lib_qfix.judge.payload` (image encoding, request body), :mod:`~lib_qfix.judge.client`
(HTTP with timeouts, retries, bounded concurrency), :mod:`~lib_qfix.judge.envelope` (the answer's
text and token usage), :mod:`~lib_qfix.judge.parse` (strict JSON with a repair step), :mod:`~lib_qfix.judge.cache` (on-disk verdicts), :mod:`~lib_qfix.judge.verdicts`
(verdict -> quality and regions), :mod:`~lib_qfix.judge.scorer` (the ``llm-judge`` scorer),
:mod:`~lib_qfix.judge.stats` (calls, cache hits, latency, tokens), :mod:`~lib_qfix.judge.pnginfo`
(the prompt A1111 stored in a PNG).

Nothing here imports a heavy library at module level (``httpx`` is imported when a client is built).
"""

#: the registry name of the judge scorer
JUDGE_SCORER = "llm-judge"
#: the ``judge_base`` choice for "the judge alone"
NO_BASE = "none"

"""The ``llm-judge`` scorer: the judge's verdict, alone or combined with a base scorer by weight.

:class:`LLMJudge` implements :class:`lib_qfix.protocols.Scorer`. ``score(images, prompts)`` judges
the images with bounded concurrency (each image's own generation prompt, "" when unknown), combines
the ratings with the base scorer's quality (see :mod:`lib_qfix.judge.verdicts`) and adds the
judge's findings as regions. A judge that is not configured, down, slow or talking nonsense never
raises: that image's result is the base score (the offline score when the judge has no base) with
one warning saying why.

The fix loop compares several versions of one image; :meth:`LLMJudge.for_image` gives a
:class:`JudgeSession` that spends at most ``calls`` judge calls on them (cache hits are free). Once
the budget is spent or a call fails, later versions carry the first version's verdict, so results
stay comparable: they then differ by the base score only (the rule is conservative: an improvement
the base scorer cannot see is not kept). A session whose first version got no verdict uses the
base score for all versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lib_qfix.judge import JUDGE_SCORER, NO_BASE
from lib_qfix.judge import prompt as jp
from lib_qfix.judge.cache import JudgeCache, cache_key
from lib_qfix.judge.client import JudgeClient, JudgeError
from lib_qfix.judge.envelope import message_text, usage_of
from lib_qfix.judge.parse import JudgeAnswerError, Verdict, parse_verdict
from lib_qfix.judge.payload import MAX_SIDE, build_body, encode_image, image_digest
from lib_qfix.judge.setup import JudgeSetup, JudgeUnavailable, current
from lib_qfix.judge.stats import STATS
from lib_qfix.judge.verdicts import combine, judge_quality, regions_of, signals_of
from lib_qfix.registry import create_scorer
from lib_qfix.scoring import WeightsUnavailable
from lib_qfix.types import ScoreResult

#: the scorer used when the judge has no verdict and no base scorer (registry name)
FALLBACK = "offline"

#: (verdict or None, why there is none, whether a call was made)
Outcome = tuple["Verdict | None", str, bool]


class LLMJudge:
    """See the module docstring. ``base``: the scorer combined with the judge (None: the judge
    alone); ``weight`` in 0..1: the judge's share of the quality; ``match_weight`` in 0..1: the
    prompt-match rating's share of the judge's quality; ``calls``: judge calls per image in the fix
    loop (0: never call); ``instructions``: judge prompt override ("" = built-in); ``timeout`` in
    seconds per attempt; ``retries``; ``concurrency``: requests in flight at most."""

    name = JUDGE_SCORER
    #: the filter and the CLI hand it each image's generation prompt
    wants_prompts = True

    def __init__(self, setup: JudgeSetup, base: Any = None, *, base_warnings: Sequence[str] = (),
                 weight: float = 0.7, match_weight: float = 0.5, calls: int = 3, instructions: str = "",
                 timeout: float = 60.0, retries: int = 2, concurrency: int = 4, client: JudgeClient | None = None):
        self.setup, self.base, self.base_warnings = setup, base, tuple(base_warnings)
        self.weight, self.match_weight, self.calls = float(weight), float(match_weight), int(calls)
        self.system = jp.system_text(instructions)
        self.digest = jp.prompt_digest(instructions)
        based = f"{base.name}@{base.version}" if base is not None else NO_BASE
        self.version = (f"judge{jp.PROMPT_VERSION}.{self.digest[:8]}:{setup.fingerprint}:{based}"
                        f":w{self.weight:g}:m{self.match_weight:g}")
        self.unavailable = ""
        self.client = client
        if client is None:
            try:
                self.client = JudgeClient(setup, timeout=timeout, retries=retries, concurrency=concurrency)
            except JudgeUnavailable as e:
                self.unavailable = str(e)
        self.cache = JudgeCache(setup.cache_dir) if setup.cache_dir else None
        self._fallback: Any = None

    # ------------------------------------------------------------------ one verdict
    def verdict(self, image: np.ndarray, prompt: str = "", may_call: bool = True) -> Outcome:
        """(verdict or None, why not, whether the judge was called) for one image: the cache first,
        then (when ``may_call``) one judge call."""
        key = cache_key(image_digest(image), prompt, self.setup.model, self.digest, MAX_SIDE)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                STATS.add(cache_hits=1)
                return hit, "", False
        if self.client is None:
            return None, self.unavailable or "the judge is not configured", False
        if not may_call:
            STATS.add(skipped=1)
            return None, "judge call budget spent", False
        client = self.client
        try:
            enc = encode_image(image, MAX_SIDE)
            user = jp.user_text(prompt)
            answer = client.ask(lambda mode: build_body(self.setup.model, self.system, user, enc, mode))
            verdict = parse_verdict(message_text(answer.envelope, answer.text), (enc.width, enc.height))
        except JudgeAnswerError as e:
            client.bad_answer(str(e))
            return None, client.scrub(str(e)), True
        except JudgeError as e:
            return None, client.scrub(str(e)), True
        STATS.latency(answer.seconds)
        usage = usage_of(answer.envelope)
        if usage is not None:
            STATS.add(prompt_tokens=usage[0], completion_tokens=usage[1], reported=1)
        if self.cache is not None:
            self.cache.put(key, verdict)
        return verdict, "", True

    def outcomes(self, images: Sequence[np.ndarray], prompts: Sequence[str], may_call: bool = True) -> list[Outcome]:
        """:meth:`verdict` for every image, at most ``concurrency`` calls at once, in order."""
        def one(i: int) -> Outcome:
            return self.verdict(images[i], prompts[i], may_call)

        if self.client is None:
            return [one(i) for i in range(len(images))]
        return self.client.map(one, range(len(images)))

    # ------------------------------------------------------------------ scores
    def base_results(self, images: Sequence[np.ndarray], prompts: Sequence[str]) -> list[ScoreResult | None]:
        if self.base is None:
            return [None] * len(images)
        return list(self.base.score(images, prompts))

    def result(self, image: np.ndarray, prompt: str, base: ScoreResult | None, verdict: Verdict | None,
               why: str = "", carried: bool = False) -> ScoreResult:
        """The score of one image from the base result and the verdict (None: base score + warning)."""
        warnings = list(self.base_warnings)
        if verdict is None:
            if base is None:
                base = self.fallback().score([image], [prompt])[0]
            warnings.append(f"{self.name}: {why}; quality from the {base.scorer} score")
            signals = {**base.signals}
            return ScoreResult(float(base.quality), self.name, signals, base.reasons, base.regions, tuple(warnings))
        if carried and why:
            warnings.append(f"{self.name}: {why}; rated as the first version of this image")
        base_q = None if base is None else float(base.quality)
        quality = combine(judge_quality(verdict, self.match_weight), base_q, self.weight)
        h, w = image.shape[:2]
        signals = {**(base.signals if base is not None else {}),
                   **signals_of(verdict, judge_quality(verdict, self.match_weight), base_q, carried)}
        regions = (base.regions if base is not None else ()) + regions_of(verdict, int(w), int(h))
        reasons = (base.reasons if base is not None else ()) + tuple(f"judge: {n}" for n in verdict.notes)
        return ScoreResult(float(quality), self.name, signals, reasons, regions, tuple(warnings))

    def fallback(self) -> Any:
        if self._fallback is None:
            self._fallback = create_scorer(FALLBACK)
        return self._fallback

    def score(self, images: Sequence[np.ndarray], prompts: Sequence[str] | None = None) -> list[ScoreResult]:
        """One result per image, in order (see the module docstring)."""
        images = list(images)
        prompts = _prompts(prompts, len(images))
        bases = self.base_results(images, prompts)
        if self.calls <= 0:
            found: list[Outcome] = [(None, "judge_calls is 0", False)] * len(images)
        else:
            found = self.outcomes(images, prompts)
        return [self.result(img, p, b, v, why) for img, p, b, (v, why, _) in zip(images, prompts, bases, found,
                                                                                   strict=True)]

    def for_image(self) -> JudgeSession:
        """A scorer for the versions of one image, spending at most ``calls`` judge calls."""
        return JudgeSession(self, self.calls)


class JudgeSession:
    """The judge for one image's fix loop (see the module docstring); same name and version as its
    judge, so results compare and cache alike."""

    wants_prompts = True

    def __init__(self, judge: LLMJudge, calls: int):
        self.judge, self.left = judge, int(calls)
        self.name, self.version = judge.name, judge.version
        self.first: Verdict | None = None
        self.started = False

    def score(self, images: Sequence[np.ndarray], prompts: Sequence[str] | None = None) -> list[ScoreResult]:
        images = list(images)
        prompts = _prompts(prompts, len(images))
        bases = self.judge.base_results(images, prompts)
        out = []
        for img, p, base in zip(images, prompts, bases, strict=True):
            if self.started and self.first is None:
                out.append(self.judge.result(img, p, base, None, "no verdict on the first version of this image"))
                continue
            verdict, why, called = self.judge.verdict(img, p, may_call=self.left > 0)
            self.left -= int(called)
            if not self.started:
                self.started, self.first = True, verdict
                out.append(self.judge.result(img, p, base, verdict, why))
            elif verdict is None:
                out.append(self.judge.result(img, p, base, self.first, why, carried=True))
            else:
                out.append(self.judge.result(img, p, base, verdict))
        return out


def _prompts(prompts: Sequence[str] | None, n: int) -> list[str]:
    if prompts is None:
        return [""] * n
    if len(prompts) != n:
        raise ValueError(f"prompts: {len(prompts)} given for {n} images; one per image or none")
    return [p or "" for p in prompts]


def _base(name: str, config: dict[str, Any]) -> tuple[Any, list[str]]:
    """(base scorer or None, warnings): a base whose weights are missing falls back to the default."""
    if not name or name == NO_BASE:
        return None, []
    try:
        return create_scorer(name, **config), []
    except (WeightsUnavailable, ImportError) as e:
        return create_scorer(FALLBACK), [f"{name} unavailable, the judge is combined with the {FALLBACK} score: {e}"]


def create_llm_judge(base: str = NO_BASE, base_config: dict[str, Any] | None = None, weight: float = 0.7,
                     match_weight: float = 0.5, calls: int = 3, instructions: str = "", timeout: float = 60.0,
                     retries: int = 2, concurrency: int = 4, setup: JudgeSetup | None = None) -> LLMJudge:
    """Registry factory for ``llm-judge`` (config from :func:`lib_qfix.scoring.scorer_config`);
    ``setup``: where the judge is (default: :func:`lib_qfix.judge.setup.current`)."""
    scorer, warnings = _base(base, dict(base_config or {}))
    return LLMJudge(setup if setup is not None else current(), scorer, base_warnings=warnings, weight=weight,
                    match_weight=match_weight, calls=calls, instructions=instructions, timeout=timeout,
                    retries=retries, concurrency=concurrency)

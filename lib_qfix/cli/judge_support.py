"""The LLM judge on the command line: where it is (flags and environment), each image's prompt,
judge calls overlapped across images, and the closing summary.

- ``--judge-url`` / ``--judge-model`` (else ``QFIX_JUDGE_URL`` / ``QFIX_JUDGE_MODEL``); the key
  only from ``QFIX_JUDGE_KEY`` (a flag would show it in the process list and shell history);
  ``--judge-cache DIR`` (else ``QFIX_JUDGE_CACHE``, else ``~/.cache/qfix/judge``) or
  ``--no-judge-cache``.
- Each image's prompt: ``--prompt``, else the prompt A1111 stored in the file
  (:func:`lib_qfix.judge.pnginfo.stored_prompt`).
- ``qfix diagnose/score`` with the judge score up to ``judge_concurrency`` images at once (reading,
  scoring and judging in a pool; the detectors stay on the main thread, in order), then print
  :meth:`~lib_qfix.judge.stats.Snapshot.summary` on stderr.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from lib_qfix.cli import UsageError
from lib_qfix.cli.common import progress, record
from lib_qfix.diagnose import build_report, run_detectors
from lib_qfix.errors import error_text
from lib_qfix.filter.cache import default_cache_path
from lib_qfix.imageio import ImageLoadError, load_image, load_working
from lib_qfix.judge import JUDGE_SCORER
from lib_qfix.judge import setup as judge
from lib_qfix.judge.pnginfo import stored_prompt
from lib_qfix.judge.stats import STATS
from lib_qfix.options import Options
from lib_qfix.scoring import scorer_for
from lib_qfix.working import report_at


def add_judge_args(p: Any) -> None:
    """The judge's flags (only read with ``--scorer llm-judge``)."""
    g = p.add_argument_group("LLM judge (--scorer llm-judge)")
    g.add_argument("--judge-url", help=f"OpenAI-compatible API base URL, e.g. http://localhost:11434/v1 "
                   f"(default ${judge.ENV_URL}; the API key only from ${judge.ENV_KEY})")
    g.add_argument("--judge-model", help=f"vision model name, e.g. qwen2.5vl (default ${judge.ENV_MODEL})")
    g.add_argument("--judge-cache", metavar="DIR", help=f"verdict cache folder (default ${judge.ENV_CACHE} or "
                   "~/.cache/qfix/judge)")
    g.add_argument("--no-judge-cache", action="store_true", help="ask the judge again for every image")


def default_cache_dir() -> str:
    """``$XDG_CACHE_HOME/qfix/judge`` (else ``~/.cache/qfix/judge``): beside ``qfix filter``'s cache."""
    return str(default_cache_path().parent / "judge")


def uses_judge(options: Options) -> bool:
    return options.scorer == JUDGE_SCORER


def configure_judge(args: Any, options: Options) -> bool:
    """Set the process's judge from the flags and the environment when ``options`` use it; a
    missing or unusable URL/model is a usage error (exit 2), before any image is read. Returns
    whether the judge is used. The URL, model and cache folder are also exported to the
    environment, for worker processes (the key is only ever read from it)."""
    if not uses_judge(options):
        return False
    env = judge.from_env()
    cache = "" if getattr(args, "no_judge_cache", False) else (
        getattr(args, "judge_cache", None) or env.cache_dir or default_cache_dir())
    setup = judge.JudgeSetup((getattr(args, "judge_url", None) or env.url).strip(),
                             (getattr(args, "judge_model", None) or env.model).strip(), env.key, cache)
    try:
        setup.endpoint()
    except judge.JudgeUnavailable as e:
        raise UsageError(f"--scorer {JUDGE_SCORER}: {e}") from None
    judge.configure(setup)
    os.environ.update({judge.ENV_URL: setup.url, judge.ENV_MODEL: setup.model, judge.ENV_CACHE: setup.cache_dir})
    STATS.reset()
    return True


def prompt_for(path: Path | str, args: Any) -> str:
    """``--prompt`` when given, else the prompt A1111 stored in the file ("" when none)."""
    given = getattr(args, "prompt", "") or ""
    return given if given.strip() else stored_prompt(path)


def print_summary() -> None:
    print(f"qfix: {STATS.snapshot().summary()}", file=sys.stderr)


def run_judged(paths: list[Path], args: Any, desc: str, options: Options,
               on_each: Callable[[Any, np.ndarray | None], None] | None = None) -> tuple[list[Any], int]:
    """Like :func:`lib_qfix.cli.common.run_reports` for the judge: up to ``judge_concurrency``
    images are read and scored at once; detectors and ``on_each`` run here, in path order.
    Returns (reports, number failed)."""
    scorer, warnings = scorer_for(options)
    workers = max(1, int(options.judge_concurrency))
    work_size = getattr(args, "work_size", None)  # diagnose's --work-size; score reads full images

    def prepare(path: Path) -> tuple[np.ndarray, str, Any, tuple[int, int]]:
        if work_size is None:
            image = load_image(path)
            width, height = image.shape[1], image.shape[0]
        else:
            image, width, height = load_working(path, work_size)
        prompt = prompt_for(path, args)
        return image, prompt, scorer.score([image], [prompt])[0], (width, height)

    reports: list[Any] = []
    failed = 0
    with ThreadPoolExecutor(workers, thread_name_prefix="qfix-cli-judge") as pool:
        ahead: deque[tuple[Path, Future]] = deque()
        todo = iter(paths)

        def fill() -> None:
            while len(ahead) < 2 * workers:
                nxt = next(todo, None)
                if nxt is None:
                    return
                ahead.append((nxt, pool.submit(prepare, nxt)))

        fill()
        for _ in progress(paths, args, desc):
            path, fut = ahead.popleft()
            fill()
            report, image, err = None, None, ""
            try:
                image, prompt, score, size = fut.result()
                report = report_at(build_report(image, score, options, prompt=prompt, path=str(path),
                                                warnings=warnings, detections=run_detectors(image, options, prompt)),
                                   *size)
            except ImageLoadError as e:
                err = str(e)
            except Exception as e:  # one bad image never ends the batch
                err = f"{path}: {error_text(e)}"
            failed += record(reports, str(path), report, image, err, on_each)
    return reports, failed

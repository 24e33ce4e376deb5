"""Low-quality photo filtering at scale: scan -> score (cached) -> bursts -> decide -> report -> act.

``qfix filter`` (:mod:`lib_qfix.cli.filter_cmd`) and the A1111 "QFix" tab (:mod:`lib_qfix.a1111.tab`)
both run the steps in :mod:`lib_qfix.filter.pipeline`; nothing in this package imports the host.

Scoring, by layer: :mod:`~lib_qfix.filter.records` (the one frozen, picklable record every engine
returns), :mod:`~lib_qfix.filter.job` (what is done to one file, wherever it runs),
:mod:`~lib_qfix.filter.core` (the engine-neutral driver: cache, counts, progress, stop), then the
engines :mod:`~lib_qfix.filter.engine_local` (threads, or processes via
:mod:`~lib_qfix.filter.workers`) and :mod:`~lib_qfix.filter.engine_ray`. Imports only go down
these layers.
"""

"""Low-quality photo filtering at scale: scan -> score (cached) -> bursts -> decide -> report -> act.

``qfix filter`` (:mod:`lib_qfix.cli.filter_cmd`) and the A1111 "QFix" tab (:mod:`lib_qfix.a1111.tab`)
both run the steps in :mod:`lib_qfix.filter.pipeline`; nothing in this package imports the host.
"""

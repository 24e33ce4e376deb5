"""Low-quality photo filtering at scale: scan -> score (cached) -> bursts -> decide -> report -> act.

``qfix filter`` (lib_qfix.cli.filter_cmd) and the A1111 "QFix" tab (lib_qfix.a1111.tab) both run
:func:`lib_qfix.filter.pipeline.run_filter`-style steps from these modules; nothing here imports the host.
"""

"""Batch fixing (``qfix fix``), host-neutral: the per-image records, the resume log, the local and
Ray engines, the report. The host that does the fixing (:mod:`lib_qfix.diffusers_host`) plugs in
through a worker factory (:class:`lib_qfix.fixrun.engine.WorkerFactory`)."""

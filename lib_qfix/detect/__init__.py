"""Detectors: faces and hands (MediaPipe, any version: the legacy ``solutions`` API or the Tasks API,
see :mod:`lib_qfix.detect.mediapipe_runtime`), watermarks/signatures/text (rapidocr).

Each detector has ``name`` and ``detect(image, options, prompt="") -> list[Region]`` and is looked up
through :mod:`lib_qfix.registry` ("face", "hand", "text"). Models are built on the first ``detect``
call, cached per process, and every MediaPipe/OCR call runs under a lock, so one detector object can
be shared by several threads. Failures raise; the diagnose pipeline reports them as warnings.
"""

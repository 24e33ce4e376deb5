"""Support code shared by the tests (``tests/``) and the benchmarks (``bench/``); not part of QFix.

Not shipped in the wheel (``pyproject.toml`` packages only ``lib_qfix*``). Like the tests, it may
import the host fakes (``modules.*``, gradio).

- :mod:`testkit.fake_a1111`: a faithful fake of the A1111 1.10.1 host;
- :mod:`testkit.fixtures_detect`: the labelled fixture set for the detectors (hand landmark sets:
  :mod:`testkit.fixtures_hand_landmarks`);
- :mod:`testkit.distortions`: a synthetic distortion ladder (seven distortions, five levels);
- :mod:`testkit.planted`: keep-best cases with planted defects and a planted-outcome inpainter;
- :mod:`testkit.page`: the QFix panel on an A1111-like page, looked at with headless Chromium.
"""

"""QFix: score, diagnose and fix Stable Diffusion images.

The core (everything here except :mod:`lib_qfix.a1111`) never imports the host
(`modules`, `gradio`, `fastapi`, `launch`); ``tests/test_boundary.py`` enforces it.
"""

__version__ = "0.1.0"

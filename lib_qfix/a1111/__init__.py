"""The A1111 adapter: the only package that imports ``modules.*``, gradio and fastapi.

script.py (the always-on script), inpainter.py / restorer.py (ports on the loaded model),
ui.py (panel), api.py (routes), settings.py, callbacks.py, args.py (API dict vs UI values).
"""

"""A1111 finds always-on scripts here; all logic lives in lib_qfix (imported at module level,
while the extension root is on sys.path). Callbacks are registered at import, as A1111 expects."""

from lib_qfix.a1111 import callbacks
from lib_qfix.a1111.script import QFixScript as Script  # noqa: F401

callbacks.register()

"""Shared fixtures: public-domain photos that ship inside installed packages, synthetic images.

No test reaches the network from this process: ``_no_network`` fails any socket connection to a
non-local address. The one exception is ``tests/test_install_pins.py`` (marker ``network``), whose pip
subprocesses read the package index to resolve the installer's plan.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from lib_qfix.samples import grace_hopper as grace_hopper_photo
from lib_qfix.samples import skimage_photo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QFIX_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")) \
                and self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"tests must not reach the network (tried {address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _fresh_models_folder(monkeypatch):
    """A test that runs the A1111 script points the MediaPipe model store at its fake host's folder;
    the next test starts from the default again."""
    from lib_qfix.detect import mp_models

    monkeypatch.setattr(mp_models, "_models_dir", None)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """512x512 RGB photo with one face (public domain, ships with scikit-image)."""
    return skimage_photo("astronaut")


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """400x600 RGB photo without people."""
    return skimage_photo("coffee")


@pytest.fixture(scope="session")
def grace_hopper() -> np.ndarray:
    """Portrait photo shipped with matplotlib (a face)."""
    return grace_hopper_photo()


@pytest.fixture(scope="session")
def photos(astronaut, coffee) -> dict[str, np.ndarray]:
    names = ("chelsea", "rocket", "camera")
    out = {"astronaut": astronaut, "coffee": coffee}
    out.update({n: skimage_photo(n) for n in names})
    return out

"""Model files for MediaPipe's Tasks API: where they come from, where they live, checked by SHA-256.

mediapipe >= 0.10.30 (and 1.x) has only the Tasks API and ships no models; QFix's detectors need
the files in :data:`MODELS` (about 12.5 MB for faces and hands; the anatomy detector's pose model
is 9.4 MB more, fetched only when that detector runs). Each is looked up as ``<folder>/<name>``, where
the folder is :func:`mediapipe_dir`: ``<models folder>/mediapipe`` with the models folder from
:func:`set_models_dir` (the host's; the A1111 adapter's ``qfix_models_dir``), else ``$QFIX_MODELS``,
else ``~/.cache/qfix/models``.

A file that is not there is downloaded once, on first use, with one log line (not while
``QFIX_OFFLINE`` is set): the whole response is read into memory, its size and SHA-256 are checked
against the table, and only then written atomically (temp file + rename, :mod:`lib_qfix.fileio`),
so a failed or tampered download never lands. A file already in the folder (the offline
alternative: download it elsewhere and copy it there) is used only when its size and digest match
the table; anything else raises :class:`ModelUnavailable`, whose one-line message names the
folder, the file, its URL and digest. There is no way to skip the check: a table entry must carry
a digest (a 64-hex SHA-256), and a download whose digest differs is refused, not stored.

:func:`use_model_file` points one name at a file the caller vouches for (tests run assembled
bundles; benchmarks compare models); it bypasses the table's digest on purpose and is not reachable
from options.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lib_qfix.fileio import atomic_write_bytes

log = logging.getLogger("qfix")

#: seconds a failed download is remembered (later images fail at once instead of waiting again)
RETRY_AFTER_S = 600.0
#: socket timeout for a download, seconds
TIMEOUT_S = 30.0
_HEX = frozenset("0123456789abcdef")


class ModelUnavailable(RuntimeError):
    """A model file is missing, wrong, or cannot be downloaded; the message says what to do."""


@dataclass(frozen=True)
class ModelFile:
    """One file: ``name`` in the models folder, ``url`` to fetch it from, ``size`` in bytes,
    ``sha256`` lowercase hex, ``checked`` says where the digest was confirmed."""

    name: str
    url: str
    size: int
    sha256: str
    checked: str

    def __post_init__(self) -> None:
        if len(self.sha256) != 64 or not set(self.sha256) <= _HEX:
            raise ValueError(f"{self.name}: sha256 {self.sha256!r} is not allowed; allowed: 64 lowercase hex digits")
        if self.size <= 0 or not self.name or "/" in self.name or "\\" in self.name:
            raise ValueError(f"{self.name!r}: needs a plain file name and a positive size")


_MODELS_URL = "https://storage.googleapis.com/mediapipe-models"
_ASSETS_URL = "https://storage.googleapis.com/mediapipe-assets"

#: Versioned URLs (``float16/1`` never changes). Digests confirmed as ``checked`` says.
MODELS: dict[str, ModelFile] = {m.name: m for m in (
    ModelFile("blaze_face_short_range.tflite",
              f"{_MODELS_URL}/face_detector/blaze_face_short_range/float16/1/blaze_face_short_range.tflite",
              229_746, "b4578f35940bf5a1a655214a1cce5cab13eba73c1297cd78e1a04c2380b0152f",
              "byte-identical to face_detector.tflite inside face_landmarker.task float16/1 (below)"),
    ModelFile("face_detection_full_range_sparse.tflite",
              f"{_ASSETS_URL}/tasks/testdata/vision/face_detection_full_range_sparse.tflite",
              676_746, "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
              "byte-identical to mediapipe 0.10.9's bundled modules/face_detection file; pinned by "
              "MediaPipe's third_party/external_files.bzl (Tasks runs it from mediapipe 0.10.33)"),
    ModelFile("face_landmarker.task",
              f"{_MODELS_URL}/face_landmarker/face_landmarker/float16/1/face_landmarker.task",
              3_758_596, "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
              "a copy of the float16/1 file hashed here; the same size and digest are published by "
              "several independent projects"),
    ModelFile("hand_landmarker.task",
              f"{_MODELS_URL}/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task",
              7_819_105, "fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
              "published by several independent projects for this URL (not hashed here: no copy offline)"),
    ModelFile("pose_landmarker_full.task",
              f"{_MODELS_URL}/pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
              9_398_198, "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
              "size and digest published by several independent projects for this URL (not hashed here: "
              "no copy offline); only the anatomy detector needs it"),
    ModelFile("selfie_segmentation.tflite",
              f"{_ASSETS_URL}/selfie_segmentation.tflite",
              249_505, "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
              "byte-identical to mediapipe 0.10.9's bundled modules/selfie_segmentation file; pinned by "
              "MediaPipe's third_party/external_files.bzl (generation 1683332563830600); only the composition "
              "detector needs it"),
)}

_models_dir: Path | None = None
_overrides: dict[str, Path] = {}
_verified: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns) of a file whose digest matched
_failed: dict[str, tuple[float, str]] = {}  # path -> (monotonic time, message) of a failed download
_locks: dict[str, threading.Lock] = {}
_state_lock = threading.Lock()


def set_models_dir(folder: str | os.PathLike[str] | None) -> None:
    """The host's models folder (MediaPipe files go to its ``mediapipe`` subfolder); None: default."""
    global _models_dir
    _models_dir = Path(folder).expanduser() if folder else None


def mediapipe_dir(models_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<models folder>/mediapipe``; the models folder is ``models_dir``, else :func:`set_models_dir`'s,
    else ``$QFIX_MODELS``, else ``~/.cache/qfix/models``."""
    base = (Path(models_dir).expanduser() if models_dir else _models_dir) \
        or (Path(os.environ["QFIX_MODELS"]).expanduser() if os.environ.get("QFIX_MODELS") else None) \
        or Path.home() / ".cache" / "qfix" / "models"
    return base / "mediapipe"


def use_model_file(name: str, path: str | os.PathLike[str] | None) -> None:
    """Use ``path`` for model ``name`` as it is, without the digest check (tests, benchmarks);
    None removes the override."""
    if name not in MODELS:
        raise ValueError(f"model {name!r} is not allowed; allowed: {', '.join(MODELS)}")
    if path is None:
        _overrides.pop(name, None)
    else:
        _overrides[name] = Path(path)


def offline() -> bool:
    """True when ``QFIX_OFFLINE`` is set to anything but "" or "0"."""
    return os.environ.get("QFIX_OFFLINE", "") not in ("", "0")


def model_path(name: str, folder: str | os.PathLike[str] | None = None) -> Path:
    """The file for model ``name``: an override from :func:`use_model_file`, else :func:`ensure_model`."""
    if name in _overrides:
        return _overrides[name]
    return ensure_model(MODELS[name], folder)


def ensure_model(spec: ModelFile, folder: str | os.PathLike[str] | None = None,
                 download: bool | None = None) -> Path:
    """``<folder>/<spec.name>`` after checking its size and SHA-256, downloading it first when it is
    missing and ``download`` (default: not :func:`offline`). Raises :class:`ModelUnavailable`."""
    folder = Path(folder) if folder is not None else mediapipe_dir()
    path = folder / spec.name
    key = str(path.absolute())
    with _state_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:  # one download per file at a time; the others wait and then find it
        if path.exists():
            _check_file(path, spec)
            return path
        if not (download if download is not None else not offline()):
            why = " (QFIX_OFFLINE)" if offline() else ""
            raise ModelUnavailable(f"MediaPipe model {spec.name} is not in {folder} and downloads are off{why}; "
                                   f"download {spec.url} (sha256 {spec.sha256}) and put it there")
        failed = _failed.get(key)
        if failed and time.monotonic() - failed[0] < RETRY_AFTER_S:
            raise ModelUnavailable(failed[1])
        log.warning("qfix: downloading MediaPipe model %s (%.1f MB) from %s into %s (first use only)",
                    spec.name, spec.size / 1e6, spec.url, folder)
        try:
            data = fetch(spec)
        except ModelUnavailable as e:
            _failed[key] = (time.monotonic(), f"{e}; or put that file (sha256 {spec.sha256}) in {folder}")
            raise ModelUnavailable(_failed[key][1]) from None
        _failed.pop(key, None)
        atomic_write_bytes(path, data)
        st = path.stat()
        _verified[key] = (st.st_size, st.st_mtime_ns)
        return path


def fetch(spec: ModelFile) -> bytes:
    """The bytes at ``spec.url`` when their size and SHA-256 match ``spec``; ModelUnavailable otherwise."""
    chunks, total = [], 0
    try:
        with urllib.request.urlopen(spec.url, timeout=TIMEOUT_S) as response:  # noqa: S310 (https table URLs)
            while total <= spec.size:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except (OSError, ValueError) as e:  # URLError, timeouts and HTTP errors are OSErrors
        raise ModelUnavailable(f"cannot download MediaPipe model {spec.name} from {spec.url} ({e})") from None
    data = b"".join(chunks)
    problem = _mismatch(data, spec)
    if problem:
        raise ModelUnavailable(f"download of MediaPipe model {spec.name} from {spec.url} refused: {problem}; not saved")
    return data


def _mismatch(data: bytes, spec: ModelFile) -> str | None:
    if len(data) != spec.size:
        got = f"more than {spec.size}" if len(data) > spec.size else str(len(data))
        return f"{got} bytes, expected {spec.size}"
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        return f"sha256 {digest}, expected {spec.sha256}"
    return None


def _check_file(path: Path, spec: ModelFile) -> None:
    key = str(path.absolute())
    st = path.stat()
    if _verified.get(key) == (st.st_size, st.st_mtime_ns):
        return
    problem = _mismatch(path.read_bytes(), spec)
    if problem:
        raise ModelUnavailable(f"MediaPipe model file {path} is not the expected one ({problem}); replace it "
                               f"with {spec.url}")
    _verified[key] = (st.st_size, st.st_mtime_ns)

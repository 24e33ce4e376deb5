"""BRISQUE (Mittal, Moorthy & Bovik 2012) computed fast, scored by the ``brisque`` package's model.

The 36 BRISQUE features (natural-scene statistics of mean-subtracted contrast-normalised
coefficients and their neighbour products, at full and half scale) are computed here with OpenCV
filters and a tabulated shape fit, ~10x faster than the ``brisque`` package. They follow that
package's conventions (its grey conversion, 7x7 Gaussian window with sigma 7/6 and zero padding,
the asymmetric fit for every map, bicubic half scale) so that its LIVE-trained RBF support-vector
regression, read from the package's data files, applies unchanged. The score is BRISQUE's:
~0-100, lower is better (clean photos mostly 0-40).
"""

from __future__ import annotations

import importlib.util
import math
import pickle
import threading
from pathlib import Path

import cv2
import numpy as np

_C = 1.0 / 255.0  # stabiliser of the contrast normalisation (image in 0..1)
_GREY = np.array([[0.2125, 0.7154, 0.0721]], np.float32)  # R, G, B weights (scikit-image rgb2gray)


def _window() -> np.ndarray:
    """The normalised 7x7 Gaussian (sigma 7/6) as its 1-D factor: separable, same result."""
    k = np.exp(-((np.arange(7) - 3) ** 2) / (2 * (7 / 6) ** 2))
    return (k / k.sum()).astype(np.float32)


_WINDOW = _window()


def _smooth(a: np.ndarray) -> np.ndarray:
    return cv2.sepFilter2D(a, -1, _WINDOW, _WINDOW, borderType=cv2.BORDER_CONSTANT)


def _shape_table() -> tuple[np.ndarray, np.ndarray]:
    """rho(alpha) = Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a)), increasing in alpha: tabulated once
    so that the shape fit is an interpolation instead of a root search."""
    alpha = np.linspace(0.05, 10.0, 4000)
    lg = np.vectorize(math.lgamma)
    rho = np.exp(2 * lg(2 / alpha) - lg(1 / alpha) - lg(3 / alpha))
    return alpha, rho


_ALPHA, _RHO = _shape_table()


def mscn(gray: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients of a (H, W) float32 image in 0..1."""
    mu = _smooth(gray)
    # in place on two planes: fresh temporaries cost more in page faults than the arithmetic
    var = _smooth(cv2.multiply(gray, gray))
    sq = cv2.multiply(mu, mu)
    cv2.subtract(sq, var, dst=var)
    np.sqrt(np.abs(var, out=var), out=var)
    var += np.float32(_C)
    cv2.subtract(gray, mu, dst=sq)
    return np.divide(sq, var, out=sq)


def aggd_fit(x: np.ndarray) -> tuple[float, float, float, float]:
    """Asymmetric generalised Gaussian fit by moments: (shape alpha, mean, sigma_l^2, sigma_r^2)
    of a float32 array."""
    n = x.size
    neg = cv2.threshold(x, 0.0, 0.0, cv2.THRESH_TOZERO_INV)[1]  # x where x <= 0, else 0
    n_neg = int(cv2.countNonZero(neg))
    n_pos = n - n_neg
    total_sq = cv2.norm(x, cv2.NORM_L2SQR)
    neg_sq = cv2.norm(neg, cv2.NORM_L2SQR)
    left = neg_sq / max(n_neg, 1)
    right = (total_sq - neg_sq) / max(n_pos, 1)
    mean_sq = total_sq / max(n, 1)
    r_hat = (cv2.norm(x, cv2.NORM_L1) / n) ** 2 / mean_sq if mean_sq > 0 else 0.0
    gamma = math.sqrt(left) / math.sqrt(right) if right > 0 else 1.0
    big_r = r_hat * (gamma ** 3 + 1) * (gamma + 1) / (gamma ** 2 + 1) ** 2
    alpha = float(np.interp(big_r, _RHO, _ALPHA))
    sl, sr = math.sqrt(left), math.sqrt(right)
    g1, g2, g3 = (math.gamma(k / alpha) for k in (1, 2, 3))
    mean = (sr - sl) * math.sqrt(g1 / g3) * (g2 / g1)
    return alpha, mean, left, right


def _scale_features(gray: np.ndarray) -> list[float]:
    m = mscn(gray)
    alpha, _, left, right = aggd_fit(m)
    feats = [alpha, (left + right) / 2]
    for a, b in ((m[:, :-1], m[:, 1:]), (m[:-1, :], m[1:, :]),
                 (m[:-1, :-1], m[1:, 1:]), (m[1:, :-1], m[:-1, 1:])):
        prod = cv2.multiply(a, b)
        feats.extend(aggd_fit(prod))
    return feats


def features(image: np.ndarray) -> np.ndarray:
    """The 36 BRISQUE features of an (H, W, 3) uint8 RGB image (images under 16 px a side are
    enlarged first: the statistics need a few windows)."""
    if min(image.shape[:2]) < 16:
        f = 16.0 / min(image.shape[:2])
        image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)
    gray = cv2.transform(image.astype(np.float32) * np.float32(1 / 255), _GREY)
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    return np.array(_scale_features(gray) + _scale_features(half))


class _Model:
    """The ``brisque`` package's RBF epsilon-SVR, parsed from its text file into arrays."""

    def __init__(self, folder: Path):
        lines = (folder / "svm.txt").read_text().splitlines()
        header = {}
        i = 0
        while lines[i] != "SV":
            key, _, value = lines[i].partition(" ")
            header[key] = value
            i += 1
        rows = [ln.split() for ln in lines[i + 1:] if ln.strip()]
        self.coef = np.array([float(r[0]) for r in rows])
        self.sv = np.zeros((len(rows), 36))
        for j, r in enumerate(rows):
            for item in r[1:]:
                k, _, v = item.partition(":")
                self.sv[j, int(k) - 1] = float(v)
        self.gamma = float(header["gamma"])
        self.rho = float(header["rho"])
        with open(folder / "normalize.pickle", "rb") as f:  # the installed package's own data
            scale = pickle.load(f)
        self.lo = np.array(scale["min_"], np.float64)
        self.hi = np.array(scale["max_"], np.float64)

    def predict(self, feats: np.ndarray) -> float:
        x = -1.0 + 2.0 * (feats - self.lo) / (self.hi - self.lo)
        k = np.exp(-self.gamma * np.square(self.sv - x).sum(axis=1))
        return float(self.coef @ k - self.rho)


_model: _Model | None = None
_lock = threading.Lock()


def model_folder() -> Path:
    """Where the installed ``brisque`` package keeps its model (found without importing it)."""
    spec = importlib.util.find_spec("brisque")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the 'brisque' package is not installed (pip install brisque==0.2.0)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def brisque_score(image: np.ndarray) -> float:
    """BRISQUE score of an (H, W, 3) uint8 RGB image: ~0-100, lower is better."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _Model(model_folder())
    return _model.predict(features(image))

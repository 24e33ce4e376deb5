"""Smoke checks of QFix inside a real AUTOMATIC1111 v1.10.1 (CPU, random tiny SD1.5 model), over HTTP.

Run with the WebUI up (see README-run.md):  venv/bin/python smoke.py [--base URL] [--log webui.log] [--only a,b]
Prints PASS/FAIL per check (with timings) and a final line `passed=N/M`. Responses are kept in smoke-out/.
Needs the test-only extension extensions/harness-probe (it hands QFix a real photo, since a random VAE
only makes noise).
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "smoke-out")
FREEZE = "/work/shared/data/a1111-1.10.1-venv-freeze.txt"
#: what README says install.py adds on A1111 1.10.1 (py3.10)
EXPECTED_ADDED = {"absl-py", "brisque", "cffi", "coloredlogs", "colorlog", "flatbuffers", "humanfriendly", "mediapipe",
                  "onnxruntime", "pyclipper", "pycparser", "rapidocr", "shapely", "sounddevice"}
SMALL = {"width": 64, "height": 64, "steps": 2, "seed": 11, "prompt": "a portrait of a woman, photo",
         "negative_prompt": "", "sampler_name": "Euler"}
BASE = "http://127.0.0.1:7861"


def http(method: str, path: str, body=None, raw: bytes | None = None, headers=None, timeout=900):
    """(status, parsed JSON or text, seconds)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    t = time.time()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode("utf-8", "replace")
    dt = time.time() - t
    try:
        return status, json.loads(text), dt
    except ValueError:
        return status, text, dt


def b64png(arr_or_img) -> str:
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(arr_or_img)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def astronaut() -> np.ndarray:
    import skimage.data
    return skimage.data.astronaut()


def gen(kind: str, qfix_args=None, probe=None, **extra):
    """POST txt2img/img2img; returns (status, json, seconds, infotext or '', PIL image or None)."""
    body = {**SMALL, **extra}
    scripts = {}
    if qfix_args is not None:
        scripts["QFix"] = {"args": qfix_args}
    if probe:
        scripts["RH Probe"] = {"args": [{"photo": probe}]}
    if scripts:
        body["alwayson_scripts"] = scripts
    status, j, dt = http("POST", f"/sdapi/v1/{kind}", body)
    info, img = "", None
    if status == 200 and isinstance(j, dict):
        info = json.loads(j["info"])["infotexts"][0]
        img = Image.open(io.BytesIO(base64.b64decode(j["images"][0])))
    return status, j, dt, info, img


def keys(info: str) -> dict[str, str]:
    """QFix key -> value from an infotext's parameter line."""
    line = info.splitlines()[-1] if info else ""
    out = {}
    for m in re.finditer(r'(QFix [^:,]+): ("(?:[^"\\]|\\.)*"|[^,]*)', line):
        out[m.group(1)] = m.group(2).strip('"')
    return out


def same(a: Image.Image | None, b: Image.Image | None) -> bool:
    return a is not None and b is not None and a.size == b.size and \
        np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


STATE: dict = {}


@check
def install_pins():
    """install.py left every host package at the recorded A1111 1.10.1 version and added what README says."""
    want = {}
    for line in open(FREEZE):
        if line.strip() and not line.startswith("#"):
            n, v = line.strip().split("==")
            want[n.lower().replace("_", "-")] = v
    out = subprocess.run([os.path.join(HERE, "venv/bin/pip"), "freeze"], capture_output=True, text=True).stdout
    have = {ln.split("==")[0].lower().replace("_", "-"): ln.split("==")[1] for ln in out.split() if "==" in ln}
    changed = {k: (v, have.get(k)) for k, v in want.items() if have.get(k) != v}
    added = set(have) - set(want)
    cv2 = [k for k in have if k.startswith("opencv")]
    ok = not changed and added == EXPECTED_ADDED and len(cv2) == 1
    return ok, f"changed={changed} added={sorted(added)} cv2={cv2}"


@check
def scripts_listed():
    s, j, dt = http("GET", "/sdapi/v1/scripts")
    ok = s == 200 and "qfix" in j["txt2img"] and "qfix" in j["img2img"]
    return ok, f"status={s}"


@check
def script_info():
    s, j, dt = http("GET", "/sdapi/v1/script-info")
    q = [x for x in j if x.get("name") == "qfix"] if s == 200 else []
    n = [len(x["args"]) for x in q]
    return s == 200 and len(q) == 2 and all(n), f"status={s} entries={len(q)} args={n}"


@check
def routes_basic():
    res = {}
    s, j, _ = http("GET", "/qfix/v1/version")
    res["version"] = s == 200 and "version" in j
    s, j, _ = http("GET", "/qfix/v1/schema")
    res["schema"] = s == 200 and "enable" in j.get("properties", {}) and \
        any("x-allowed" in v for v in j["properties"].values())
    s, j, _ = http("GET", "/qfix/v1/presets")
    names = [p["name"] for p in j.get("presets", [])] if s == 200 else []
    STATE["presets"] = names
    res["presets"] = {"default", "portrait", "hands", "photoreal", "anime"} <= set(names)
    s, j, _ = http("GET", "/qfix/v1/presets/portrait")
    res["preset_portrait"] = s == 200 and isinstance(j.get("options"), dict)
    s, j, _ = http("GET", "/qfix/v1/presets/no-such-preset")
    res["preset_missing_404"] = s == 404
    return all(res.values()), json.dumps(res)


@check
def t2i_baseline():
    s, j, dt, info, img = gen("txt2img")
    STATE["baseline"] = img
    STATE["t_base"] = dt
    return s == 200 and img is not None, f"status={s} {dt:.1f}s size={img.size if img else None}"


@check
def t2i_defaults():
    s, j, dt, info, img = gen("txt2img", [{"enable": True}])
    k = keys(info)
    STATE["t_qfix"] = dt
    ok = s == 200 and k.get("QFix enable") == "True" and "QFix result" in k and "QFix error" not in k
    return ok, f"status={s} {dt:.1f}s (baseline {STATE.get('t_base', 0):.1f}s) {k}"


@check
def t2i_positional_defaults():
    """The UI's positional values (script-info defaults) with enable=True."""
    s, j, _ = http("GET", "/sdapi/v1/script-info")
    q = next(x for x in j if x.get("name") == "qfix" and not x.get("is_img2img"))
    vals = [a.get("value") for a in q["args"]]
    vals[0] = True
    s, j, dt, info, img = gen("txt2img", vals)
    k = keys(info)
    ok = s == 200 and k.get("QFix enable") == "True" and "QFix error" not in k
    return ok, f"status={s} {dt:.1f}s nargs={len(vals)} {k}"


@check
def presets_each():
    bad = {}
    for name in STATE.get("presets") or ["default", "portrait", "hands", "photoreal", "anime"]:
        s, j, dt, info, img = gen("txt2img", [{"preset": name}])
        k = keys(info)
        if s != 200 or k.get("QFix preset") != name or "QFix error" in k:
            bad[name] = (s, k.get("QFix preset"), k.get("QFix error"))
    return not bad, f"bad={bad}"


BAD_ARGS = [
    ("rounds_out_of_range", [{"rounds": 99}], "rounds"),
    ("unknown_key", [{"roundz": 1}], "roundz"),
    ("bad_choice", [{"mode": "destroy"}], "mode"),
    ("wrong_type", [{"denoise": "lots"}], "denoise"),
    ("bool_as_string", [{"enable": "yes"}], "enable"),
    ("preset_path", [{"preset": "../../../../etc/passwd"}], "preset"),
    ("preset_missing", [{"preset": "nope"}], "preset"),
    ("learned_prompts_path", [{"scorer": "clip-iqa+learned", "learned_prompts": "/etc/passwd"}], "learned_prompts"),
    ("clip_weights_path", [{"scorer": "clip-iqa", "clip_pretrained": "/root/evil.pt"}], "clip_pretrained"),
    ("clip_model_not_allowed", [{"scorer": "clip-iqa", "clip_model": "ViT-bigG-14"}], "clip_model"),
    ("device_absent", [{"device": "cuda"}], "device"),
    ("positional_int", [5], "enable"),
    ("positional_junk", ["junk"], ""),
    ("nested_garbage", [{"extra_negative": {"a": [1, 2]}}], "extra_negative"),
    ("huge_string", [{"extra_negative": "x" * 200000}], "extra_negative"),
]


def _bad_case(name, args, field):
    s, j, dt, info, img = gen("txt2img", args)
    k = keys(info)
    err = k.get("QFix error", "")
    untouched = same(img, STATE.get("baseline"))
    ok = s == 200 and bool(err) and field in err and untouched and "Traceback" not in info
    return ok, f"status={s} untouched={untouched} error={err[:160]!r}" + ("" if s == 200 else f" body={str(j)[:300]}")


for _name, _args, _field in BAD_ARGS:
    def _f(_n=_name, _a=_args, _fd=_field):
        return _bad_case(_n, _a, _fd)
    _f.__name__ = f"bad_args_{_name}"
    check(_f)


@check
def paste_back_infotext():
    """API `infotext` with QFix keys and no alwayson_scripts fills the script's args (paste-back)."""
    text = ("a portrait of a woman, photo\nSteps: 2, Sampler: Euler, CFG scale: 7, Seed: 11, Size: 64x64, "
            "QFix enable: True, QFix preset: portrait, QFix rounds: 1, QFix denoise: 0.33, QFix mode: fix_all")
    s, j, dt, info, img = gen("txt2img", infotext=text)
    k = keys(info)
    ok = s == 200 and k.get("QFix preset") == "portrait" and k.get("QFix rounds") == "1" and \
        k.get("QFix denoise") == "0.33" and k.get("QFix mode") == "fix_all" and "QFix error" not in k
    return ok, f"status={s} {k}" + ("" if s == 200 else f" body={str(j)[:400]}")


@check
def i2i_photo_fix_all():
    """img2img of a real photo (astronaut; the probe hands it to QFix) in mode fix_all: a face is found and
    inpaint passes run (with a random model their results are rejected)."""
    s, j, dt, info, img = gen("img2img", [{"enable": True, "mode": "fix_all"}], probe="init",
                              init_images=[b64png(astronaut())], width=512, height=512, denoising_strength=0.3)
    k = keys(info)
    STATE["i2i_info"] = k
    ran = int(k.get("QFix rounds used", "0") or 0) >= 1
    face = "face" in (k.get("QFix rejected", "") + k.get("QFix fixed", ""))
    ok = s == 200 and ran and face and "QFix error" not in k
    return ok, f"status={s} {dt:.1f}s {k}"


@check
def t2i_photo_hands():
    """txt2img whose output is a photo of people with hands (skimage 'camera' has none; astronaut has one hand)."""
    s, j, dt, info, img = gen("txt2img", [{"enable": True, "preset": "hands", "mode": "fix_all",
                                           "inpaint_resolution": 128}], probe="astronaut", width=256, height=256)
    k = keys(info)
    ok = s == 200 and "QFix error" not in k and "QFix result" in k
    return ok, f"status={s} {dt:.1f}s {k}"


@check
def upscale_x2():
    s, j, dt, info, img = gen("txt2img", [{"enable": True, "upscale": True, "upscale_factor": 2}])
    k = keys(info)
    ok = s == 200 and img is not None and img.size == (128, 128) and "QFix upscaled" in k and "QFix error" not in k
    return ok, f"status={s} {dt:.1f}s size={img.size if img else None} {k}"


@check
def upscale_unknown_upscaler():
    s, j, dt, info, img = gen("txt2img", [{"enable": True, "upscale": True, "upscaler": "NoSuchUpscaler"}])
    k = keys(info)
    ok = s == 200 and img is not None and img.size == (128, 128) and "QFix error" not in k and \
        "NoSuchUpscaler" in (k.get("QFix warnings", "") + k.get("QFix error", ""))
    return ok, f"status={s} size={img.size if img else None} {k}"


@check
def llm_judge_without_endpoint():
    s, j, dt, info, img = gen("txt2img", [{"enable": True, "scorer": "llm-judge"}])
    k = keys(info)
    note = k.get("QFix warnings", "") + k.get("QFix note", "")
    ok = s == 200 and "QFix error" not in k and "QFix score before" in k and bool(note)
    return ok, f"status={s} {dt:.1f}s {k}"


@check
def controlnet_without_extension():
    s, j, dt, info, img = gen("img2img", [{"enable": True, "mode": "fix_all", "controlnet_face": True,
                                           "controlnet_inpaint": True, "rounds": 1, "inpaint_resolution": 128}],
                              probe="init", init_images=[b64png(astronaut())], width=256, height=256,
                              denoising_strength=0.3)
    k = keys(info)
    note = k.get("QFix note", "") + k.get("QFix warnings", "")
    ok = s == 200 and "QFix error" not in k and "ControlNet" in note
    return ok, f"status={s} {dt:.1f}s {k}"


@check
def route_score_and_diagnose():
    img = b64png(astronaut())
    s1, j1, t1 = http("POST", "/qfix/v1/score", {"image": img})
    s2, j2, t2 = http("POST", "/qfix/v1/diagnose", {"image": "data:image/png;base64," + img, "prompt": "astronaut"})
    faces = [r for r in j2.get("regions", []) if r.get("kind") == "face"] if s2 == 200 else []
    ok = s1 == 200 and isinstance(j1.get("quality"), float) and s2 == 200 and len(faces) >= 1
    return ok, f"score={s1} q={j1.get('quality') if s1 == 200 else j1} {t1:.1f}s diagnose={s2} faces={len(faces)} {t2:.1f}s"


@check
def route_oversized_declared():
    """Content-Length over the limit: 413 before the body is read. Sent with curl: the server answers 413 and
    closes while the client is still sending, which Python's urllib reports as ECONNRESET instead of the 413."""
    path = os.path.join(OUT, "big-body.json")
    if not os.path.exists(path) or os.path.getsize(path) != 52_000_011:
        with open(path, "wb") as f:
            f.write(b'{"image": "' + b"A" * 52_000_000)
    t = time.time()
    r = subprocess.run(["curl", "-s", "-o", "-", "-w", "\\n%{http_code}", "-X", "POST", BASE + "/qfix/v1/score",
                        "-H", "Content-Type: application/json", "--data-binary", "@" + path],
                       capture_output=True, text=True, timeout=300)
    body, _, code = r.stdout.rpartition("\n")
    return code == "413", f"status={code} {time.time() - t:.1f}s {body[:160]}"


@check
def route_oversized_chunked():
    """A chunked body (no Content-Length) passing the limit: 413."""
    import http.client
    conn = http.client.HTTPConnection(BASE.split("//")[1], timeout=120)
    conn.putrequest("POST", "/qfix/v1/score")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"A" * (1024 * 1024)
    try:
        conn.send(b'%x\r\n{"image": "\r\n' % len(b'{"image": "'))
        for _ in range(52):
            conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        conn.send(b'2\r\n"}\r\n0\r\n\r\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = conn.getresponse()
    s, body = r.status, r.read()[:200]
    return s == 413, f"status={s} {body!r}"


ROUTE_BAD = [
    ("not_json", b"{not json", 422, ""),
    ("array_body", b"[1,2]", 422, "body"),
    ("no_image", b'{"options": {}}', 422, "image"),
    ("image_path", json.dumps({"image": "/etc/passwd"}).encode(), 422, "image"),
    ("image_url", json.dumps({"image": "file:///etc/passwd"}).encode(), 422, "image"),
    ("learned_prompts_path", None, 422, "learned_prompts"),
    ("clip_pretrained_path", None, 422, "clip_pretrained"),
    ("preset_path", None, 422, "preset"),
    ("unknown_option", None, 422, "roundz"),
    ("deep_nesting", b'{"image": "x", "options": ' + b"[" * 100000 + b"]" * 100000 + b"}", 422, ""),
    ("prompt_too_long", None, 422, "prompt"),
]


def _route_bad(name, raw, want, field):
    img = b64png(np.zeros((32, 32, 3), np.uint8))
    if raw is None:
        opts = {"learned_prompts_path": {"scorer": "clip-iqa+learned", "learned_prompts": "/etc/passwd"},
                "clip_pretrained_path": {"scorer": "clip-iqa", "clip_pretrained": "/root/x.pt"},
                "preset_path": {"preset": "../../etc/passwd"},
                "unknown_option": {"roundz": 1}}.get(name)
        body = {"image": img, "options": opts} if opts is not None else {"image": img, "prompt": "x" * 20001}
        raw = json.dumps(body).encode()
    s, j, dt = http("POST", "/qfix/v1/diagnose", raw=raw)
    text = json.dumps(j) if not isinstance(j, str) else j
    ok = s == want and field in text and "Traceback" not in text
    return ok, f"status={s} {text[:220]}"


for _name, _raw, _want, _field in ROUTE_BAD:
    def _g(_n=_name, _r=_raw, _w=_want, _fd=_field):
        return _route_bad(_n, _r, _w, _fd)
    _g.__name__ = f"route_bad_{_name}"
    check(_g)


@check
def route_preset_path_like():
    res = {}
    for name in ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..", "a%00b", "x" * 300]:
        s, j, _ = http("GET", f"/qfix/v1/presets/{name}")
        res[name[:20]] = s
    ok = all(v in (404, 422) for v in res.values())
    return ok, json.dumps(res)


@check
def batch_per_image_infotext():
    """batch_size 2 x n_iter 2 of a photo: four images, each with its own QFix infotext."""
    s, j, dt, info, img = gen("txt2img", [{"enable": True, "mode": "fix_all", "rounds": 1, "inpaint_resolution": 128}],
                              probe="astronaut", width=128, height=128, batch_size=2, n_iter=2)
    infos = json.loads(j["info"])["infotexts"] if s == 200 else []
    ok = s == 200 and len(j["images"]) == 4 and len(infos) == 4 and all("QFix result" in keys(t) for t in infos)
    return ok, f"status={s} {dt:.1f}s images={len(j.get('images', [])) if s == 200 else 0}"


@check
def hires_keeps_size():
    s, j, dt, info, img = gen("txt2img", [{"enable": True, "mode": "fix_all", "rounds": 1, "inpaint_resolution": 128}],
                              probe="astronaut", width=128, height=128, enable_hr=True, hr_scale=2,
                              hr_upscaler="Lanczos", hr_second_pass_steps=1, denoising_strength=0.3)
    k = keys(info)
    ok = s == 200 and img is not None and img.size == (256, 256) and "QFix error" not in k and "QFix result" in k
    return ok, f"status={s} size={img.size if img else None} {k.get('QFix result')}"


@check
def score_only_and_disabled():
    s1, _, _, i1, _ = gen("txt2img", [{"enable": True, "mode": "score_only"}], probe="astronaut", width=128, height=128)
    s2, _, _, i2, _ = gen("txt2img", [{"enable": False}])
    k1, k2 = keys(i1), keys(i2)
    ok = s1 == 200 and k1.get("QFix result") == "unchanged (score_only)" and s2 == 200 and not k2
    return ok, f"score_only={k1.get('QFix result')} disabled_keys={list(k2)}"


@check
def settings_not_writable_by_api():
    """F1: the settings that make the client policy must not be writable through /sdapi/v1/options."""
    s, j, _ = http("GET", "/sdapi/v1/options")
    probe = {"qfix_models_dir": "/tmp/rh-evil", "qfix_clip_models": "RN50,ViT-bigG-14",
             "qfix_clip_weights": "openai,evil.pt", "qfix_scorer_device": "cuda", "qfix_judge_url": "http://127.0.0.1:9/v1"}
    http("POST", "/sdapi/v1/options", probe)
    cfg = json.load(open(os.path.join(HERE, "webui", "config.json")))
    changed = {k: cfg.get(k) for k in probe if cfg.get(k) == probe[k]}
    # restore the defaults whatever happened
    http("POST", "/sdapi/v1/options", {"qfix_models_dir": "", "qfix_clip_models": "RN50", "qfix_clip_weights": "openai",
                                       "qfix_scorer_device": "auto"})
    return not changed, f"changed by an API client: {changed}"


@check
def noise_face_not_kept_as_fixed():
    """F4: a 'face' found in noise and painted away must not be reported as kept/fixed."""
    a = dict(prompt="a portrait", seed=366523183, sampler_name="DPM++ 2M", scheduler="Karras")
    s, j, dt, info, img = gen("txt2img", [{"enable": True}], **a)
    k = keys(info)
    out = b64png(img) if img else ""
    s2, j2, _ = http("POST", "/qfix/v1/diagnose", {"image": out})
    faces_after = [r for r in j2.get("regions", []) if r["kind"] == "face"] if s2 == 200 else []
    bad = k.get("QFix result") == "kept" and "face" in k.get("QFix fixed", "") and not faces_after
    return not bad, f"{k.get('QFix result')} fixed={k.get('QFix fixed')} faces_in_output={len(faces_after)}"


@check
def interrupt_is_not_an_error():
    """F6: interrupting a QFix run returns quickly and is not reported as a QFix error."""
    import threading
    im = Image.open(os.path.join(HERE, "photos", "messi5.jpg")).convert("RGB")
    res = {}
    th = threading.Thread(target=lambda: res.setdefault("r", gen(
        "img2img", [{"enable": True, "mode": "fix_all"}], probe="init", init_images=[b64png(im)], width=544, height=336,
        denoising_strength=0.3)))
    th.start()
    time.sleep(12)
    http("POST", "/sdapi/v1/interrupt")
    ti = time.time()
    th.join()
    s, j, dt, info, img = res["r"]
    k = keys(info)
    ok = s == 200 and time.time() - ti < 20 and "QFix error" not in k
    return ok, f"status={s} returned {time.time() - ti:.1f}s after interrupt; result={k.get('QFix result')} error={k.get('QFix error')}"


@check
def upscaler_without_weights_is_said():
    """F7: a model upscaler whose weights cannot load (offline) must not be reported as used."""
    s, j, dt, info, img = gen("txt2img", [{"enable": True, "upscale": True, "upscaler": "R-ESRGAN 4x+"}])
    k = keys(info)
    said = "R-ESRGAN" in (k.get("QFix warnings", "") + k.get("QFix note", ""))
    ok = s == 200 and img is not None and img.size == (128, 128) and said
    return ok, f"status={s} upscaled={k.get('QFix upscaled')!r} scores={k.get('QFix upscale scores')!r} warnings={k.get('QFix warnings')!r}"


@check
def messi_face_hand_text():
    """A real photo with a face and a hand (OpenCV's messi5.jpg): `QFix found` lists both and both get a pass
    (`QFix rejected`/`QFix fixed` name them)."""
    im = Image.open(os.path.join(HERE, "photos", "messi5.jpg")).convert("RGB")
    s, j, dt, info, img = gen("img2img", [{"enable": True, "mode": "fix_all", "rounds": 1, "inpaint_resolution": 128}],
                              probe="init", init_images=[b64png(im)], width=544, height=336, denoising_strength=0.3)
    k = keys(info)
    txt = k.get("QFix rejected", "") + k.get("QFix fixed", "")
    found = k.get("QFix found", "")
    ok = s == 200 and all(w in txt for w in ("face", "hand")) and all(w in found for w in ("face", "hand")) and \
        "QFix error" not in k
    return ok, (f"status={s} {dt:.1f}s {k.get('QFix result')} found={found!r} rejected={k.get('QFix rejected')!r} "
                f"fixed={k.get('QFix fixed')!r}")


@check
def save_before_has_parameters():
    """F8: with Settings > qfix_save_before, the '-qfix-before' copy is saved with its generation parameters."""
    import glob
    http("POST", "/sdapi/v1/options", {"qfix_save_before": True})
    try:
        t0 = time.time()
        s, j, dt, info, img = gen("txt2img", [{"enable": True, "upscale": True}], save_images=True, seed=4242)
    finally:
        http("POST", "/sdapi/v1/options", {"qfix_save_before": False})
    files = [f for f in glob.glob(os.path.join(HERE, "webui", "outputs", "txt2img-images", "*", "*4242*.png"))
             if os.path.getmtime(f) >= t0 - 1]
    before = [f for f in files if "qfix-before" in f]
    params = {os.path.basename(f): "Seed:" in str(Image.open(f).info.get("parameters")) for f in files}
    ok = s == 200 and len(before) == 1 and all(params.values())
    return ok, f"status={s} files(with parameters?)={params}"


@check
def ui_page():
    """The real page in headless Chromium: no JS error from QFix, accordion opens, UI Generate with QFix on."""
    r = subprocess.run([sys.executable, os.path.join(HERE, "ui_check.py"), "--base", BASE], capture_output=True,
                       text=True, timeout=600)
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        return False, f"ui_check failed: {r.stdout[-300:]} {r.stderr[-300:]}"
    return r.returncode == 0, (f"panel={rep.get('panel_found')} inputs={rep.get('opened')} qfix_js_errors="
                               f"{rep.get('qfix_errors')} all_js_errors={len(rep.get('js_errors', []))} "
                               f"ui_generate_has_qfix={'QFix enable: True' in (rep.get('ui_generate') or '')} "
                               f"shots={rep.get('screenshots')}")


def _log_part(startup: bool) -> str | None:
    """The server log up to where this run started (``startup``) or since then; None without a log."""
    log = STATE.get("log")
    if not log or not os.path.exists(log):
        return None
    offset = STATE.get("log_offset", 0)
    with open(log, errors="replace") as f:
        if startup:
            return f.read(offset or 10**7)
        f.seek(offset)
        return f.read()


@check
def startup_log_clean():
    """No QFix line at start-up that looks like an error (F9: 'paste fields left as they are (TypeError ...)')."""
    head = _log_part(startup=True)
    if head is None:
        return True, "no log given"
    bad = [ln for ln in head.splitlines() if "QFix" in ln and re.search(r"Error|Traceback|left as they are|stopped", ln)]
    return not bad, f"{bad[:3]}"


@check
def server_log_clean():
    """No traceback mentioning qfix in the server log since this run started."""
    text = _log_part(startup=False)
    if text is None:
        return True, "no log given"
    blocks = re.findall(r"Traceback \(most recent call last\):.*?(?=\n\S)", text, re.S)
    mine = [b for b in blocks if "qfix" in b.lower()]
    errs = [ln for ln in text.splitlines() if re.search(r"\*\*\* Error|Error completing", ln)]
    return not mine and not errs, f"tracebacks={len(blocks)} with_qfix={len(mine)} error_lines={errs[:5]}"


def main() -> int:
    global BASE
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=BASE)
    ap.add_argument("--log", default=os.path.join(HERE, "webui.log"))
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    BASE = a.base.rstrip("/")
    os.makedirs(OUT, exist_ok=True)
    STATE["log"] = a.log
    STATE["log_offset"] = os.path.getsize(a.log) if os.path.exists(a.log) else 0
    only = [x for x in a.only.split(",") if x]
    todo = [c for c in CHECKS if not only or any(o in c.__name__ for o in only)]
    if only and not any(c.__name__ == "t2i_baseline" for c in todo) and any("bad_args" in c.__name__ for c in todo):
        todo.insert(0, t2i_baseline)
    passed = 0
    for c in todo:
        t = time.time()
        try:
            ok, detail = c()
        except Exception as e:  # a check that crashes is a FAIL, never stops the run
            ok, detail = False, f"{type(e).__name__}: {e}"
        passed += bool(ok)
        line = f"{'PASS' if ok else 'FAIL'} {c.__name__} ({time.time() - t:.1f}s): {detail}"
        print(line[:1500], flush=True)
    print(f"passed={passed}/{len(todo)}")
    return 0 if passed == len(todo) else 1


if __name__ == "__main__":
    sys.exit(main())

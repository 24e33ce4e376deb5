"""Test-only always-on script (realhost harness). With a random-weight model (random VAE) every output is
noise, so QFix would never see a face. When a request sends
  "alwayson_scripts": {"RH Probe": {"args": [{"photo": "astronaut" | "camera" | "grace_hopper" | "init"}]}}
this script's postprocess_image replaces the output with that real photo (resized to the output size)
BEFORE QFix's postprocess_image runs (the folder name "harness-probe" sorts before "qfix"). Without args it
does nothing. It also logs the image it hands on, so the order can be checked in the log."""
import gradio as gr
import numpy as np
from modules import scripts
from PIL import Image


def photo(name, p):
    if name == "init":
        return p.init_images[0].convert("RGB")
    if name == "grace_hopper":
        import os

        import matplotlib
        return Image.open(os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")).convert("RGB")
    import skimage.data
    arr = getattr(skimage.data, name)()
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, -1)
    return Image.fromarray(arr)


class RHProbe(scripts.Script):
    def title(self):
        return "RH Probe"

    def show(self, is_img2img):
        return scripts.AlwaysVisible

    def ui(self, is_img2img):
        return [gr.Textbox(value="", visible=False, label="rh probe")]

    def postprocess_image(self, p, pp, spec=None, *rest):
        if not isinstance(spec, dict) or not spec.get("photo"):
            return
        img = photo(spec["photo"], p).resize(pp.image.size, Image.LANCZOS)
        pp.image = img
        print(f"RH Probe: output replaced by {spec['photo']} {img.size}")

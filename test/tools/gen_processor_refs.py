#!/usr/bin/python3
"""Reference pixel_values of the SigLIP, BLIP, ViLT and DeiT image processors for the six golden images, as
transformers' PIL-backend ("slow") processors compute them, written here with Pillow and NumPy (transformers
itself is not installed on this machine; the steps follow image_processing_{siglip,blip,vilt,deit}.py and
image_transforms.py):

  convert('RGB') -> PIL resize to the processor's size with its resample filter -> uint8 array
  -> (DeiT) centre crop, top = (h - crop_h) // 2, left = (w - crop_w) // 2
  -> rescale: float64(u8) * rescale_factor, cast to float32
  -> normalise: (x - mean) / std in float32 (mean and std cast to float32) -> CHW

ViLT's size: shorter edge -> shortest_edge, longer edge capped at int(1333 / 800 * shortest_edge), both rounded
with int(x + 0.5) and floored to a multiple of size_divisor.

Writes test/fixtures/processors/{processors.json, reference.safetensors}. Run: /usr/bin/python3 test/tools/gen_processor_refs.py
"""
import json
import os
import struct

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
IMAGES = os.path.join(FIXTURES, "golden", "images")
MODELS = os.path.join(FIXTURES, "golden", "models")
OUT = os.path.join(FIXTURES, "processors")


def load_config(name):
    with open(os.path.join(MODELS, name, "preprocessor_config.json")) as f:
        return json.load(f)


PROCESSORS = {
    "siglip": load_config("siglip"),
    "blip": load_config("blip-itm"),
    "vilt": load_config("vilt"),
    # DeiT's processor: resize to 40x40, then a 32x32 centre crop (DeiT's own defaults are 256 -> 224).
    "deit": {
        "image_processor_type": "DeiTImageProcessor",
        "do_resize": True,
        "size": {"height": 40, "width": 36},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": 32, "width": 32},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
    },
}


def vilt_size(h, w, shortest, divisor):
    longer = int(1333 / 800 * shortest)
    scale = shortest / min(h, w)
    if h < w:
        nh, nw = shortest, scale * w
    else:
        nh, nw = scale * h, shortest
    if max(nh, nw) > longer:
        s = longer / max(nh, nw)
        nh, nw = nh * s, nw * s
    nh, nw = int(nh + 0.5), int(nw + 0.5)
    return nh // divisor * divisor, nw // divisor * divisor


def process(cfg, image):
    img = image.convert("RGB")
    w, h = img.size
    size = cfg["size"]
    if cfg["image_processor_type"] == "ViltImageProcessor":
        th, tw = vilt_size(h, w, size["shortest_edge"], cfg.get("size_divisor", 32))
    else:
        th, tw = size["height"], size["width"]
    arr = np.array(img.resize((tw, th), resample=cfg["resample"]), dtype=np.uint8)
    if cfg.get("do_center_crop"):
        ch, cw = cfg["crop_size"]["height"], cfg["crop_size"]["width"]
        top, left = (th - ch) // 2, (tw - cw) // 2
        arr = arr[top : top + ch, left : left + cw]
    x = (arr.astype(np.float64) * cfg["rescale_factor"]).astype(np.float32)
    mean = np.array(cfg["image_mean"], dtype=np.float32)
    std = np.array(cfg["image_std"], dtype=np.float32)
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1).astype(np.float32))


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        b = tensors[name].tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))
    os.replace(tmp, path)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    names = sorted(n for n in os.listdir(IMAGES) if n.endswith((".jpg", ".png")))
    tensors = {}
    for name in names:
        with Image.open(os.path.join(IMAGES, name)) as im:
            im.load()
            for proc, cfg in PROCESSORS.items():
                tensors[f"{name}.{proc}"] = process(cfg, im)
    write_safetensors(os.path.join(OUT, "reference.safetensors"), tensors)
    meta = {"images": names, "processors": PROCESSORS, "pillow": Image.__version__, "numpy": np.__version__}
    tmp = os.path.join(OUT, "processors.json.tmp")
    with open(tmp, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(OUT, "processors.json"))
    print(f"wrote {len(tensors)} reference tensors for {len(names)} images")

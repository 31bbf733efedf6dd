#!/usr/bin/python3
"""Writes test/fixtures/images-edge/: the image files scraped releases hold that trip decoders, and what the
paper's code gets from each: `Image.open(path).convert("RGB")` (Pillow; no EXIF transpose: the paper's
datasets.py opens images that way and hands the PIL image to the processor, which does not rotate either),
stored as raw RGB bytes (<case>.rgb), or the error Pillow raises, for the cases it cannot read.

Run: /usr/bin/python3 test/tools/gen_image_edge_cases.py   (needs python3-pil; written with Pillow 9.4)
"""
import io
import json
import os
import shutil
import struct
import zlib

import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "images-edge")
W, H = 24, 16


def pattern(mode="RGB"):
    """Smooth gradients plus flat blocks: lossy codecs keep them, and orientation shows."""
    im = Image.new("RGB", (W, H))
    px = im.load()
    for y in range(H):
        for x in range(W):
            px[x, y] = (x * 255 // (W - 1), y * 255 // (H - 1), 128 if x < W // 2 else 32)
    for y in range(0, 4):
        for x in range(0, 6):
            px[x, y] = (250, 20, 20)  # a red corner block: top-left, so a rotation moves it
    return im.convert(mode) if mode != "RGB" else im


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png16(colour_type, channels):
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB): values v*257 + small offsets."""
    raw = b""
    for y in range(H):
        raw += b"\x00"
        for x in range(W):
            for c in range(channels):
                v = ((x * 37 + y * 11 + c * 60) % 256) * 256 + (x * 7 + c * 13) % 256
                raw += struct.pack(">H", v)
    ihdr = struct.pack(">IIBBBBB", W, H, 16, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


def huge_png():
    """A valid PNG header claiming 20000 x 20000 pixels (400 million: over Pillow's bomb limits)."""
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * 60)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def save(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def with_exif_orientation(jpeg, orientation):
    """Inserts an APP1 Exif segment holding only the Orientation tag after SOI."""
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + b"\x00\x00\x00\x00"
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def as_ycck(cmyk_jpeg):
    """A CMYK JPEG turned YCCK: the Adobe marker's transform byte set to 2, so decoders take the first three
    components as YCbCr (Pillow cannot write YCCK; the pixels are then whatever YCCK decoding gives)."""
    i = cmyk_jpeg.find(b"\xff\xeeAdobe") if b"\xff\xeeAdobe" in cmyk_jpeg else cmyk_jpeg.find(b"\xff\xee")
    if i < 0:
        # Pillow writes no Adobe marker: add one (version 100, flags 0, transform 2)
        seg = b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 2)
        return cmyk_jpeg[:2] + b"\xff\xee" + struct.pack(">H", len(seg) + 2) + seg + cmyk_jpeg[2:]
    data = bytearray(cmyk_jpeg)
    data[i + 4 + 11] = 2
    return bytes(data)


def cases():
    rgb = pattern()
    jpeg = save(rgb, "JPEG", quality=95)
    cmyk = save(pattern().convert("CMYK"), "JPEG", quality=95)
    frames = [pattern(), Image.new("RGB", (W, H), (0, 0, 255)), Image.new("RGB", (W, H), (0, 255, 0))]
    pal = pattern().convert("P", palette=Image.ADAPTIVE, colors=16)
    pal_t = pal.copy()
    pal_t.info["transparency"] = 3
    la = pattern("L")
    la.putalpha(Image.linear_gradient("L").resize((W, H)))
    rgba = pattern()
    rgba.putalpha(Image.linear_gradient("L").transpose(Image.ROTATE_90).resize((W, H)))
    return [
        ("baseline.jpg", jpeg, "plain baseline JPEG"),
        ("truncated.jpg", jpeg[: len(jpeg) * 2 // 3], "JPEG cut off two thirds in"),
        ("cmyk.jpg", cmyk, "CMYK JPEG (Adobe, inverted)"),
        ("ycck.jpg", as_ycck(cmyk), "YCCK JPEG"),
        ("progressive.jpg", save(rgb, "JPEG", quality=95, progressive=True), "progressive JPEG"),
        ("exif-rotate-90.jpg", with_exif_orientation(jpeg, 6), "JPEG with EXIF orientation 6 (not applied, as Pillow)"),
        ("rgb16.png", png16(2, 3), "16-bit RGB PNG"),
        ("rgba16.png", png16(6, 4), "16-bit RGBA PNG"),
        ("grey16.png", png16(0, 1), "16-bit greyscale PNG"),
        ("palette-transparent.png", save(pal_t, "PNG", transparency=3), "palette PNG with a transparent index"),
        ("grey-alpha.png", save(la, "PNG"), "greyscale + alpha PNG"),
        ("rgba.png", save(rgba, "PNG"), "RGBA PNG"),
        ("animated.gif", save(frames[0].convert("P", palette=Image.ADAPTIVE, colors=64), "GIF", save_all=True,
                              append_images=[f.convert("P", palette=Image.ADAPTIVE) for f in frames[1:]], duration=100, loop=0),
         "animated GIF (first frame)"),
        ("animated.webp", save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True, duration=100),
         "animated WebP (first frame)"),
        ("empty.jpg", b"", "zero-byte file"),
        ("error-page.jpg", b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n",
         "an HTML error page saved as .jpg"),
        ("huge.png", huge_png(), "PNG header claiming 20000x20000 pixels"),
    ]


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    expected = []
    for name, data, what in cases():
        path = os.path.join(OUT, name)
        with open(path, "wb") as f:
            f.write(data)
        entry = {"file": name, "what": what}
        try:
            with Image.open(path) as im:
                entry["pil_mode"] = im.mode
                rgb = im.convert("RGB")
            entry["width"], entry["height"] = rgb.size
            entry["rgb"] = name + ".rgb"
            with open(os.path.join(OUT, entry["rgb"]), "wb") as f:
                f.write(rgb.tobytes())
        except Exception as e:  # what Pillow raises is the expected outcome for these
            entry["pil_error"] = f"{type(e).__name__}: {e}".replace(path, name)
        expected.append(entry)
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"pillow": PIL.__version__, "cases": expected}, f, indent=1)
        f.write("\n")
    for e in expected:
        print(e["file"], e.get("pil_mode"), e.get("pil_error", ""))


if __name__ == "__main__":
    main()

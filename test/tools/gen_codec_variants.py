#!/usr/bin/env python3
"""Writes test/fixtures/images-codecs: JPEGs and PNGs in the variants an in-process decoder must get right, for
test/vision/in-process-decode.test.ts (which compares the in-process decoder with the sharp path, itself checked
against Pillow by the images-edge fixtures).

JPEGs come from libjpeg-turbo's cjpeg (apt: libjpeg-turbo-progs): every chroma sampling factor libjpeg
decodes (4:4:4, 4:2:2, 4:4:0, 4:2:0, 4:1:1, 4:1:0 and 1x4), baseline and progressive, arithmetic coding,
restart markers, grey, RGB without the colour transform, smoothing, quality 100, at an odd size (61x45) so that
the last MCUs are partial. PNGs are written byte by byte here: grey and palette at 1, 2, 4 and 8 bits with and
without tRNS, RGB with tRNS and with a gAMA chunk (to be ignored), grey+alpha with sRGB; interlaced RGB, RGBA
and palette (4-bit) ones too.

usage: python3 test/tools/gen_codec_variants.py [OUT_DIR]
"""
import os
import struct
import subprocess
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'images-codecs')
os.makedirs(OUT, exist_ok=True)


def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(name, w, h, depth, colour, rows, extra=b'', interlace=0):
    ihdr = struct.pack('>IIBBBBB', w, h, depth, colour, 0, 0, interlace)
    raw = b''.join(b'\x00' + r for r in rows)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + extra + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def pack(values, depth):
    bits = ''.join(format(v, '0%db' % depth) for v in values)
    bits += '0' * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def adam7(w, h, row):
    """Interlaced scanlines (filter 0): row(xs, y) gives the bytes of the pixels at xs on row y of a pass."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        xs = list(range(x0, w, dx))
        if xs:
            rows += [row(xs, y) for y in range(y0, h, dy)]
    return rows


W, H = 13, 7
for depth in (1, 2, 4, 8):
    top = 1 << depth
    rows = [pack([(x * 3 + y * 5) % top for x in range(W)], depth) for y in range(H)]
    png('grey%d.png' % depth, W, H, depth, 0, rows)
    png('grey%d-trns.png' % depth, W, H, depth, 0, rows, chunk(b'tRNS', struct.pack('>H', 1)))
    palette = b''.join(bytes([(i * 53) % 256, (i * 101 + 7) % 256, (i * 199 + 3) % 256]) for i in range(top))
    png('palette%d.png' % depth, W, H, depth, 3, rows, chunk(b'PLTE', palette))
    png('palette%d-trns.png' % depth, W, H, depth, 3, rows, chunk(b'PLTE', palette) + chunk(b'tRNS', bytes([0, 128][:top])))
rgb = [bytes((x * 19 + y * 7 + c * 50) % 256 for x in range(W) for c in range(3)) for y in range(H)]
png('rgb8-gamma.png', W, H, 8, 2, rgb, chunk(b'gAMA', struct.pack('>I', 100000)))
png('rgb8-trns.png', W, H, 8, 2, rgb, chunk(b'tRNS', struct.pack('>HHH', 19, 57, 100)))
grey_alpha = [bytes((x * 23 + y * 11 + c * 90) % 256 for x in range(W) for c in range(2)) for y in range(H)]
png('grey-alpha8-srgb.png', W, H, 8, 4, grey_alpha, chunk(b'sRGB', b'\x00'))
IW, IH = 37, 29
png('interlaced-rgb.png', IW, IH, 8, 2,
    adam7(IW, IH, lambda xs, y: b''.join(bytes([(x * 7) % 256, (y * 9) % 256, (x * y) % 256]) for x in xs)), interlace=1)
png('interlaced-rgba.png', IW, IH, 8, 6,
    adam7(IW, IH, lambda xs, y: b''.join(bytes([(x * 5) % 256, (y * 3) % 256, (x + y) % 256, (x * 11) % 256]) for x in xs)),
    interlace=1)
png('interlaced-palette4.png', IW, IH, 4, 3, adam7(IW, IH, lambda xs, y: pack([(x + 2 * y) % 16 for x in xs], 4)),
    chunk(b'PLTE', b''.join(bytes([i * 16, 255 - i * 16, (i * 77) % 256]) for i in range(16))), interlace=1)

# JPEGs through cjpeg from one 61x45 RGB source (a PPM): gradients plus noise, so that every block has detail.
JW, JH = 61, 45
pixels = bytearray()
seed = 7
for y in range(JH):
    for x in range(JW):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        n = (seed >> 16) & 31
        pixels += bytes([(x * 4 + n) & 255, (y * 5 + n) & 255, ((x + y) * 3 + n * 2) & 255])
ppm = b'P6\n%d %d\n255\n' % (JW, JH) + bytes(pixels)


def cjpeg(name, *args):
    out = subprocess.run(['cjpeg', *args], input=ppm, capture_output=True, check=True).stdout
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(out)


for sampling in ('1x1', '2x1', '1x2', '2x2', '4x1', '1x4', '4x2'):
    cjpeg('baseline-%s.jpg' % sampling, '-sample', sampling + ',1x1,1x1', '-quality', '85')
    cjpeg('progressive-%s.jpg' % sampling, '-sample', sampling + ',1x1,1x1', '-progressive', '-quality', '60')
cjpeg('arithmetic.jpg', '-arithmetic', '-quality', '80')
cjpeg('progressive-arithmetic.jpg', '-progressive', '-arithmetic', '-sample', '2x1,1x1,1x1')
cjpeg('restart.jpg', '-restart', '1', '-quality', '80')
cjpeg('grey.jpg', '-grayscale')
cjpeg('rgb-no-transform.jpg', '-rgb')
cjpeg('smooth-optimize.jpg', '-optimize', '-sample', '2x2,1x1,1x1', '-smooth', '30')
cjpeg('quality100.jpg', '-quality', '100', '-sample', '1x1,1x1,1x1')

#!/usr/bin/python3
"""Scaled fixtures: the golden BERT and ViT checkpoints with larger weights, and their outputs and gradients
computed by an independent PyTorch implementation written here from the transformers definitions.

Why: the golden checkpoints are initialised as transformers does (weights N(0, 0.02), biases 0, LayerNorm 1/0),
so their activations stay near zero, where exact GELU and its tanh approximation, or attention scales 1/sqrt(d)
and 1/d, give nearly the same numbers. Here every weight matrix is scaled up (pre-activations of a few units),
biases and LayerNorm affine parameters get random values, the text inputs get padding and a second segment, and
the configs get a distinctive layer_norm_eps; the script then checks that each of those variants moves the
outputs by at least 100x the tests' tolerance (2e-6 of max(1, max|ref|)), and writes:

  test/fixtures/scaled/<family>/{config.json, model.safetensors, inputs.safetensors, outputs.safetensors}

Run with Debian's PyTorch (python3-torch 1.13): /usr/bin/python3 test/tools/gen_scaled.py
Only safetensors and JSON are read and written (a small struct + json reader, no pickle).
"""
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
GOLDEN = os.path.join(ROOT, "golden", "models")
OUT = os.path.join(ROOT, "scaled")

DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I64": (torch.int64, 8)}
NAMES = {v[0]: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, _ = DTYPES[info["dtype"]]
        start, end = info["data_offsets"]
        buf = bytearray(data[start:end])
        t = torch.frombuffer(buf, dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))
    os.replace(tmp, path)


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def scale_weights(weights, gen, matrix_scale):
    """Matrices (and conv kernels, embeddings) times matrix_scale; 1-D tensors random; LayerNorm near 1."""
    out = {}
    for name, w in weights.items():
        if name.endswith("LayerNorm.weight") or "layernorm" in name and name.endswith(".weight"):
            out[name] = 1 + 0.3 * torch.randn(w.shape, generator=gen)
        elif w.dim() == 1:
            out[name] = 0.5 * torch.randn(w.shape, generator=gen)
        else:
            out[name] = w * matrix_scale
    return out


# ----- the architectures, written from transformers' modeling_bert.py and modeling_vit.py -----


def gelu(x, variant):
    if variant == "exact":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def self_attention(x, p, prefix, heads, additive_mask, scale_variant):
    B, L, H = x.shape
    d = H // heads

    def split(t):
        return t.view(B, L, heads, d).transpose(1, 2)

    q, k, v = (split(linear(x, p, f"{prefix}.{n}")) for n in ("query", "key", "value"))
    scale = 1 / math.sqrt(d) if scale_variant == "sqrt" else 1 / d
    scores = q @ k.transpose(-1, -2) * scale
    if additive_mask is not None:
        scores = scores + additive_mask
    probs = torch.softmax(scores, dim=-1)
    return (probs @ v).transpose(1, 2).reshape(B, L, H)


def bert_forward(p, cfg, inputs, variant):
    ids, mask, types = inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]
    eps, heads = variant.get("eps", cfg["layer_norm_eps"]), cfg["num_attention_heads"]
    L = ids.shape[1]
    e = "bert.embeddings."
    x = p[e + "word_embeddings.weight"][ids] + p[e + "position_embeddings.weight"][torch.arange(L)][None]
    x = x + p[e + "token_type_embeddings.weight"][types]
    x = layer_norm(x, p[e + "LayerNorm.weight"], p[e + "LayerNorm.bias"], eps)
    # Extended mask as transformers builds it: 0 where attended, the dtype's minimum where masked.
    additive = (1 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
    states = [x]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{i}."
        a = self_attention(x, p, pre + "attention.self", heads, additive, variant.get("scale", "sqrt"))
        a = linear(a, p, pre + "attention.output.dense")
        x = layer_norm(a + x, p[pre + "attention.output.LayerNorm.weight"], p[pre + "attention.output.LayerNorm.bias"], eps)
        h = gelu(linear(x, p, pre + "intermediate.dense"), variant.get("gelu", "exact"))
        h = linear(h, p, pre + "output.dense")
        x = layer_norm(h + x, p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], eps)
        states.append(x)
    first = x[:, 0]
    pooled = torch.tanh(linear(first, p, "bert.pooler.dense")) if variant.get("pooler", "tanh") == "tanh" else first
    logits = linear(pooled, p, "classifier")
    loss = torch.nn.functional.cross_entropy(logits, inputs["labels"])
    out = {f"hidden_states.{i}": s for i, s in enumerate(states)}
    out.update(pooler_output=pooled, logits=logits, loss=loss.reshape(1))
    return out, loss


def vit_forward(p, cfg, inputs, variant):
    pixels = inputs["pixel_values"]
    eps, heads, patch = variant.get("eps", cfg["layer_norm_eps"]), cfg["num_attention_heads"], cfg["patch_size"]
    B = pixels.shape[0]
    x = torch.nn.functional.conv2d(
        pixels, p["embeddings.patch_embeddings.projection.weight"], p["embeddings.patch_embeddings.projection.bias"], stride=patch
    )
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([p["embeddings.cls_token"].expand(B, -1, -1), x], dim=1) + p["embeddings.position_embeddings"]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{i}."
        h = layer_norm(x, p[pre + "layernorm_before.weight"], p[pre + "layernorm_before.bias"], eps)
        a = self_attention(h, p, pre + "attention.attention", heads, None, variant.get("scale", "sqrt"))
        x = linear(a, p, pre + "attention.output.dense") + x
        h = layer_norm(x, p[pre + "layernorm_after.weight"], p[pre + "layernorm_after.bias"], eps)
        h = gelu(linear(h, p, pre + "intermediate.dense"), variant.get("gelu", "exact"))
        x = linear(h, p, pre + "output.dense") + x
    last = layer_norm(x, p["layernorm.weight"], p["layernorm.bias"], eps)
    first = last[:, 0]
    pooled = torch.tanh(linear(first, p, "pooler.dense")) if variant.get("pooler", "tanh") == "tanh" else first
    # A scalar to differentiate: fixed random weights over both outputs (stored with the inputs).
    loss = (last * inputs["loss_weights.last_hidden_state"]).sum() + (pooled * inputs["loss_weights.pooler_output"]).sum()
    return {"last_hidden_state": last, "pooler_output": pooled, "loss": loss.reshape(1)}, loss


# ----- building the fixtures -----

VARIANTS = {
    "gelu tanh approximation": {"gelu": "tanh"},
    "attention scale 1/d": {"scale": "d"},
    "LayerNorm eps 1e-12 (config ignored)": {"eps": 1e-12},
    "LayerNorm eps 1e-5": {"eps": 1e-5},
    "pooler without dense+tanh": {"pooler": "first"},
}
TOLERANCE = 2e-6  # the model tests' rel: max|diff| <= 2e-6 * max(1, max|ref|)


def check_sensitivity(family, forward, params, cfg, inputs, reference):
    """Each variant must move some output by >= 100x the tolerance, or the fixture cannot tell them apart."""
    with torch.no_grad():
        for label, variant in VARIANTS.items():
            out, _ = forward(params, cfg, inputs, variant)
            worst = 0.0
            for name, ref in reference.items():
                d = (out[name] - ref).abs().max().item() / (TOLERANCE * max(1.0, ref.abs().max().item()))
                worst = max(worst, d)
            print(f"{family}: {label}: moves the outputs by {worst:.3g}x the tolerance")
            if worst < 100:
                sys.exit(f"{family}: the variant '{label}' is not distinguishable ({worst:.3g}x the tolerance)")


def build(family, forward, matrix_scale, eps, make_inputs, drop):
    src = os.path.join(GOLDEN, family)
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    cfg["layer_norm_eps"] = eps
    gen = torch.Generator().manual_seed(16)
    weights = {k: v for k, v in read_safetensors(os.path.join(src, "model.safetensors")).items()}
    weights = scale_weights(weights, gen, matrix_scale)
    inputs = make_inputs(read_safetensors(os.path.join(src, "inputs.safetensors")), gen)
    # Reference in float64 (rounded to float32 when written): the fixture then carries no float32 noise.
    p64 = {k: v.double().requires_grad_() for k, v in weights.items()}
    in64 = {k: (v.double() if v.is_floating_point() else v) for k, v in inputs.items()}
    out, loss = forward(p64, cfg, in64, {})
    loss.backward()
    reference = {k: v.detach() for k, v in out.items()}
    check_sensitivity(family, forward, {k: v.detach() for k, v in p64.items()}, cfg, in64, reference)
    outputs = {k: v.float() for k, v in reference.items()}
    for k, v in p64.items():
        outputs["grad." + k] = v.grad.float()
    dst = os.path.join(OUT, family)
    os.makedirs(dst, exist_ok=True)
    for key in drop:
        cfg.pop(key, None)
    write_json(os.path.join(dst, "config.json"), cfg)
    write_safetensors(os.path.join(dst, "model.safetensors"), weights)
    write_safetensors(os.path.join(dst, "inputs.safetensors"), inputs)
    write_safetensors(os.path.join(dst, "outputs.safetensors"), outputs)
    print(f"{family}: wrote {dst} ({len(outputs)} outputs)")


def bert_inputs(golden, gen):
    ids = golden["input_ids"].clone()
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    # Padding at the end of three rows (ids 0 there, masked) and a second segment in two rows.
    for row, length in ((1, 11), (2, 7), (3, 13)):
        ids[row, length:] = 0
        mask[row, length:] = 0
    types[0, 9:] = 1
    types[3, 6:13] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": golden["labels"].clone()}


def vit_inputs(golden, gen):
    pixels = golden["pixel_values"].clone()
    return {
        "pixel_values": pixels,
        "loss_weights.last_hidden_state": torch.randn(4, 17, 32, generator=gen),
        "loss_weights.pooler_output": torch.randn(4, 32, generator=gen),
    }


if __name__ == "__main__":
    torch.set_num_threads(1)
    build("bert", bert_forward, 10.0, 1e-3, bert_inputs, [])
    build("vit", vit_forward, 10.0, 1e-3, vit_inputs, [])

#!/usr/bin/env python3
# Reference outputs of PyTorch's own bf16 autocast for the golden BERT and ViT checkpoints, for
# test/models/precision-golden.test.ts. Runs with Debian's python3-torch (1.13) and numpy only: the two
# architectures are written out in torch ops (as transformers computes them), the safetensors files are read
# and written by hand (no pickle). The fp32 pass is first checked against the golden transformers outputs, so
# the bf16 numbers come from a forward pass known to be the right one.
#
#   /usr/bin/python3 test/tools/gen_autocast_reference.py test/fixtures/golden OUT.safetensors
import json, math, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {'F32': np.float32, 'I64': np.int64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        arr = np.frombuffer(body[a:b], dtype=DTYPES[info['dtype']]).reshape(info['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().float().contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(chunks))


def attention(x, p, prefix, heads, mask_add=None):
    b, l, d = x.shape
    split = lambda t: t.view(b, l, heads, d // heads).transpose(1, 2)
    q = split(F.linear(x, p[prefix + 'query.weight'], p[prefix + 'query.bias']))
    k = split(F.linear(x, p[prefix + 'key.weight'], p[prefix + 'key.bias']))
    v = split(F.linear(x, p[prefix + 'value.weight'], p[prefix + 'value.bias']))
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // heads)
    if mask_add is not None:
        scores = scores + mask_add
    ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
    return ctx.transpose(1, 2).reshape(b, l, d)


def bert(p, cfg, inp):
    ids, tt, mask = inp['input_ids'], inp['token_type_ids'], inp['attention_mask']
    eps, heads = cfg['layer_norm_eps'], cfg['num_attention_heads']
    pos = torch.arange(ids.shape[1])
    e = p['bert.embeddings.word_embeddings.weight'][ids] + p['bert.embeddings.position_embeddings.weight'][pos]
    e = e + p['bert.embeddings.token_type_embeddings.weight'][tt]
    ln = lambda x, n: F.layer_norm(x, x.shape[-1:], p[n + '.weight'], p[n + '.bias'], eps)
    h = ln(e, 'bert.embeddings.LayerNorm')
    mask_add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    out = {'hidden_states.0': h}
    for i in range(cfg['num_hidden_layers']):
        L = f'bert.encoder.layer.{i}.'
        a = attention(h, p, L + 'attention.self.', heads, mask_add)
        a = F.linear(a, p[L + 'attention.output.dense.weight'], p[L + 'attention.output.dense.bias'])
        h = ln(a + h, L + 'attention.output.LayerNorm')
        m = F.gelu(F.linear(h, p[L + 'intermediate.dense.weight'], p[L + 'intermediate.dense.bias']))
        m = F.linear(m, p[L + 'output.dense.weight'], p[L + 'output.dense.bias'])
        h = ln(m + h, L + 'output.LayerNorm')
        out[f'hidden_states.{i + 1}'] = h
    pooled = torch.tanh(F.linear(h[:, 0], p['bert.pooler.dense.weight'], p['bert.pooler.dense.bias']))
    out['pooler_output'] = pooled
    out['logits'] = F.linear(pooled, p['classifier.weight'], p['classifier.bias'])
    return out


def vit(p, cfg, inp):
    eps, heads, ps = cfg['layer_norm_eps'], cfg['num_attention_heads'], cfg['patch_size']
    x = F.conv2d(inp['pixel_values'], p['embeddings.patch_embeddings.projection.weight'],
                 p['embeddings.patch_embeddings.projection.bias'], stride=ps)
    x = x.flatten(2).transpose(1, 2)
    cls = p['embeddings.cls_token'].expand(x.shape[0], -1, -1)
    h = torch.cat([cls.to(x.dtype), x], dim=1) + p['embeddings.position_embeddings']
    ln = lambda x, n: F.layer_norm(x, x.shape[-1:], p[n + '.weight'], p[n + '.bias'], eps)
    for i in range(cfg['num_hidden_layers']):
        L = f'encoder.layer.{i}.'
        a = attention(ln(h, L + 'layernorm_before'), p, L + 'attention.attention.', heads)
        h = F.linear(a, p[L + 'attention.output.dense.weight'], p[L + 'attention.output.dense.bias']) + h
        m = F.gelu(F.linear(ln(h, L + 'layernorm_after'), p[L + 'intermediate.dense.weight'], p[L + 'intermediate.dense.bias']))
        h = F.linear(m, p[L + 'output.dense.weight'], p[L + 'output.dense.bias']) + h
    last = ln(h, 'layernorm')
    pooled = torch.tanh(F.linear(last[:, 0], p['pooler.dense.weight'], p['pooler.dense.bias']))
    return {'last_hidden_state': last, 'pooler_output': pooled}


def main():
    golden, out_path = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    result = {}
    for name, fn in (('bert', bert), ('vit', vit)):
        d = f'{golden}/models/{name}'
        cfg = json.load(open(f'{d}/config.json'))
        p, inp, ref = read_safetensors(f'{d}/model.safetensors'), read_safetensors(f'{d}/inputs.safetensors'), read_safetensors(f'{d}/outputs.safetensors')
        with torch.no_grad():
            fp32 = fn(p, cfg, inp)
            for k, t in fp32.items():
                diff = (t - ref[k].view(t.shape)).abs().max().item()
                assert diff < 1e-4, f'{name} {k}: the fp32 pass differs from the golden output by {diff}'
            with torch.autocast('cpu', dtype=torch.bfloat16):
                low = fn(p, cfg, inp)
        for k, t in low.items():
            scale = max(1.0, fp32[k].abs().max().item())
            print(f'{name}.{k}: {t.dtype}, bf16 vs fp32 {((t.float() - fp32[k]).abs().max().item() / scale):.2e} of scale')
            result[f'{name}.{k}'] = t
    write_safetensors(out_path, result)
    print(f'wrote {out_path} (torch {torch.__version__})')


main()

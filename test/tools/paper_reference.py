#!/usr/bin/python3
"""Reference outputs of the paper's classification heads, written from the paper's released code
(Sanchez Villegas, Preotiuc-Pietro and Aletras, EACL Findings 2024: models/mm_late.py, models/mm_early.py,
models/text_only.py), for test/multimodal/paper-parity.test.ts.

Encoder states: the last-layer states of the golden tiny encoders as Hugging Face transformers computed them
(test/fixtures/golden/models/*/outputs.safetensors); this script implements only the heads over them, in
PyTorch, as the paper's code does. tandem's encoders already match those states (test/models), so the
parity test can run tandem's whole recipes on the golden inputs and compare with what is written here.

Run with Debian's PyTorch (python3-torch 1.13): /usr/bin/python3 test/tools/paper_reference.py
Writes test/fixtures/paper/*.safetensors: head weights under tandem's parameter names, the states used
(`in.*`), the outputs (`out.*`) and, for the attention fusion, the gradients of the total loss (`grad.*`).
Only safetensors and JSON are read and written (a small reader/writer below; no pickle).
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
GOLDEN = os.path.join(ROOT, 'test', 'fixtures', 'golden', 'models')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'paper')

DTYPES = {'F32': torch.float32, 'I64': torch.int64, 'F64': torch.float64}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    body = bytearray(data[8 + n:])
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        dtype = DTYPES[info['dtype']]
        t = torch.frombuffer(body[start:end], dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info['shape']).clone()
    return out


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# The batch: the four golden posts. Classification labels, and the ITM pairs: post i paired with the text of
# post TEXT_INDEX[i] (label 1 when it is its own text).
LABELS = torch.tensor([0, 1, 2, 0])
TEXT_INDEX = [1, 1, 0, 3]
ITM_LABELS = torch.tensor([int(j == i) for i, j in enumerate(TEXT_INDEX)])
A, B = 0.1, 0.1  # the paper's loss weights: (1 - a - b) CE + a ITC + b ITM
NUM_LABELS = 3
LOGIT_SCALE_INIT = 2.6592
PROJECTION_DIM = 512  # VisionTextDualEncoder's projection_dim


def clip_loss(logits_per_text):
    """Symmetric cross-entropy over the batch (the paper's utils.clip_loss, as CLIP)."""
    target = torch.arange(logits_per_text.size(0))
    return (F.cross_entropy(logits_per_text, target) + F.cross_entropy(logits_per_text.t(), target)) / 2


def cosine_logits(text, image, logit_scale):
    text = text / text.norm(p=2, dim=-1, keepdim=True)
    image = image / image.norm(p=2, dim=-1, keepdim=True)
    return logit_scale.exp() * text @ image.t()


class LateFusionHeads(nn.Module):
    """The heads of the paper's MM_Model over a VisionTextDualEncoder, d = the encoders' width."""

    def __init__(self, d, fusion):
        super().__init__()
        self.fusion = fusion
        self.fc_Q = nn.Linear(d, d)
        self.fc_K = nn.Linear(d, d)
        self.fc_V = nn.Linear(d, d)
        self.aspectattention = nn.Linear(d, 1)
        self.linear_fusion = nn.Linear(2 * d, d)
        self.linear_cls = nn.Linear(d, NUM_LABELS)
        self.linear_tim = nn.Linear(d, 2)
        self.linear_gmu_t = nn.Linear(d, 2 * d)
        self.linear_gmu_v = nn.Linear(d, 2 * d)
        # the dual encoder's projections and temperature
        self.text_projection = nn.Linear(d, PROJECTION_DIM, bias=False)
        self.visual_projection = nn.Linear(d, PROJECTION_DIM, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(LOGIT_SCALE_INIT))

    def fuse(self, x_t, x_v, x_t_pool, x_v_pool):
        if self.fusion == 'concat':
            return F.relu(self.linear_fusion(torch.cat((x_t[:, 0, :], x_v[:, 0, :]), dim=1)))
        if self.fusion == 'attention':
            # every text token queries every image token, no mask; the first text token's vector is used
            q, k, v = self.fc_Q(x_t), self.fc_K(x_v), self.fc_V(x_v)
            weights = F.softmax(q @ k.transpose(1, 2) * k.size(-1) ** -0.5, dim=-1)
            attended = weights @ v
            return F.relu(self.linear_fusion(torch.cat((x_t[:, 0, :], attended[:, 0, :]), dim=1)))
        if self.fusion == 'aspect-att':
            # per post: the paper's code reshapes a [2, B, d] stack to [B, 2, d], which pairs rows of
            # different posts when B > 1; stacking on axis 1 is the per-post computation it intends
            pair = torch.stack((x_t_pool, x_v_pool), dim=1)  # [B, 2, d]
            weights = F.softmax(torch.tanh(self.aspectattention(pair)), dim=1)  # [B, 2, 1]
            return F.relu((weights.transpose(1, 2) @ pair).squeeze(1))
        if self.fusion == 'gmu':
            t, v = x_t[:, 0, :], x_v[:, 0, :]
            z = torch.sigmoid(torch.cat((t, v), dim=1))
            h = z * self.linear_gmu_t(t) + (1 - z) * self.linear_gmu_v(v)
            return F.relu(self.linear_fusion(h))
        raise ValueError(self.fusion)

    def tandem_names(self):
        """This module's parameters under tandem's names (only those the fusion uses)."""
        names = {
            'classifier.weight': self.linear_cls.weight,
            'classifier.bias': self.linear_cls.bias,
            'itm_head.weight': self.linear_tim.weight,
            'itm_head.bias': self.linear_tim.bias,
            'itc_text_proj.weight': self.text_projection.weight,
            'itc_image_proj.weight': self.visual_projection.weight,
            'logit_scale': self.logit_scale,
        }
        if self.fusion != 'aspect-att':
            names['fusion.fusion_layer.weight'] = self.linear_fusion.weight
            names['fusion.fusion_layer.bias'] = self.linear_fusion.bias
        if self.fusion == 'attention':
            for ours, theirs in (('query', self.fc_Q), ('key', self.fc_K), ('value', self.fc_V)):
                names[f'fusion.{ours}.weight'] = theirs.weight
                names[f'fusion.{ours}.bias'] = theirs.bias
        if self.fusion == 'aspect-att':
            names['fusion.score.weight'] = self.aspectattention.weight
            names['fusion.score.bias'] = self.aspectattention.bias
        if self.fusion == 'gmu':
            names['fusion.text_proj.weight'] = self.linear_gmu_t.weight
            names['fusion.text_proj.bias'] = self.linear_gmu_t.bias
            names['fusion.image_proj.weight'] = self.linear_gmu_v.weight
            names['fusion.image_proj.bias'] = self.linear_gmu_v.bias
        return names


def late_fusion(fusion, seed, with_grads):
    bert = read_safetensors(os.path.join(GOLDEN, 'bert', 'outputs.safetensors'))
    vit = read_safetensors(os.path.join(GOLDEN, 'vit', 'outputs.safetensors'))
    x_t = bert['hidden_states.2']  # BERT's last layer [4, 16, 32]
    x_t_pool = bert['pooler_output']
    x_v = vit['last_hidden_state']  # ViT's last layer (after its final LayerNorm) [4, 17, 32]
    x_v_pool = vit['pooler_output']
    torch.manual_seed(seed)
    m = LateFusionHeads(x_t.size(-1), fusion)
    with torch.no_grad():  # a scale away from the initial value, so a swapped init would show
        m.logit_scale.fill_(LOGIT_SCALE_INIT + 0.25)
    pair = m.fuse(x_t, x_v, x_t_pool, x_v_pool)
    logits = m.linear_cls(pair)  # dropout is the identity in eval mode
    text_embeds = m.text_projection(x_t_pool)
    image_embeds = m.visual_projection(x_v_pool)
    itc_logits = cosine_logits(text_embeds, image_embeds, m.logit_scale)
    idx = torch.tensor(TEXT_INDEX)
    itm_pair = m.fuse(x_t[idx], x_v, x_t_pool[idx], x_v_pool)
    itm_logits = m.linear_tim(itm_pair)  # no dropout before the ITM head
    ce = F.cross_entropy(logits, LABELS)
    itc = clip_loss(itc_logits)
    itm = F.cross_entropy(itm_logits, ITM_LABELS)
    total = (1 - A - B) * ce + A * itc + B * itm
    names = m.tandem_names()
    out = {name: p.detach().clone() for name, p in names.items()}
    if with_grads:
        grads = torch.autograd.grad(total, list(names.values()))
        out.update({f'grad.{name}': g for name, g in zip(names, grads)})
    out.update({
        'in.text_states': x_t,
        'in.text_pooled': x_t_pool,
        'in.image_states': x_v,
        'in.image_pooled': x_v_pool,
        'in.labels': LABELS,
        'in.text_index': torch.tensor(TEXT_INDEX),
        'in.itm_labels': ITM_LABELS,
        'out.pair': pair,
        'out.logits': logits,
        'out.text_embeds': text_embeds,
        'out.image_embeds': image_embeds,
        'out.itc_logits': itc_logits,
        'out.itm_pair': itm_pair,
        'out.itm_logits': itm_logits,
        'out.ce': ce.reshape(1),
        'out.itc': itc.reshape(1),
        'out.itm': itm.reshape(1),
        'out.total': total.reshape(1),
    })
    return out


def vilt(seed):
    o = read_safetensors(os.path.join(GOLDEN, 'vilt', 'outputs.safetensors'))
    text = o['text_last_hidden_state']
    # the image [CLS] is the first image token (ViLT puts it before the sampled patches)
    x_t, x_v = text[:, 0, :], o['image_last_hidden_state_unordered'][:, 0, :]
    torch.manual_seed(seed)
    linear = nn.Linear(text.size(-1), NUM_LABELS)
    logit_scale = torch.tensor(LOGIT_SCALE_INIT + 0.25)  # away from the initial value
    logits = linear(x_t)
    itc_logits = cosine_logits(x_t, x_v, logit_scale)
    return {
        'classifier.weight': linear.weight,
        'classifier.bias': linear.bias,
        'logit_scale': logit_scale,
        'out.text_embeds': x_t,
        'out.image_embeds': x_v,
        'out.logits': logits,
        'out.itc_logits': itc_logits,
        'out.itc': clip_loss(itc_logits).reshape(1),
    }


def lxmert(seed):
    i = read_safetensors(os.path.join(GOLDEN, 'lxmert', 'inputs.safetensors'))
    o = read_safetensors(os.path.join(GOLDEN, 'lxmert', 'outputs.safetensors'))
    lang = o['language_output']
    visn = o['vision_output']
    mask = i['attention_mask']
    # max over the real tokens (padding set to -1e9) of the detached language output, max over regions
    masked = lang.clone().detach()
    masked[mask.unsqueeze(-1).expand(lang.size()) == 0] = -1e9
    text_embeds = masked.max(1)[0]
    image_embeds = visn.max(1)[0]
    logit_scale = torch.tensor(LOGIT_SCALE_INIT - 0.25)  # away from the initial value
    itc_logits = cosine_logits(text_embeds, image_embeds, logit_scale)
    itc = clip_loss(itc_logits)
    # the classifier reads a new ReLU layer over the language output's first token; ITM reads that token
    torch.manual_seed(seed)
    d = lang.size(-1)
    linear_fusion, linear, linear_tim = nn.Linear(d, d), nn.Linear(d, NUM_LABELS), nn.Linear(d, 2)
    first = lang[:, 0, :]
    logits = linear(F.relu(linear_fusion(first)))  # dropout is the identity in eval mode
    return {
        'fusion_layer.weight': linear_fusion.weight,
        'fusion_layer.bias': linear_fusion.bias,
        'classifier.weight': linear.weight,
        'classifier.bias': linear.bias,
        'itm_head.weight': linear_tim.weight,
        'itm_head.bias': linear_tim.bias,
        'out.logits': logits,
        'out.itm_logits_matched': linear_tim(first),
        'logit_scale': logit_scale,
        'out.text_embeds': text_embeds,
        'out.image_embeds': image_embeds,
        'out.itc_logits': itc_logits,
        'out.itc': itc.reshape(1),
    }


def unimodal(folder, key, seed):
    o = read_safetensors(os.path.join(GOLDEN, folder, 'outputs.safetensors'))
    first = o[key][:, 0, :]
    torch.manual_seed(seed)
    linear = nn.Linear(first.size(-1), NUM_LABELS)
    logits = linear(first)  # dropout is the identity in eval mode
    return {
        'classifier.weight': linear.weight,
        'classifier.bias': linear.bias,
        'in.labels': LABELS,
        'out.logits': logits,
        'out.ce': F.cross_entropy(logits, LABELS).reshape(1),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {'source': 'test/tools/paper_reference.py', 'torch': torch.__version__}
    for k, fusion in enumerate(['concat', 'attention', 'aspect-att', 'gmu']):
        t = late_fusion(fusion, seed=10 + k, with_grads=fusion == 'attention')
        write_safetensors(os.path.join(OUT, f'late-fusion-{fusion}.safetensors'), t, {**meta, 'fusion': fusion})
    write_safetensors(os.path.join(OUT, 'vilt.safetensors'), vilt(20), meta)
    write_safetensors(os.path.join(OUT, 'lxmert.safetensors'), lxmert(21), meta)
    write_safetensors(os.path.join(OUT, 'text-only.safetensors'), unimodal('bert', 'hidden_states.2', 30), meta)
    write_safetensors(os.path.join(OUT, 'image-only.safetensors'), unimodal('vit', 'last_hidden_state', 31), meta)
    print(f'wrote {sorted(os.listdir(OUT))}')


if __name__ == '__main__':
    main()

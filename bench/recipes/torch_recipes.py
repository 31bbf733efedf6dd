# PyTorch's side of bench/recipes: the late-fusion, ViLT and CLIP recipes as a PyTorch user would write them
# over transformers' model classes (BertModel + ViTModel, ViltModel, CLIPModel; their default attention), with
# the heads and objectives of tandem's recipes (docs/recipes.md): the same configs (the shapes file run.mjs
# writes), CE + ITC + ITM with convex weights 0.8 / 0.1 / 0.1, ITM on a batch where each text is swapped with
# another post's with probability 1/2 (late fusion and CLIP rerun only the fusion; ViLT runs a second joint
# pass), torch.optim.AdamW, fp32 or torch.autocast(bf16). Needs transformers (the PyTorch wheels on GPU
# machines have it; Debian's python3-torch does not). Prints one JSON line per recipe and precision.
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import BertConfig, BertModel, CLIPConfig, CLIPModel, ViltConfig, ViltModel, ViTConfig, ViTModel

args = dict(a.lstrip('-').split('=', 1) for a in sys.argv[1:])
shapes = json.load(open(args['shapes']))
device = args.get('device', 'cuda')
steps, warmup = int(args.get('steps', 10)), int(args.get('warmup', 3))
dev_type = 'cuda' if device.startswith('cuda') else 'cpu'
sync = torch.cuda.synchronize if dev_type == 'cuda' else (lambda: None)
SUB = {'textModel': 'text_config', 'imageModel': 'vision_config', 'model': 'model_config'}


def configs(shape):
    out = {}
    for key, folder in shape['folders'].items():
        c = json.load(open(f'{folder}/config.json'))
        for k, v in shape['overrides'].get(SUB[key], {}).items():
            if isinstance(v, dict) and isinstance(c.get(k), dict):
                c[k].update(v)
            else:
                c[k] = v
        out[SUB[key]] = c
    return out


def itc_loss(t, v, scale):
    t, v = F.normalize(t, dim=-1), F.normalize(v, dim=-1)
    logits = scale.exp().clamp(max=100) * t @ v.t()
    y = torch.arange(len(t), device=t.device)
    return (F.cross_entropy(logits, y) + F.cross_entropy(logits.t(), y)) / 2


def itm_pairs(b):
    coin = torch.rand(b)
    index, labels = list(range(b)), [1] * b
    for i in range(b):
        if coin[i] < 0.5:
            index[i], labels[i] = (i + 1 + int(torch.randint(b - 1, (1,)))) % b, 0
    return torch.tensor(index, device=device), torch.tensor(labels, device=device)


class Heads(nn.Module):
    """The classifier (dropout 0.05, linear), the ITM head (linear, no dropout) and the ITC temperature."""

    def __init__(self, width):
        super().__init__()
        self.drop, self.classifier, self.itm_head = nn.Dropout(0.05), nn.Linear(width, 3), nn.Linear(width, 2)
        self.logit_scale = nn.Parameter(torch.tensor(2.6592))

    def total(self, pair, labels, itc, matched_pair, itm_labels):
        ce = F.cross_entropy(self.classifier(self.drop(pair)), labels)
        itm = F.cross_entropy(self.itm_head(matched_pair), itm_labels)
        return 0.8 * ce + 0.1 * itc + 0.1 * itm


class LateFusion(Heads):
    def __init__(self, c):
        text, vision = BertConfig(**c['text_config']), ViTConfig(**c['vision_config'])
        super().__init__(text.hidden_size)
        self.text = BertModel(text)
        self.vision = ViTModel(vision).eval().requires_grad_(False)
        self.fusion = nn.Linear(text.hidden_size + vision.hidden_size, text.hidden_size)
        self.itc_text_proj = nn.Linear(text.hidden_size, 512, bias=False)
        self.itc_image_proj = nn.Linear(vision.hidden_size, 512, bias=False)

    def train(self, mode=True):
        super().train(mode)
        self.vision.eval()
        return self

    def loss(self, b):
        o = self.text(input_ids=b['input_ids'], attention_mask=b['attention_mask'], token_type_ids=b['token_type_ids'])
        with torch.no_grad():
            ov = self.vision(pixel_values=b['pixel_values'])
        t, v = o.last_hidden_state[:, 0], ov.last_hidden_state[:, 0]
        pair = F.relu(self.fusion(torch.cat([t, v], -1)))
        itc = itc_loss(self.itc_text_proj(o.pooler_output), self.itc_image_proj(ov.pooler_output), self.logit_scale)
        index, y = itm_pairs(len(t))
        swapped = F.relu(self.fusion(torch.cat([t[index], v], -1)))
        return self.total(pair, b['labels'], itc, swapped, y)


class Vilt(Heads):
    def __init__(self, c):
        cfg = ViltConfig(**c['model_config'])
        super().__init__(cfg.hidden_size)
        self.vilt = ViltModel(cfg)

    def loss(self, b):
        def joint(index=None):
            text = {k: b[k] if index is None else b[k][index] for k in ('input_ids', 'attention_mask', 'token_type_ids')}
            return self.vilt(**text, pixel_values=b['pixel_values'], pixel_mask=b['pixel_mask']).last_hidden_state

        h = joint()
        n = b['input_ids'].shape[1]
        itc = itc_loss(h[:, 0], h[:, n], self.logit_scale)
        index, y = itm_pairs(len(h))
        return self.total(h[:, 0], b['labels'], itc, joint(index)[:, 0], y)


class Clip(Heads):
    def __init__(self, c):
        m = c['model_config']
        cfg = CLIPConfig(text_config=m['text_config'], vision_config=m['vision_config'],
                         projection_dim=m['projection_dim'], logit_scale_init_value=m.get('logit_scale_init_value', 2.6592))
        super().__init__(cfg.projection_dim)
        self.clip = CLIPModel(cfg)
        self.fusion = nn.Linear(2 * cfg.projection_dim, cfg.projection_dim)

    def loss(self, b):
        o = self.clip(input_ids=b['input_ids'], attention_mask=b['attention_mask'], pixel_values=b['pixel_values'])
        t, v = F.normalize(o.text_embeds, dim=-1), F.normalize(o.image_embeds, dim=-1)
        pair = F.relu(self.fusion(torch.cat([t, v], -1)))
        itc = itc_loss(o.text_embeds, o.image_embeds, self.clip.logit_scale)
        index, y = itm_pairs(len(t))
        swapped = F.relu(self.fusion(torch.cat([t[index], v], -1)))
        return self.total(pair, b['labels'], itc, swapped, y)


MODELS = {'late-fusion': LateFusion, 'vilt': Vilt, 'clip': Clip}

for name in args.get('recipes', 'late-fusion,vilt,clip').split(','):
    s = shapes[name]
    torch.manual_seed(0)
    model = MODELS[name](configs(s)).to(device).train()
    B, L, S = s['batch'], s['seq'], s['image']
    batch = {
        'input_ids': torch.randint(5, s['vocab'], (B, L), device=device),
        'attention_mask': torch.ones(B, L, dtype=torch.long, device=device),
        'token_type_ids': torch.zeros(B, L, dtype=torch.long, device=device),
        'pixel_values': torch.randn(B, 3, S, S, device=device),
        'pixel_mask': torch.ones(B, S, S, dtype=torch.long, device=device),
        'labels': torch.randint(0, 3, (B,), device=device),
    }
    for precision in args.get('precisions', 'fp32,bf16').split(','):
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5, weight_decay=0.01)

        def one():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(dev_type, dtype=torch.bfloat16, enabled=precision == 'bf16'):
                loss = model.loss(batch)
            loss.backward()
            opt.step()

        for _ in range(warmup):
            one()
        sync()
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            one()
            sync()
            times.append(time.perf_counter() - t0)
        step = sorted(times)[len(times) // 2]
        print(json.dumps({'recipe': name, 'precision': precision, 'batch': B, 'step_s': step,
                          'samples_per_second': B / step}), flush=True)
    del model

# PyTorch's side of bench/models: the same BERT (BertForSequenceClassification) and ViT (ViTForImageClassification)
# architectures as src/models/bert.ts and src/models/vit.ts, written by hand in torch.nn (no transformers), with the
# same sizes, inputs, training mode and loss as step.ts. Prints one JSON line.
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

args = dict((a.lstrip('-').split('=') + [''])[:2] for a in sys.argv[1:])
num = lambda key, dflt: int(args.get(key, dflt))
model_name = args.get('model', 'bert')
batch, steps, warmup = num('batch', 8), num('steps', 5), num('warmup', 1)
layers, hidden, heads, inter = num('layers', 12), num('hidden', 768), num('heads', 12), num('intermediate', 3072)
seq, image, patch = num('seq', 128), num('image', 224), num('patch', 16)
num_labels = 2
precision, device = args.get('precision', 'fp32'), args.get('device', 'cpu')
low = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(precision)
dev_type = 'cuda' if device.startswith('cuda') else 'cpu'
sync = torch.cuda.synchronize if dev_type == 'cuda' else (lambda: None)
if steps < 1:
    sys.exit('bench/models/torch_models.py: --steps must be at least 1')
torch.set_num_threads(num('threads', torch.get_num_threads()))
torch.manual_seed(0)


def split_heads(x):
    b, l, _ = x.shape
    return x.view(b, l, heads, hidden // heads).transpose(1, 2)


def merge_heads(x):
    b, h, l, d = x.shape
    return x.transpose(1, 2).reshape(b, l, h * d)


class SelfAttention(nn.Module):
    """q/k/v projections, softmax(q k^T / sqrt(d) + mask) v, as transformers computes it in torch 1.13."""

    def __init__(self, p_drop):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(p_drop)

    def forward(self, x, mask=None):
        q, k, v = split_heads(self.query(x)), split_heads(self.key(x)), split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hidden // heads)
        if mask is not None:
            scores = scores + mask
        return merge_heads(torch.matmul(self.dropout(scores.softmax(-1)), v))


class BertLayer(nn.Module):
    """Post-LN: LN(x + drop(dense(attn(x)))), then LN(a + drop(out(gelu(inter(a)))))."""

    def __init__(self, p=0.1, eps=1e-12):
        super().__init__()
        self.attn = SelfAttention(p)
        self.attn_out, self.attn_ln = nn.Linear(hidden, hidden), nn.LayerNorm(hidden, eps=eps)
        self.inter, self.out = nn.Linear(hidden, inter), nn.Linear(inter, hidden)
        self.out_ln = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(p)

    def forward(self, x, mask):
        a = self.attn_ln(self.dropout(self.attn_out(self.attn(x, mask))) + x)
        return self.out_ln(self.dropout(self.out(F.gelu(self.inter(a)))) + a)


class BertForSequenceClassification(nn.Module):
    def __init__(self, vocab=30522, max_pos=512, types=2, p=0.1, eps=1e-12):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden, padding_idx=0)
        self.pos, self.token_type = nn.Embedding(max_pos, hidden), nn.Embedding(types, hidden)
        self.emb_ln, self.dropout = nn.LayerNorm(hidden, eps=eps), nn.Dropout(p)
        self.layers = nn.ModuleList([BertLayer(p, eps) for _ in range(layers)])
        self.pooler, self.classifier = nn.Linear(hidden, hidden), nn.Linear(hidden, num_labels)
        for m in self.modules():  # transformers' _init_weights
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0, 0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            self.word.weight[0].zero_()

    def forward(self, ids, attention_mask, token_type_ids, labels):
        l = ids.shape[1]
        pos = torch.arange(l, device=ids.device).view(1, l)
        h = self.dropout(self.emb_ln(self.word(ids) + self.token_type(token_type_ids) + self.pos(pos)))
        mask = (1.0 - attention_mask.to(torch.float32).view(ids.shape[0], 1, 1, l)) * torch.finfo(torch.float32).min
        for layer in self.layers:
            h = layer(h, mask)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return F.cross_entropy(self.classifier(self.dropout(pooled)), labels)


class ViTLayer(nn.Module):
    """Pre-LN: h = x + dense(attn(LN(x))), then h + out(gelu(inter(LN(h))))."""

    def __init__(self, eps=1e-12):
        super().__init__()
        self.ln_before, self.ln_after = nn.LayerNorm(hidden, eps=eps), nn.LayerNorm(hidden, eps=eps)
        self.attn, self.attn_out = SelfAttention(0.0), nn.Linear(hidden, hidden)
        self.inter, self.out = nn.Linear(hidden, inter), nn.Linear(inter, hidden)

    def forward(self, x):
        h = self.attn_out(self.attn(self.ln_before(x))) + x
        return self.out(F.gelu(self.inter(self.ln_after(h)))) + h


class ViTForImageClassification(nn.Module):
    def __init__(self, eps=1e-12):
        super().__init__()
        n = (image // patch) ** 2
        self.projection = nn.Conv2d(3, hidden, patch, stride=patch)
        self.cls_token = nn.Parameter(nn.init.trunc_normal_(torch.zeros(1, 1, hidden), std=0.02))
        self.position_embeddings = nn.Parameter(nn.init.trunc_normal_(torch.zeros(1, n + 1, hidden), std=0.02))
        self.layers = nn.ModuleList([ViTLayer(eps) for _ in range(layers)])
        self.layernorm = nn.LayerNorm(hidden, eps=eps)
        self.classifier = nn.Linear(hidden, num_labels)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, pixels, labels):
        x = self.projection(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], 1, hidden), x], 1) + self.position_embeddings
        for layer in self.layers:
            x = layer(x)
        return F.cross_entropy(self.classifier(self.layernorm(x)[:, 0]), labels)


if model_name == 'bert':
    net = BertForSequenceClassification()
    data = (torch.randint(0, 30522, (batch, seq)), torch.ones(batch, seq, dtype=torch.int64),
            torch.randint(0, 2, (batch, seq)), torch.randint(0, num_labels, (batch,)))
elif model_name == 'vit':
    net = ViTForImageClassification()
    data = (torch.randn(batch, 3, image, image), torch.randint(0, num_labels, (batch,)))
else:
    sys.exit(f'bench/models/torch_models.py: --model must be bert or vit, got {model_name}')
net.train()
net.to(device)
data = tuple(t.to(device) for t in data)


def step():
    for p in net.parameters():  # as tandem's zeroGrad: drop the gradients
        p.grad = None
    c0 = time.process_time()  # CPU time of all the process's threads, as tandem's cpu_ms
    t0 = time.perf_counter()
    with torch.autocast(dev_type, dtype=low or torch.bfloat16, enabled=low is not None):
        loss = net(*data)
    loss.item()
    t1 = time.perf_counter()
    loss.backward()
    sync()
    t2 = time.perf_counter()
    return {'forward_ms': (t1 - t0) * 1000, 'backward_ms': (t2 - t1) * 1000, 'cpu_ms': (time.process_time() - c0) * 1000}


def peak_rss_mib():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
    return float('nan')


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def summary():
    return {'engine': f'PyTorch {torch.__version__} {precision}', 'model': model_name, 'threads': torch.get_num_threads(),
            'params': sum(p.numel() for p in net.parameters()), 'batch': batch, 'peak_rss_mib': peak_rss_mib()}


if 'serve' in args:
    # Driven by run.mjs (see step.ts): "step" runs one step, "done" prints the summary.
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'step':
            print(json.dumps(step()), flush=True)
        elif cmd == 'done':
            print(json.dumps(summary()), flush=True)
            break
        else:
            sys.exit(f'bench/models/torch_models.py: unknown command {cmd!r} (expected step or done)')
else:
    for _ in range(warmup):
        step()
    done = [step() for _ in range(steps)]
    total = [t['forward_ms'] + t['backward_ms'] for t in done]
    print(json.dumps({**summary(), 'step_ms_median': median(total), 'step_ms_min': min(total),
                      'forward_ms_median': median([t['forward_ms'] for t in done]),
                      'backward_ms_median': median([t['backward_ms'] for t in done]),
                      'cpu_ms_median': median([t['cpu_ms'] for t in done])}))

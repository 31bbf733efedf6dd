# PyTorch's side of bench/engine: the same model, data sizes and optimiser as step.ts, written in torch.nn;
# bf16/fp16 steps under torch.autocast. Alone it prints one JSON line for --precision; with --serve it answers
# run.mjs's commands ("matmul P", "step P", "done"). --device=cuda on a GPU.
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

args = dict((a.lstrip('-').split('=') + [''])[:2] for a in sys.argv[1:])
steps, warmup = int(args.get('steps', 20)), int(args.get('warmup', 5))
threads = int(args.get('threads', torch.get_num_threads()))
device = args.get('device', 'cpu')
dev_type = 'cuda' if device.startswith('cuda') else 'cpu'
sync = torch.cuda.synchronize if dev_type == 'cuda' else (lambda: None)
LOW = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
torch.set_num_threads(threads)
torch.manual_seed(0)


def precision_of(p):
    if p not in LOW:
        sys.exit(f'bench/engine/torch_step.py: unknown precision {p!r} (expected fp32, bf16 or fp16)')
    return p


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(256, 4, batch_first=True)
        self.ln1 = nn.LayerNorm(256)
        self.fc1 = nn.Linear(256, 1024)
        self.fc2 = nn.Linear(1024, 256)
        self.ln2 = nn.LayerNorm(256)
    def forward(self, x):
        h = self.ln1(x + self.attn(x, x, x, need_weights=False)[0])
        return self.ln2(h + self.fc2(F.gelu(self.fc1(h))))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 256)
        self.layers = nn.ModuleList([Layer() for _ in range(4)])
        self.head = nn.Linear(256, 4)
    def forward(self, ids):
        x = self.emb(ids)
        for l in self.layers:
            x = l(x)
        return self.head(x.mean(1))

def peak_rss_mib():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
    return float('nan')

n = 1024
a32, b32 = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
operands = {}


def operands_in(p):
    if p not in operands:
        a, b = a32.to(LOW[p] or torch.float32), b32.to(LOW[p] or torch.float32)
        (a @ b).sum().item()
        operands[p] = (a, b)
    return operands[p]


def matmul_gflops(p, reps=5):
    # The result's sum read back, as tandem's side does.
    a, b = operands_in(p)
    t0 = time.perf_counter()
    for _ in range(reps):
        (a @ b).sum().item()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


net = Net().to(device)
opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
ids = torch.randint(0, 1000, (32, 64), device=device)
labels = torch.randint(0, 4, (32,), device=device)


def step(p):
    t0 = time.perf_counter()
    opt.zero_grad()
    with torch.autocast(dev_type, dtype=LOW[p] or torch.bfloat16, enabled=LOW[p] is not None):
        loss = F.cross_entropy(net(ids), labels)
    loss.backward()
    opt.step()
    loss.item()
    sync()
    return (time.perf_counter() - t0) * 1000


def summary():
    return {'engine': f'PyTorch {torch.__version__}', 'device': device, 'threads': torch.get_num_threads(),
            'peak_rss_mib': peak_rss_mib()}


if 'serve' in args:
    # Driven by run.mjs (see step.ts): "matmul P", "step P", "done".
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        cmd, *rest = line.split()
        p = precision_of(rest[0] if rest else 'fp32')
        if cmd == 'matmul':
            print(json.dumps({'gflops': matmul_gflops(p)}), flush=True)
        elif cmd == 'step':
            print(json.dumps({'ms': step(p)}), flush=True)
        elif cmd == 'done':
            print(json.dumps(summary()), flush=True)
            break
        else:
            sys.exit(f'bench/engine/torch_step.py: unknown command {cmd!r} (expected matmul P, step P or done)')
else:
    p = precision_of(args.get('precision', 'fp32'))
    gflops = matmul_gflops(p, 10)
    for _ in range(warmup):
        step(p)
    times = sorted(step(p) for _ in range(steps))
    print(json.dumps({**summary(), 'precision': p, 'matmul_gflops': gflops, 'step_ms_median': times[len(times) // 2],
                      'step_ms_min': times[0]}))

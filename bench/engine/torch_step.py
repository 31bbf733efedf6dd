# PyTorch's side of bench/engine: the same model, data sizes and optimiser as step.ts, written in torch.nn.
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

args = dict((a.lstrip('-').split('=') + [''])[:2] for a in sys.argv[1:])
steps, warmup = int(args.get('steps', 20)), int(args.get('warmup', 5))
threads = int(args.get('threads', torch.get_num_threads()))
torch.set_num_threads(threads)
torch.manual_seed(0)

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
a, b = torch.randn(n, n), torch.randn(n, n)
(a @ b).sum().item()


def matmul_gflops(reps=5):
    # The result's sum read back, as tandem's side does.
    t0 = time.perf_counter()
    for _ in range(reps):
        (a @ b).sum().item()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


net = Net()
opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
ids = torch.randint(0, 1000, (32, 64))
labels = torch.randint(0, 4, (32,))


def step():
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = F.cross_entropy(net(ids), labels)
    loss.backward()
    opt.step()
    loss.item()
    return (time.perf_counter() - t0) * 1000


def summary():
    return {'engine': f'PyTorch {torch.__version__}', 'threads': torch.get_num_threads(), 'peak_rss_mib': peak_rss_mib()}


if 'serve' in args:
    # Driven by run.mjs (see step.ts): "matmul", "step", "done".
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'matmul':
            print(json.dumps({'gflops': matmul_gflops()}), flush=True)
        elif cmd == 'step':
            print(json.dumps({'ms': step()}), flush=True)
        elif cmd == 'done':
            print(json.dumps(summary()), flush=True)
            break
        else:
            sys.exit(f'bench/engine/torch_step.py: unknown command {cmd!r} (expected matmul, step or done)')
else:
    gflops = matmul_gflops(10)
    for _ in range(warmup):
        step()
    times = sorted(step() for _ in range(steps))
    print(json.dumps({**summary(), 'matmul_gflops': gflops, 'step_ms_median': times[len(times) // 2],
                      'step_ms_min': times[0]}))

# PyTorch's side of bench/engine: the same model, data sizes and optimiser as step.ts, written in torch.nn.
# --precision=bf16: the matmul in bf16, forward and loss under torch.autocast; --device=cuda on a GPU.
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

args = dict(a.lstrip('-').split('=') for a in sys.argv[1:])
steps, warmup = int(args.get('steps', 20)), int(args.get('warmup', 5))
threads = int(args.get('threads', torch.get_num_threads()))
precision, device = args.get('precision', 'fp32'), args.get('device', 'cpu')
low = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(precision)
dev_type = 'cuda' if device.startswith('cuda') else 'cpu'
sync = torch.cuda.synchronize if dev_type == 'cuda' else (lambda: None)
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
a, b = torch.randn(n, n, device=device).to(low or torch.float32), torch.randn(n, n, device=device).to(low or torch.float32)
(a @ b).sum().item()
t0 = time.perf_counter()
for _ in range(10):
    (a @ b).sum().item()
gflops = 2 * n ** 3 * 10 / (time.perf_counter() - t0) / 1e9

net = Net().to(device)
opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
ids = torch.randint(0, 1000, (32, 64), device=device)
labels = torch.randint(0, 4, (32,), device=device)
def step():
    opt.zero_grad()
    with torch.autocast(dev_type, dtype=low or torch.bfloat16, enabled=low is not None):
        loss = F.cross_entropy(net(ids), labels)
    loss.backward()
    opt.step()
    return loss.item()
for _ in range(warmup):
    step()
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    sync()
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({'engine': f'PyTorch {torch.__version__} {precision}', 'precision': precision, 'device': device, 'threads': torch.get_num_threads(), 'matmul_gflops': gflops,
                  'step_ms_median': times[len(times) // 2], 'step_ms_min': times[0], 'peak_rss_mib': peak_rss_mib()}))

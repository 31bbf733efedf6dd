// Data parallelism on PyTorch's own distributed engine (c10d): rendezvous through a TCPStore, a Gloo process
// group on CPU (NCCL where the libtorch was built with it and the tensors are on CUDA), and the collectives a
// training loop needs (all-reduce, all-gather, broadcast), each waited on with a timeout so that a
// lost peer becomes an error instead of a hang. One process group per process, as torch.distributed's
// default group.
#include "common.h"

// Gloo's headers come with Debian's libgloo-dev (PyTorch wheels ship none); NCCL's where the libtorch is a CUDA
// build and the build defines TANDEM_NCCL (scripts/torch-config.mjs, scripts/device-check.sh). An addon with
// neither has dist_* functions that say so.
#if __has_include(<gloo/algorithm.h>)
#define TANDEM_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define TANDEM_GLOO 0
#endif
#ifndef TANDEM_NCCL
#define TANDEM_NCCL 0
#endif
#if TANDEM_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#define TANDEM_C10D (TANDEM_GLOO || TANDEM_NCCL)
#if TANDEM_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#endif

#include <chrono>
#include <memory>
#include <mutex>

using namespace tandem;

#if TANDEM_C10D
namespace {

// libtorch 2.x runs collectives on a Backend (ProcessGroupGloo/NCCL derive from it); 1.13 on a ProcessGroup.
#if TANDEM_TORCH2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> pg;
  std::string backend;
  int rank = 0;
  int world = 1;
  std::chrono::milliseconds timeout{60000};
  bool cuda = false;  // NCCL: collectives take tensors on this process's GPU
};

std::unique_ptr<Group>& group() {
  static std::unique_ptr<Group> g;
  return g;
}

Group& need_group(const char* op) {
  auto& g = group();
  if (!g) throw ArgError(std::string(op) + ": no process group (call dist_init first)");
  return *g;
}

void wait(const c10::intrusive_ptr<c10d::Work>& work, const Group& g, const char* op) {
  try {
    work->wait(g.timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(op) + " failed on rank " + std::to_string(g.rank) + ": " + e.what());
  }
}

// An all-reduce on the group, bounded by its timeout (the caller waits on the work).
c10::intrusive_ptr<c10d::Work> all_reduce(Group& g, std::vector<torch::Tensor>& ts, c10d::ReduceOp op = c10d::ReduceOp::SUM) {
  c10d::AllreduceOptions o;
  o.reduceOp = op;
  o.timeout = g.timeout;
  return g.pg->allreduce(ts, o);
}

struct Reducer;
std::shared_ptr<Reducer>& reducer();  // below, with the reducer

c10d::ReduceOp reduce_op(const std::string& name) {
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  throw ArgError("unknown reduce op '" + name + "' (sum, max, min)");
}

}  // namespace

// dist_init(masterAddr, masterPort, rank, worldSize, timeoutMs, backend, isServer, prefix): the store's server
// is rank 0, or a launcher's agent (torchrun serves one and its workers connect as clients); keys live under
// `prefix` (one per launcher attempt, so a restarted job does not read an earlier attempt's keys). Every rank
// waits for the others (up to the timeout), then joins the process group.
OP(dist_init) {
  auto& g = group();
  if (g) throw ArgError("dist_init: a process group already exists in this process");
  std::string addr = S(info, 0);
  int64_t port = I(info, 1), rank = I(info, 2), world = I(info, 3), timeout_ms = I(info, 4);
  std::string backend = S(info, 5);
  bool is_server = B(info, 6);
  std::string prefix = S(info, 7);
  if (port < 1 || port > 65535) throw ArgError("dist_init: port must be in 1..65535");
  if (world < 1 || rank < 0 || rank >= world) throw ArgError("dist_init: need 0 <= rank < world size");
  auto out = std::make_unique<Group>();
  out->rank = (int)rank;
  out->world = (int)world;
  out->timeout = std::chrono::milliseconds(timeout_ms);
  out->backend = backend;
  c10d::TCPStoreOptions so;
  so.port = (std::uint16_t)port;
  so.isServer = is_server;
  so.numWorkers = (std::size_t)world;
  so.waitWorkers = true;
  so.timeout = out->timeout;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(addr, so);
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(prefix, tcp);
  out->store = prefixed;
  if (backend == "gloo") {
#if TANDEM_GLOO
    auto opts = c10d::ProcessGroupGloo::Options::create(out->timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
    out->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("default_pg", prefixed), (int)rank, (int)world, opts);
#else
    throw ArgError("dist_init: this build of the addon has no Gloo (its libtorch came without Gloo's headers: install libgloo-dev and rebuild, or use --dist-backend nccl on GPUs)");
#endif
  } else if (backend == "nccl") {
#if TANDEM_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = out->timeout;
    out->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        c10::make_intrusive<c10d::PrefixStore>("default_pg", prefixed), (int)rank, (int)world, opts);
    out->cuda = true;
#else
    throw ArgError("dist_init: this build of the addon has no NCCL (build it against a CUDA libtorch)");
#endif
  } else {
    throw ArgError("dist_init: backend must be 'gloo' or 'nccl', got '" + backend + "'");
  }
  g = std::move(out);
  return env.Undefined();
}

OP(dist_is_initialized) { return Napi::Boolean::New(env, (bool)group()); }

OP(dist_destroy) {
  reducer().reset();
  group().reset();
  return env.Undefined();
}

// dist_store_set(key, value) / dist_store_get(key) -> string: small values shared through the store
// (process ids for naming a lost peer, the run's settings for a consistency check).
OP(dist_store_set) {
  auto& g = need_group("dist_store_set");
  std::string v = S(info, 1);
  g.store->set(S(info, 0), std::vector<uint8_t>(v.begin(), v.end()));
  return env.Undefined();
}
OP(dist_store_get) {
  auto& g = need_group("dist_store_get");
  auto v = g.store->get(S(info, 0));
  return Napi::String::New(env, std::string(v.begin(), v.end()));
}

// dist_all_reduce([tensor], op): in place. c10d's list holds one tensor per local device, so callers pass one
// (flattened) tensor.
OP(dist_all_reduce) {
  auto& g = need_group("dist_all_reduce");
  auto ts = TL(info, 0);
  wait(all_reduce(g, ts, reduce_op(S(info, 1))), g, "all_reduce");
  return env.Undefined();
}

// dist_all_gather(tensor) -> [world, ...shape]: every rank's tensor (same shape on all ranks), stacked.
OP(dist_all_gather) {
  auto& g = need_group("dist_all_gather");
  auto t = T(info, 0).contiguous();
  std::vector<torch::Tensor> outs;
  for (int r = 0; r < g.world; r++) outs.push_back(torch::empty_like(t));
  std::vector<std::vector<torch::Tensor>> out_lists{outs};
  std::vector<torch::Tensor> in{t};
  wait(g.pg->allgather(out_lists, in), g, "all_gather");
  return W(env, torch::stack(out_lists[0], 0));
}

// dist_broadcast([tensor], root): in place from root (one tensor, as dist_all_reduce).
OP(dist_broadcast) {
  auto& g = need_group("dist_broadcast");
  auto ts = TL(info, 0);
  c10d::BroadcastOptions o;
  o.rootRank = I(info, 1);
  o.timeout = g.timeout;
  wait(g.pg->broadcast(ts, o), g, "broadcast");
  return env.Undefined();
}

namespace {

// ---- gradients averaged while backward runs, as DistributedDataParallel's reducer ----
// The parameters are put in buckets of about bucket_bytes (one dtype and device each) in reverse order, roughly
// the order backward produces their gradients. A hook after each parameter's gradient accumulation counts it
// ready; when the next bucket in order has all its gradients, its all-reduce starts at once (buckets start in
// the same order on every rank, as collectives must), while backward goes on. dist_reducer_finish starts what
// is left, waits, and writes the averages into the gradients. Parameters that got no gradient in the first
// step (on any rank) go to trailing buckets reduced after backward, so an unused one does not hold the others
// back; a parameter without a gradient keeps none (zeros stand in for it in the all-reduce).
struct Reducer {
  std::vector<torch::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // the hooks live on these
  int64_t bucket_bytes = 0;
  std::vector<std::vector<size_t>> buckets;
  size_t live = 0;                 // buckets [0, live) can start during backward
  std::vector<int64_t> bucket_of;  // parameter -> its bucket if below live, else -1
  std::vector<size_t> pending;     // per bucket: gradients still to come in this backward
  std::vector<bool> seen;
  std::vector<torch::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;
  bool armed = false, planned = false;
  int64_t early = 0;  // buckets started during backward
  std::mutex mu;
};

std::shared_ptr<Reducer>& reducer() {
  static std::shared_ptr<Reducer> r;
  return r;
}

void plan(Reducer& r, const std::vector<bool>& used) {
  r.buckets.clear();
  auto fill = [&](bool want) {
    std::vector<size_t> cur;
    int64_t bytes = 0;
    for (size_t k = r.params.size(); k-- > 0;) {
      if (used[k] != want) continue;
      const auto& p = r.params[k];
      int64_t size = p.numel() * (int64_t)p.element_size();
      if (!cur.empty()) {
        const auto& first = r.params[cur[0]];
        if (bytes + size > r.bucket_bytes || p.scalar_type() != first.scalar_type() || p.device() != first.device()) {
          r.buckets.push_back(cur);
          cur.clear();
          bytes = 0;
        }
      }
      cur.push_back(k);
      bytes += size;
    }
    if (!cur.empty()) r.buckets.push_back(cur);
  };
  fill(true);
  r.live = r.buckets.size();
  fill(false);
  r.bucket_of.assign(r.params.size(), -1);
  for (size_t b = 0; b < r.live; b++)
    for (auto k : r.buckets[b]) r.bucket_of[k] = (int64_t)b;
  r.flats.assign(r.buckets.size(), torch::Tensor());
  r.works.assign(r.buckets.size(), {});
}

void reset(Reducer& r) {
  r.pending.resize(r.buckets.size());
  for (size_t b = 0; b < r.buckets.size(); b++) r.pending[b] = r.buckets[b].size();
  r.seen.assign(r.params.size(), false);
  r.next = 0;
  r.early = 0;
}

void launch(Reducer& r, size_t b, Group& g) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (auto k : r.buckets[b]) {
    const auto& p = r.params[k];
    const auto& grad = p.grad();
    parts.push_back(grad.defined() ? grad.reshape(-1) : torch::zeros({p.numel()}, p.options()));
  }
  r.flats[b] = torch::cat(parts);
  std::vector<torch::Tensor> ts{r.flats[b]};
  r.works[b] = all_reduce(g, ts);
}

void on_ready(Reducer& r, size_t k) {
  std::lock_guard<std::mutex> lock(r.mu);
  auto& g = group();
  if (!r.armed || !g || r.seen[k]) return;
  r.seen[k] = true;
  auto b = r.bucket_of[k];
  if (b < 0 || --r.pending[b] > 0) return;
  while (r.next < r.live && r.pending[r.next] == 0) {
    launch(r, r.next++, *g);
    r.early++;
  }
}

}  // namespace

// dist_reducer_init([params], bucketBytes): the reducer for these parameters (leaves that require grad),
// replacing any earlier one; its hooks stay on the parameters and do nothing unless armed.
OP(dist_reducer_init) {
  need_group("dist_reducer_init");
  auto r = std::make_shared<Reducer>();
  r->params = TL(info, 0);
  r->bucket_bytes = I(info, 1);
  if (r->bucket_bytes < 1) throw ArgError("dist_reducer_init: bucketBytes must be positive");
  std::weak_ptr<Reducer> weak = r;
  for (size_t k = 0; k < r->params.size(); k++) {
    const auto& p = r->params[k];
    if (!p.is_leaf() || !p.requires_grad())
      throw ArgError("dist_reducer_init: parameter " + std::to_string(k) + " is not a leaf that requires grad");
    auto acc = torch::autograd::impl::grad_accumulator(p);
    acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, k](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          if (auto rr = weak.lock()) on_ready(*rr, k);
          return outputs;
        }));
    r->accumulators.push_back(std::move(acc));
  }
  plan(*r, std::vector<bool>(r->params.size(), true));
  reset(*r);
  reducer() = r;
  return env.Undefined();
}

// dist_reducer_prepare(): arms the hooks for the next backward (the last of an accumulation step).
OP(dist_reducer_prepare) {
  auto r = reducer();
  if (!r) throw ArgError("dist_reducer_prepare: no reducer (call dist_reducer_init first)");
  std::lock_guard<std::mutex> lock(r->mu);
  reset(*r);
  r->armed = true;
  return env.Undefined();
}

// dist_reducer_finish() -> buckets started during backward: starts the rest, waits for all, and leaves each
// parameter's gradient averaged over the ranks.
OP(dist_reducer_finish) {
  auto& g = need_group("dist_reducer_finish");
  auto r = reducer();
  if (!r) throw ArgError("dist_reducer_finish: no reducer (call dist_reducer_init first)");
  std::lock_guard<std::mutex> lock(r->mu);
  if (!r->armed) throw ArgError("dist_reducer_finish: dist_reducer_prepare was not called before backward");
  r->armed = false;
  torch::NoGradGuard no_grad;
  for (size_t b = r->next; b < r->buckets.size(); b++) launch(*r, b, g);
  int64_t early = r->early;
  for (size_t b = 0; b < r->buckets.size(); b++) {
    wait(r->works[b], g, "gradient all_reduce");
    auto& flat = r->flats[b];
    flat.div_(g.world);
    int64_t at = 0;
    for (auto k : r->buckets[b]) {
      auto& p = r->params[k];
      auto grad = p.grad();
      if (grad.defined()) grad.copy_(flat.narrow(0, at, p.numel()).view_as(grad));
      at += p.numel();
    }
    flat = torch::Tensor();
    r->works[b].reset();
  }
  if (!r->planned) {
    // The first step shows which parameters get gradients; every rank must bucket alike, so a parameter
    // counts as used only where it is used on all ranks.
    auto used = torch::empty({(int64_t)r->params.size()}, torch::TensorOptions().dtype(torch::kInt32));
    for (size_t k = 0; k < r->params.size(); k++) used[k] = r->params[k].grad().defined() ? 1 : 0;
    auto where = r->params.empty() ? used : used.to(r->params[0].device());
    std::vector<torch::Tensor> ts{where};
    wait(all_reduce(g, ts, c10d::ReduceOp::MIN), g, "reducer plan");
    auto agreed = where.to(torch::kCPU);
    std::vector<bool> mask(r->params.size());
    for (size_t k = 0; k < mask.size(); k++) mask[k] = agreed[k].item<int>() != 0;
    plan(*r, mask);
    r->planned = true;
  }
  reset(*r);
  return Napi::Number::New(env, (double)early);
}

#else
static Napi::Value no_gloo(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(), "data parallelism: this addon was built with neither Gloo (a libtorch without Gloo's headers: install libgloo-dev and rebuild) nor NCCL (a CUDA libtorch, TANDEM_NCCL=1)");
}
#define NO_GLOO(NAME) \
  OP(NAME) { return no_gloo(info); }
NO_GLOO(dist_init)
NO_GLOO(dist_store_set)
NO_GLOO(dist_store_get)
NO_GLOO(dist_all_reduce)
NO_GLOO(dist_reducer_init)
NO_GLOO(dist_reducer_prepare)
NO_GLOO(dist_reducer_finish)
NO_GLOO(dist_all_gather)
NO_GLOO(dist_broadcast)
OP(dist_is_initialized) { return Napi::Boolean::New(env, false); }
OP(dist_destroy) { return env.Undefined(); }
#endif

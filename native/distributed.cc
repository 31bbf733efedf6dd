// Data parallelism on PyTorch's own distributed engine (c10d): rendezvous through a TCPStore, a Gloo process
// group on CPU (NCCL where the libtorch was built with it and the tensors are on CUDA), and the collectives a
// training loop needs (all-reduce, all-gather, broadcast, barrier), each waited on with a timeout so that a
// lost peer becomes an error instead of a hang. One process group per process, as torch.distributed's
// default group.
#include "common.h"

// Gloo's headers come with Debian's libgloo-dev and inside PyTorch wheels; a libtorch without them builds an
// addon whose dist_* functions say so.
#if __has_include(<gloo/algorithm.h>)
#define TANDEM_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if TANDEM_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#else
#define TANDEM_GLOO 0
#endif

#include <chrono>
#include <memory>

using namespace tandem;

#if TANDEM_GLOO
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
    auto opts = c10d::ProcessGroupGloo::Options::create(out->timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
    out->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("default_pg", prefixed), (int)rank, (int)world, opts);
  } else if (backend == "nccl") {
#if TANDEM_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = out->timeout;
    out->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        c10::make_intrusive<c10d::PrefixStore>("default_pg", prefixed), (int)rank, (int)world, opts);
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
  c10d::AllreduceOptions o;
  o.reduceOp = reduce_op(S(info, 1));
  o.timeout = g.timeout;
  wait(g.pg->allreduce(ts, o), g, "all_reduce");
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

OP(dist_barrier) {
  auto& g = need_group("dist_barrier");
  // A barrier as an all-reduce of one number: Gloo's barrier ignores the timeout of its options in 1.13.
  std::vector<torch::Tensor> one{torch::zeros({1})};
  c10d::AllreduceOptions o;
  o.timeout = g.timeout;
  wait(g.pg->allreduce(one, o), g, "barrier");
  return env.Undefined();
}
#else
static Napi::Value no_gloo(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(), "data parallelism: this addon was built against a libtorch without c10d's Gloo headers (install libgloo-dev and rebuild)");
}
#define NO_GLOO(NAME) \
  OP(NAME) { return no_gloo(info); }
NO_GLOO(dist_init)
NO_GLOO(dist_store_set)
NO_GLOO(dist_store_get)
NO_GLOO(dist_all_reduce)
NO_GLOO(dist_all_gather)
NO_GLOO(dist_broadcast)
NO_GLOO(dist_barrier)
OP(dist_is_initialized) { return Napi::Boolean::New(env, false); }
OP(dist_destroy) { return env.Undefined(); }
#endif

// store_bench: cairn::Store against raw LMDB doing the same work with the same durability, in the same
// run, on the same disk. Run by hand (never as a test); docs/BENCHMARKS.md records the figures and the
// command that reproduces them.
//
//   store_bench [--keys=N] [--group-threads=1,8,64] [--group-puts=A,B,C] [--group-seconds=S]
//               [--nosync-threads=1,8]
//               [--get-threads=1,2] [--gets=N] [--rounds=N] [--scan-rounds=N] [--big-set=N] [--small-sets=N]
//               [--set-ops=N] [--lookups=N] [--opens=N] [--dir=/tmp] [--phases=group,nosync,...] [--keep]
//               [--verbose]
//
// Phases (all by default): group (Durability::kGroup puts, 1/8/64 writer threads), nosync
// (Durability::kNoSync puts; its last run fills the store the next three phases read), get, scan, open,
// set (sadd/sismember on a small vs a huge set).
//
// Commits are counted from LMDB's transaction id: with the store closed, a read-only LMDB environment
// on its directory reports me_last_txnid; the difference across a run is the number of write
// transactions the store committed (nested transactions do not count; each top-level commit does).
// The raw-LMDB baseline then commits the same puts in exactly as many transactions.
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "bench/store_bench/store_bench.h"

using namespace store_bench;

int main(int argc, char** argv) {
  Context ctx;
  ctx.args = parse_args(argc, argv);
  std::size_t needed = ctx.args.keys;
  for (std::size_t puts : ctx.args.group_puts) needed = std::max(needed, puts);
  std::string root_template = ctx.args.dir + "/store_bench.XXXXXX";
  if (mkdtemp(root_template.data()) == nullptr) die("cannot create a directory under " + ctx.args.dir);
  ctx.root = root_template;

  std::printf("store_bench: data under %s; load average at start %s; %u hardware threads\n", ctx.root.c_str(),
              load_average().c_str(), std::thread::hardware_concurrency());
  const auto start = Clock::now();
  ctx.keys = random_strings(needed, 16, 1);
  ctx.values = random_strings(1024, 100, 2);
  std::printf("%zu random 16-byte keys, 100-byte values\n", ctx.keys.size());
  std::fflush(stdout);

  const auto& phases = ctx.args.phases;
  if (phases.contains("group")) group_phase(ctx);
  if (phases.contains("nosync")) nosync_phase(ctx);
  if (phases.contains("get")) get_phase(ctx);
  if (phases.contains("scan")) scan_phase(ctx);
  if (phases.contains("open")) open_phase(ctx);
  if (phases.contains("set")) set_phase(ctx);

  print_table();
  std::printf("\nload average at end %s; total %.0f s\n", load_average().c_str(), seconds_since(start));
  if (ctx.args.keep) {
    std::printf("kept %s\n", ctx.root.c_str());
  } else {
    fs::remove_all(ctx.root);
  }
  return 0;
}

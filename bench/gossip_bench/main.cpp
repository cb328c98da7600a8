// gossip_bench: how fast a write reaches every peer, and what it costs on the wire. Run by hand (never as
// a test); docs/BENCHMARKS.md ("Gossip convergence") records the figures and the command.
//
//   gossip_bench [--phases=loopback,sim,payload] [--dir=/tmp] [--seed=1]
//                [--loopback-peers=3,10] [--intervals=200,50] [--writes=200] [--durability=group|nosync]
//                [--sim-peers=50,200] [--sim-loss-percent=0,10] [--sim-writes=20] [--sim-value-bytes=100]
//                [--payload-peers=10] [--payload-sizes=16,1024,65536,1048576] [--payload-writes=10]
//                [--scale-peers=200,1000] [--scale-writes=5] [--stall-peers=50] [--stall-seconds=120]
//
// Phases:
//   loopback  N real cairn::Node peers in this process on 127.0.0.1, each with its own libuv loop.
//             Sequential writes of a fresh key at a random peer; the latency is from just before the put
//             until every peer's store().get sees the key (all peers polled every 1 ms, steady_clock).
//   sim       sim::Cluster (real stores, the real protocol, a seeded network, virtual time). Per write:
//             gossip rounds until every peer has it, and the stream bytes (all of them: only dissemination
//             uses streams) sent from just before the write until (a) every peer has it and (b) the
//             cluster is quiescent again (every push acknowledged, nothing in flight). Background
//             membership datagram bytes per second are measured over a quiet stretch for context.
//   payload   The same in a small simulated cluster, for growing value sizes: stream bytes per update
//   scale     (not by default) The simulator at 200 to 10,000 peers: virtual time to full membership,
//             rounds per write, per-peer frames and bytes per second without and with 10 writes/s,
//             settling after a 10% join and a 10% crash, simulated events per wall second.
//   stall     (not by default) Deaths declared when a random peer stalls 1-5 s every 2 s (no crashes:
//             every death is false), plain SWIM against Lifeguard (gossip/membership.h).
#include <cstdio>
#include <exception>
#include <thread>

#include "bench/gossip_bench/gossip_bench.h"

using namespace gossip_bench;

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  std::printf("gossip_bench: scratch dirs under %s; load average at start %s; %u hardware threads\n",
              args.dir.c_str(), load_average().c_str(), std::thread::hardware_concurrency());
  std::fflush(stdout);
  const auto start = Clock::now();
  try {
    if (args.phases.contains("loopback")) loopback_phase(args);
    if (args.phases.contains("sim")) sim_phase(args);
    if (args.phases.contains("payload")) payload_phase(args);
    if (args.phases.contains("scale")) scale_phase(args);
    if (args.phases.contains("stall")) stall_phase(args);
  } catch (const std::exception& error) {  // fail(), or sim::Cluster when a peer's store fails to open.
    die(error.what());
  }
  std::printf("\n== summary\n");
  for (const Table* table : {&g_loopback, &g_sim, &g_membership, &g_payload, &g_scale, &g_stall}) print_table(*table);
  std::printf("\nload average at end %s; total %.0f s\n", load_average().c_str(), seconds_since(start));
  return 0;
}

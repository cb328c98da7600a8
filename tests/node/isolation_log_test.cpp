// The warnings of a peer that reaches nobody (src/node/isolation_log.h).
#include <catch2/catch.hpp>

#include "src/node/isolation_log.h"

namespace cairn::node {
namespace {

TEST_CASE("isolation log: silent seeds are reported after 3 s, again every minute, and the end once") {
  IsolationLog log({"127.0.0.1:7400"});
  CHECK_FALSE(log.update(std::nullopt, 0));
  CHECK_FALSE(log.update(1'000, 1'000));
  CHECK_FALSE(log.update(1'000, 3'999));
  const auto first = log.update(1'000, 4'000);
  REQUIRE(first);
  CHECK(first->warning);
  CHECK(first->text ==
        "no answer from seed 127.0.0.1:7400 after 3 s; still trying every 5 s. Check the address, the cluster name "
        "(--cluster) and the cluster key (--cluster-key-file) on both sides: a seed logs the frames it drops and why");
  CHECK_FALSE(log.update(1'000, 30'000));
  const auto repeat = log.update(1'000, 64'000);
  REQUIRE(repeat);
  CHECK(repeat->text.find("after 1 min 3 s") != std::string::npos);
  const auto ended = log.update(std::nullopt, 70'000);
  REQUIRE(ended);
  CHECK_FALSE(ended->warning);
  CHECK(ended->text == "reached the cluster again after about 1 min 9 s without any member");
  CHECK_FALSE(log.update(std::nullopt, 71'000));
}

TEST_CASE("isolation log: a short isolation is not worth a line, nor its end") {
  IsolationLog log({"127.0.0.1:7400"});
  CHECK_FALSE(log.update(0, 0));
  CHECK_FALSE(log.update(0, 2'000));
  CHECK_FALSE(log.update(std::nullopt, 2'500));
}

TEST_CASE("isolation log: without seeds it speaks of the dead members") {
  IsolationLog log({});
  const auto line = log.update(0, 3'000);
  REQUIRE(line);
  CHECK(line->text.rfind("no member reachable for 3 s (every member this peer knows is dead)", 0) == 0);
}

TEST_CASE("isolation log: durations read as an operator would say them") {
  CHECK(duration_text(999) == "0 s");
  CHECK(duration_text(59'999) == "59 s");
  CHECK(duration_text(61'000) == "1 min 1 s");
  CHECK(duration_text(3'600'000 + 120'000) == "1 h 2 min");
}

}  // namespace
}  // namespace cairn::node

// The export's JSON lines (src/backup/export_format.h) and import's plan (src/backup/export_import.h)
// on a real store: non-UTF-8 bytes round-trip, and re-importing changes nothing.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "cairn/store.h"
#include "src/backup/export_format.h"
#include "src/backup/export_import.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace cairn::backup;
using cairn::ValueKind;
using cairn::test::TempDir;

const std::string kNotUtf8("\xff\xfe\x00k", 4);

std::unique_ptr<cairn::Store> open_store(const std::string& dir) {
  auto store = cairn::Store::open(dir, {});
  REQUIRE(store.has_value());
  return std::move(*store);
}

std::string export_all(cairn::Store& store) {
  auto source = access_over(store);
  std::string out;
  auto exported = export_keys(*source, "", false, [&](const std::string& line) -> cairn::Status {
    out += line + "\n";
    return cairn::ok();
  }, {});
  REQUIRE(exported.has_value());
  return out;
}

}  // namespace

TEST_CASE("export format: keys, values and members that are not UTF-8 become base64 and come back byte for byte") {
  ExportedKey reg;
  reg.key = kNotUtf8;
  reg.value = std::string("\x80\x00", 2);
  const std::string line = encode_exported_key(reg);
  CHECK_THAT(line, Catch::Contains("\"base64\""));
  auto decoded = decode_exported_key(line);
  REQUIRE(decoded.has_value());
  CHECK(decoded->key == reg.key);
  CHECK(decoded->value == reg.value);

  ExportedKey set;
  set.key = "plain";
  set.kind = ValueKind::kSet;
  set.members = {"é", kNotUtf8, ""};
  const std::string set_line = encode_exported_key(set);
  CHECK_THAT(set_line, Catch::StartsWith("{\"key\":\"plain\",\"type\":\"set\""));
  CHECK(decode_exported_key(set_line)->members == set.members);

  ExportedKey counter;
  counter.key = "c";
  counter.kind = ValueKind::kCounter;
  counter.counter = -9'000'000'000'000'000'000;
  CHECK(decode_exported_key(encode_exported_key(counter))->counter == counter.counter);
}

TEST_CASE("export format: a line that is not a key is refused with a reason") {
  CHECK(decode_exported_key("nope").error().code() == cairn::ErrorCode::kInvalidArgument);
  CHECK(decode_exported_key(R"({"key":"k","type":"map","value":"v"})").error().message().find("unknown type") != std::string::npos);
  CHECK(!decode_exported_key(R"({"key":"k","type":"counter","value":"7"})").has_value());
  CHECK(!decode_exported_key(R"({"key":{"base64":"!!"},"type":"register","value":"v"})").has_value());
  CHECK(decode_exported_key(R"({"key":"k","type":"counter","value":18446744073709551615})").error().code() ==
        cairn::ErrorCode::kOutOfRange);
}

TEST_CASE("import: a round trip through JSON lines, a 10,000-member set and counters, and re-importing changes nothing") {
  TempDir dirs;
  auto source = open_store(dirs.str() + "/a");
  REQUIRE(source->put(kNotUtf8, std::string("\x00\xc3\x28", 3)));
  REQUIRE(source->put("text", "héllo"));
  std::vector<std::string> members;
  for (int i = 0; i < 10'000; ++i) members.push_back("m" + std::to_string(i));
  members.push_back(kNotUtf8);
  REQUIRE(source->sadd("big", members));
  REQUIRE(source->incr("up", 41));
  REQUIRE(source->decr("down", 17));
  const std::string exported = export_all(*source);

  auto target = open_store(dirs.str() + "/b");
  REQUIRE(target->incr("up", 50));  // Moved by the difference (-9), not added to.
  REQUIRE(target->sadd("big", {"m1", "extra"}));  // Only missing members are added; none are removed.
  auto access = access_over(*target);
  std::istringstream first(exported);
  auto imported = import_lines(*access, first, {});
  REQUIRE(imported.has_value());
  CHECK(imported->keys == 5);
  CHECK(imported->failed == 0);
  CHECK(target->get(kNotUtf8)->value == std::string("\x00\xc3\x28", 3));
  CHECK(target->get("text")->value == "héllo");
  CHECK(target->counter("up").value() == 41);
  CHECK(target->counter("down").value() == -17);
  CHECK(target->sismember("big", kNotUtf8).value());
  CHECK(target->sismember("big", "m9999").value());
  CHECK(target->sismember("big", "extra").value());

  const cairn::OperationCounts before = target->usage()->operations;
  std::istringstream again(exported);
  auto reimported = import_lines(*access, again, {});
  REQUIRE(reimported.has_value());
  CHECK(reimported->keys == 5);
  CHECK(reimported->unchanged == 5);
  CHECK(reimported->writes == 0);
  const cairn::OperationCounts after = target->usage()->operations;
  CHECK(after.put == before.put);
  CHECK(after.sadd == before.sadd);
  CHECK(after.incr == before.incr);
  CHECK(after.decr == before.decr);
  CHECK(target->counter("up").value() == 41);
}

TEST_CASE("import: a large set is added in writes of at most kImportMembersPerWrite members, each member once") {
  TempDir dirs;
  auto target = open_store(dirs.str() + "/b");
  REQUIRE(target->sadd("s", {"m0"}));
  ExportedKey set;
  set.key = "s";
  set.kind = ValueKind::kSet;
  for (int i = 0; i < 10'001; ++i) set.members.push_back("m" + std::to_string(i));
  auto access = access_over(*target);
  auto writes = plan_import(*access, set);
  REQUIRE(writes.has_value());
  CHECK(writes->size() == 10);  // 10,000 missing members.
  std::set<std::string> planned;
  for (const ImportWrite& write : *writes) {
    CHECK(write.kind == ImportWrite::Kind::kSadd);
    CHECK(write.members.size() <= kImportMembersPerWrite);
    planned.insert(write.members.begin(), write.members.end());
  }
  CHECK(planned.size() == 10'000);
  CHECK(!planned.contains("m0"));
}

TEST_CASE("import: a line of the wrong kind for its key fails alone, and the rest is imported") {
  TempDir dirs;
  auto target = open_store(dirs.str() + "/b");
  REQUIRE(target->put("k", "register"));
  auto access = access_over(*target);
  std::istringstream in("{\"key\":\"k\",\"type\":\"counter\",\"value\":3}\nnot json\n{\"key\":\"j\",\"type\":\"register\",\"value\":\"v\"}\n");
  auto imported = import_lines(*access, in, {});
  REQUIRE(imported.has_value());
  CHECK(imported->failed == 2);
  CHECK(imported->errors.size() == 2);
  CHECK_THAT(imported->errors[0], Catch::StartsWith("line 1:"));
  CHECK(target->get("j")->value == "v");
}

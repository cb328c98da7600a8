// cairn backup, verify-backup and restore (docs/operations.md): thin wrappers over src/backup.
#include <cstdio>

#include <fstream>
#include <iostream>

#include "src/backup/backup.h"
#include "src/backup/export_import.h"
#include "src/util/hex_id.h"
#include "tools/cairn/commands.h"
#include "tools/cairn/exit_codes.h"
#include "tools/cairn/progress.h"

namespace cairn::cli {
namespace {

Json manifest_json(const backup::Manifest& manifest) {
  Json vector = Json::array();
  for (const VersionVectorEntry& entry : manifest.version_vector) {
    vector.push_back(Json{{"replica", hex_id(entry.replica)}, {"counter", entry.counter}});
  }
  return Json{{"replica", hex_id(manifest.replica)}, {"store_format", manifest.store_format},
              {"created_utc", manifest.created_utc}, {"source", manifest.source},
              {"bytes", manifest.bytes},              {"checksum", manifest.checksum},
              {"version_vector", vector}};
}

void print_backup(Context& context, const std::string& out_dir, const backup::Manifest& manifest) {
  if (context.out.json()) {
    Json json = manifest_json(manifest);
    json["backup"] = out_dir;
    context.out.document(json);
    return;
  }
  context.out.line("backup of replica " + hex_id(manifest.replica) + " written to " + out_dir + " (" +
                   std::to_string(manifest.bytes) + " bytes, " + backup::kChecksumAlgorithm + " " +
                   manifest.checksum + ")");
}

}  // namespace

int backup_command(Context& context, const std::string& data_dir, const std::string& out_dir) {
  Progress progress("backup", /*unit_bytes=*/true);
  if (!data_dir.empty()) {
    auto manifest = backup::backup_directory(data_dir, out_dir, [&](std::uint64_t done, std::uint64_t total) {
      progress.update(done, total);
    });
    if (!manifest) return context.out.failure(manifest.error());
    print_backup(context, out_dir, *manifest);
    return kExitOk;
  }
  std::optional<backup::Manifest> manifest;
  const int code = with_client(context, [&](Client& client) -> Status {
    // Created once the peer answers, so an unreachable peer leaves no directory behind.
    auto writer = backup::BackupWriter::create(out_dir);
    if (!writer) return tl::unexpected(writer.error());
    // The bar's total: the peer's data file size (an upper bound: the copy is compacted).
    std::uint64_t total = 0;
    if (progress.shown()) {
      if (auto samples = client.stats()) {
        for (const MetricSample& sample : *samples) {
          if (sample.name == "cairn_lmdb_file_bytes") total = static_cast<std::uint64_t>(sample.value);
        }
      }
    }
    Status written = ok();
    auto streamed = client.backup([&](const std::string& chunk) {
      written = (*writer)->append(chunk);
      progress.update((*writer)->bytes(), total);
      return static_cast<bool>(written);
    });
    if (!streamed) return streamed;
    if (!written) return written;
    auto finished = (*writer)->finish("peer " + client.address());
    if (!finished) return tl::unexpected(finished.error());
    manifest = std::move(*finished);
    return ok();
  });
  if (code != kExitOk) return code;
  print_backup(context, out_dir, *manifest);
  return kExitOk;
}

int verify_backup_command(Context& context, const std::string& backup_dir) {
  auto manifest = backup::verify_backup(backup_dir);
  if (!manifest) return context.out.failure(manifest.error());
  if (context.out.json()) {
    Json json = manifest_json(*manifest);
    json["ok"] = true;
    context.out.document(json);
  } else {
    context.out.line("backup " + backup_dir + " is whole: replica " + hex_id(manifest->replica) + ", taken " +
                     manifest->created_utc + ", checksum " + manifest->checksum);
  }
  return kExitOk;
}

int restore_command(Context& context, const std::string& backup_dir, const std::string& new_dir, bool retire_original) {
  auto restored = backup::restore_backup(backup_dir, new_dir);
  if (!restored) return context.out.failure(restored.error());
  const std::string original = hex_id(restored->manifest.replica);
  if (!context.out.json()) {
    context.out.line("restored " + backup_dir + " into " + new_dir + " as replica " + hex_id(restored->new_replica) +
                     " (the backup was of replica " + original + ")");
  }
  int code = kExitOk;
  if (retire_original) {
    // The proposal goes to the running peer --connect names: the original must be dead or stopped there.
    code = with_client(context, [&](Client& client) -> Status { return client.retire(restored->manifest.replica); });
  }
  if (context.out.json()) {
    context.out.document(Json{{"restored", new_dir},
                              {"original_replica", original},
                              {"replica", hex_id(restored->new_replica)},
                              {"original_retirement_proposed", retire_original && code == kExitOk}});
  } else if (retire_original && code == kExitOk) {
    context.out.line("proposed retiring the original replica " + original + " at " + context.client.host + ":" +
                     std::to_string(context.client.port) + " (decided once the reachable peers agree on its last write)");
  } else if (!retire_original) {
    context.out.line("start cairnd --data-dir " + new_dir +
                     " with the cluster's key and seeds; it catches up by anti-entropy. If the original is lost "
                     "for good, retire it so it stops holding back GC: cairn retire " + original);
  }
  return code;
}

int export_command(Context& context, const std::string& data_dir, const std::string& prefix, bool with_metadata) {
  Progress progress("export", /*unit_bytes=*/false);
  const auto write_line = [](const std::string& line) -> Status {
    std::fwrite(line.data(), 1, line.size(), stdout);
    if (std::fputc('\n', stdout) == EOF) return fail(ErrorCode::kIo, "cannot write the export to standard output");
    return ok();
  };
  const auto run_export = [&](backup::KeyAccess& source) -> Status {
    auto exported = backup::export_keys(source, prefix, with_metadata, write_line,
                                        [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total); });
    if (!exported) return tl::unexpected(exported.error());
    if (std::fflush(stdout) != 0) return fail(ErrorCode::kIo, "cannot write the export to standard output");
    return ok();
  };
  if (!data_dir.empty()) {
    StoreOptions options;
    options.read_only = true;
    options.create_if_missing = false;
    auto store = Store::open(data_dir, options);
    if (!store) return context.out.failure(Error(store.error().code(), "cannot open '" + data_dir + "': " + store.error().message()));
    auto source = backup::access_over(**store);
    if (auto done = run_export(*source); !done) return context.out.failure(done.error());
    return kExitOk;
  }
  return with_client(context, [&](Client& client) {
    auto source = backup::access_over(client);
    return run_export(*source);
  });
}

int import_command(Context& context, const std::string& file) {
  std::ifstream opened;
  if (file != "-") {
    opened.open(file, std::ios::binary);
    if (!opened) return context.out.failure(Error(ErrorCode::kNotFound, "cannot open '" + file + "'"));
  }
  std::istream& in = file == "-" ? std::cin : opened;
  Progress progress("import (lines)", /*unit_bytes=*/false);
  std::optional<backup::ImportSummary> summary;
  const int code = with_client(context, [&](Client& client) -> Status {
    auto target = backup::access_over(client);
    auto imported = backup::import_lines(*target, in, [&](std::uint64_t done, std::uint64_t) { progress.update(done, 0); });
    if (!imported) return tl::unexpected(imported.error());
    summary = std::move(*imported);
    return ok();
  });
  if (code != kExitOk) return code;
  for (const std::string& error : summary->errors) std::fprintf(stderr, "cairn: import: %s\n", error.c_str());
  if (context.out.json()) {
    context.out.document(Json{{"keys", summary->keys}, {"unchanged", summary->unchanged}, {"changed", summary->changed},
                              {"writes", summary->writes}, {"failed", summary->failed}});
  } else {
    context.out.line("imported " + std::to_string(summary->keys) + " keys: " + std::to_string(summary->changed) +
                     " changed (" + std::to_string(summary->writes) + " writes), " + std::to_string(summary->unchanged) +
                     " already as imported, " + std::to_string(summary->failed) + " failed");
  }
  return summary->failed == 0 ? kExitOk : kExitError;
}

}  // namespace cairn::cli

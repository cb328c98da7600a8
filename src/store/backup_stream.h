// A compacted snapshot of a store as a stream of byte chunks: what the client protocol's backup
// request sends (docs/operations.md, "Backup"), so a backup can be taken from another machine.
#pragma once

#include <cstddef>
#include <memory>

#include "cairn/status.h"
#include "cairn/store.h"
#include "src/store/replica.h"

namespace cairn::store {

// Chunks of one stream are at most this large (a frame of the client protocol carries a few).
inline constexpr std::size_t kBackupChunkBytes = std::size_t{64} << 10;

// Starts Replica::copy_compacted into a pipe on a thread of its own and returns a Cursor whose
// next() reads the pipe: each item is the next chunk of the copy (at most `chunk_bytes`), nullopt
// after the last one, or the copy's error. The copy holds one LMDB read transaction until the reader
// has taken every byte (the pipe holds 64 KiB), so a reader that stops holds it open: destroying the
// cursor early ends the copy (its writes fail with EPIPE) and joins the thread. `replica` must
// outlive the cursor. kIo when the pipe or the thread cannot be made.
Result<std::unique_ptr<Cursor>> open_backup_stream(Replica& replica, std::size_t chunk_bytes = kBackupChunkBytes);

}  // namespace cairn::store

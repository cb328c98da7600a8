// Where a store's identity lives: the data file, the filesystem holding it and the machine, never the
// path (docs/store.md, "Identity").
//
// A replica id must be used by one copy of a store only: two copies minting dots under one id hand
// the cluster different events under the same name, and it silently keeps one and loses the other.
// A store records this fingerprint when its identity is minted; a writable open that reads another
// one is a copy (`cp -a`, `mdb_copy`, a restored backup in a new file, a disk moved to another
// machine) and takes a new id. A directory renamed on its filesystem keeps the inode and its id
// (correct: the original is gone). A file overwritten in place (a rolled-back VM snapshot, `cp
// old/data.mdb dir/data.mdb`) keeps the inode too: the gossip layer's check catches those
// (Replica::start_identity_check).
#pragma once

#include <string>

#include "cairn/status.h"
#include "src/codec/records.h"

namespace cairn::store {

// The fingerprint of the store in `directory` (its data.mdb must exist): the file's inode, the
// filesystem's id (statfs f_fsid) and xxh3-64 of the machine id (/etc/machine-id, else
// /var/lib/dbus/machine-id; 0 when neither can be read, e.g. in a minimal container). kIo when the
// file cannot be stat'ed.
Result<codec::StoreFingerprint> fingerprint_of(const std::string& directory);

// What differs between a recorded fingerprint and the current one, for the log ("the data file's
// inode", ...); empty when they are equal.
std::string fingerprint_difference(const codec::StoreFingerprint& recorded, const codec::StoreFingerprint& here);

}  // namespace cairn::store

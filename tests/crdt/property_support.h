// Shared machinery of the CRDT property tests (tests/crdt/*_property_test.cpp).
//
// A history is 3 to 5 replicas (random ids) issuing random operations. Every delta a mutator returns
// goes through a network that reorders, duplicates, loses and re-sends it, and that also ships
// delta-groups and full states; a last phase delivers everything everywhere. Each operation records
// what its issuer had received when it was issued (its `past`). That is all the reference models need:
// a causal CRDT's meaning is defined by what each operation observed, so the models compute, from the
// pasts alone and without looking at any CRDT internals, what a replica that joined a given set of
// deltas must hold and read.
//
// check_random_history<Workload>() runs one history and checks, once per history (Catch assertions
// are too slow for the inner loops):
//   - every replica equals the join of the deltas it received, re-joined in another order, grouping
//     and with duplicates, and reads the same;
//   - the join of all deltas equals the join of all replicas' full states;
//   - join is commutative, associative and idempotent on states, deltas and delta-groups;
//   - each mutation mints the issuer's next dots, and nothing else;
//   - after full delivery all replicas are equal, read the same, and their context is exactly the
//     dots minted;
//   - every replica state matches the workload's model.
//
// The machinery is split by subject under tests/crdt/property/: generators (operation sets, replica ids,
// timestamps), printing, verdict, delta_network, checkers (check_random_history), models, hosts and one
// workload per value type. This header includes them all.
#pragma once

#include "tests/crdt/property/generators.h"  // IWYU pragma: export
#include "tests/crdt/property/printing.h"  // IWYU pragma: export
#include "tests/crdt/property/verdict.h"  // IWYU pragma: export
#include "tests/crdt/property/delta_network.h"  // IWYU pragma: export
#include "tests/crdt/property/checkers.h"  // IWYU pragma: export
#include "tests/crdt/property/models.h"  // IWYU pragma: export
#include "tests/crdt/property/hosts.h"  // IWYU pragma: export
#include "tests/crdt/property/lww_workload.h"  // IWYU pragma: export
#include "tests/crdt/property/or_set_workload.h"  // IWYU pragma: export
#include "tests/crdt/property/pn_counter_workload.h"  // IWYU pragma: export

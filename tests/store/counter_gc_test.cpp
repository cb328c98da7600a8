// Tests of Store::compact_counter_resets (docs/metadata-gc.md); filled in with the implementation.

// Tests of retiring replicas in the store (docs/metadata-gc.md); filled in with the implementation.

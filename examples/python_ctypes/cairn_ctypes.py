#!/usr/bin/env python3
"""cairn from Python through ctypes and libcairn's C API (include/cairn/cairn.h): proof that any
language with a C FFI can embed cairn, with no binding library.

    python3 cairn_ctypes.py [--lib PATH/libcairn.so.1] DATA_DIR

Without --lib, the loader's search path is used (an installed libcairn.so.1). Prints each step and
exits 0 when everything reads back as written, 1 otherwise.
"""
import argparse
import ctypes
import sys

OK, NOT_FOUND, WRONG_TYPE = 0, 1, 2


class CairnError(Exception):
    """A failed call: its cairn_code and the library's message."""

    def __init__(self, lib, code):
        self.code = code
        super().__init__(f"{lib.cairn_code_name(code).decode()}: {lib.cairn_last_error_message().decode()}")


# One Python object per C handle type keeps ctypes from mixing them up.
class Store(ctypes.Structure):
    pass


class Cursor(ctypes.Structure):
    pass


CHANGE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t,
                             ctypes.c_int, ctypes.c_int)


def load(path):
    lib = ctypes.CDLL(path)
    c = ctypes
    store_p, cursor_p, size_p = c.POINTER(Store), c.POINTER(Cursor), c.POINTER(c.c_size_t)
    signatures = {
        "cairn_abi_version": (c.c_int, []),
        "cairn_version": (c.c_char_p, []),
        "cairn_code_name": (c.c_char_p, [c.c_int]),
        "cairn_last_error_message": (c.c_char_p, []),
        "cairn_free": (None, [c.c_void_p]),
        "cairn_store_open": (c.c_int, [c.c_char_p, c.c_void_p, c.POINTER(store_p)]),
        "cairn_store_close": (None, [store_p]),
        "cairn_put": (c.c_int, [store_p, c.c_char_p, c.c_size_t, c.c_char_p, c.c_size_t]),
        "cairn_get": (c.c_int, [store_p, c.c_char_p, c.c_size_t, c.POINTER(c.c_void_p), size_p]),
        "cairn_sadd": (c.c_int, [store_p, c.c_char_p, c.c_size_t, c.POINTER(c.c_char_p), size_p, c.c_size_t]),
        "cairn_smembers": (c.c_int, [store_p, c.c_char_p, c.c_size_t, c.POINTER(cursor_p)]),
        "cairn_incr": (c.c_int, [store_p, c.c_char_p, c.c_size_t, c.c_uint64]),
        "cairn_counter": (c.c_int, [store_p, c.c_char_p, c.c_size_t, c.POINTER(c.c_int64)]),
        "cairn_scan": (c.c_int, [store_p, c.c_char_p, c.c_size_t, c.POINTER(cursor_p)]),
        "cairn_cursor_next": (c.c_int, [cursor_p, c.POINTER(c.c_void_p), size_p]),
        "cairn_cursor_destroy": (None, [cursor_p]),
        "cairn_subscribe": (c.c_int, [store_p, c.c_char_p, c.c_size_t, CHANGE_FN, c.c_void_p, c.POINTER(c.c_uint64)]),
        "cairn_unsubscribe": (None, [store_p, c.c_uint64]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


def check(lib, code):
    if code != OK:
        raise CairnError(lib, code)


def drain(lib, cursor):
    """Every item of a cursor, as bytes; destroys the cursor."""
    items = []
    try:
        while True:
            item, size = ctypes.c_void_p(), ctypes.c_size_t()
            check(lib, lib.cairn_cursor_next(cursor, ctypes.byref(item), ctypes.byref(size)))
            if not item.value:
                return items
            items.append(ctypes.string_at(item, size.value))
    finally:
        lib.cairn_cursor_destroy(cursor)


def get(lib, store, key):
    value, size = ctypes.c_void_p(), ctypes.c_size_t()
    check(lib, lib.cairn_get(store, key, len(key), ctypes.byref(value), ctypes.byref(size)))
    try:
        return ctypes.string_at(value, size.value)
    finally:
        lib.cairn_free(value)


def exercise(lib, store):
    seen = []
    # ctypes takes the GIL for a callback from the store's writer thread; it only appends.
    on_change = CHANGE_FN(lambda _user, key, size, _kind, local: seen.append((ctypes.string_at(key, size), local)))
    subscription = ctypes.c_uint64()
    check(lib, lib.cairn_subscribe(store, b"py/", 3, on_change, None, ctypes.byref(subscription)))

    value = b"bytes \x00\xff kept exactly"
    check(lib, lib.cairn_put(store, b"py/blob", 7, value, len(value)))
    members = [b"alpha", b"beta"]
    check(lib, lib.cairn_sadd(store, b"py/set", 6, (ctypes.c_char_p * 2)(*members),
                              (ctypes.c_size_t * 2)(*map(len, members)), 2))
    check(lib, lib.cairn_incr(store, b"py/count", 8, 5))
    lib.cairn_unsubscribe(store, subscription)

    blob = get(lib, store, b"py/blob")
    cursor = ctypes.POINTER(Cursor)()
    check(lib, lib.cairn_smembers(store, b"py/set", 6, ctypes.byref(cursor)))
    set_members = drain(lib, cursor)
    count = ctypes.c_int64()
    check(lib, lib.cairn_counter(store, b"py/count", 8, ctypes.byref(count)))
    check(lib, lib.cairn_scan(store, b"py/", 3, ctypes.byref(cursor)))
    keys = drain(lib, cursor)
    try:
        get(lib, store, b"py/absent")
        missing = None
    except CairnError as error:
        missing = error
    print(f"get py/blob -> {blob!r}\nsmembers py/set -> {set_members}\ncounter py/count -> {count.value}")
    print(f"scan py/ -> {keys}\nchanges seen -> {seen}\nget py/absent -> {missing}")
    return (blob == value and set_members == members and count.value == 5
            and keys == [b"py/blob", b"py/count", b"py/set"] and missing is not None and missing.code == NOT_FOUND
            # One change per record written (docs/watch.md): the register, each set member, the counter.
            and [key for key, _ in seen] == [b"py/blob", b"py/set", b"py/set", b"py/count"])


def main():
    parser = argparse.ArgumentParser(description="cairn through ctypes")
    parser.add_argument("--lib", default="libcairn.so.1", help="path of libcairn.so.1")
    parser.add_argument("data_dir")
    args = parser.parse_args()
    lib = load(args.lib)
    print(f"libcairn {lib.cairn_version().decode()}, C ABI {lib.cairn_abi_version()}")
    store = ctypes.POINTER(Store)()
    check(lib, lib.cairn_store_open(args.data_dir.encode(), None, ctypes.byref(store)))
    try:
        ok = exercise(lib, store)
    finally:
        lib.cairn_store_close(store)
    print("ok" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Regenerates the NumPy-written fixtures used by NumPyFilesTests.

Run from anywhere:  python3 Tests/NumPyFilesTests/Fixtures/make_fixtures.py
The expected values are repeated in the Swift tests (FixtureTests.swift); keep them in sync.
"""
import io
import os
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


F64 = np.array([[0.5, -1.25, 3.0], [1e300, -0.0, 5e-324]], dtype="<f8")
F32 = np.array([1.5, -2.25, 0.1, np.finfo(np.float32).max], dtype="<f4")
I32 = np.array([[-2147483648, 2147483647], [0, -1]], dtype="<i4")
I64 = np.array([-9223372036854775808, 9223372036854775807, 42], dtype="<i8")
U8 = np.array([0, 1, 127, 128, 255], dtype="|u1")
B1 = np.array([[True, False], [False, True]])
SCALAR = np.array(3.5)
EMPTY = np.zeros((0,), dtype="<f8")
EMPTY3 = np.zeros((2, 0, 4), dtype="<i4")
CUBE = np.arange(24, dtype="<i8").reshape(2, 3, 4)


def main():
    np.save(path("float64_2x3.npy"), F64)
    np.save(path("float32_4.npy"), F32)
    np.save(path("int32_2x2.npy"), I32)
    np.save(path("int64_3.npy"), I64)
    np.save(path("uint8_5.npy"), U8)
    np.save(path("bool_2x2.npy"), B1)
    np.save(path("scalar_0d.npy"), SCALAR)
    np.save(path("empty_0.npy"), EMPTY)
    np.save(path("empty_2x0x4.npy"), EMPTY3)
    np.save(path("int64_2x3x4.npy"), CUBE)

    # Fortran order: read in C order (more in scripts/fixtures/make_fortran_fixtures.py).
    np.save(path("fortran_2x3.npy"), np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    np.save(path("fortran_1d.npy"), np.asfortranarray(np.arange(3.0)))  # same layout as C order

    # Unsupported dtypes.
    np.save(path("bigendian.npy"), np.arange(3, dtype=">f8"))
    np.save(path("object.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
    np.save(path("complex.npy"), np.array([1 + 2j, 3 - 4j]))
    np.save(path("structured.npy"), np.zeros(2, dtype=[("x", "<f8"), ("y", "<i4")]))
    np.save(path("unicode.npy"), np.array(["ab", "c"]))

    # Other header versions, written by NumPy itself.
    for version in [(2, 0), (3, 0)]:
        with open(path("version%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, CUBE, version=version)

    arrays = dict(weights=F64, labels=I64, mask=B1, scalar=np.array(7, dtype="<i4"), pixels=U8)
    np.savez(path("savez.npz"), **arrays)
    np.savez_compressed(path("savez_compressed.npz"), **arrays)
    np.savez(path("bad_member.npz"), good=F64, bad=np.arange(3, dtype=">i4"))

    # A .npz that is not only .npy members.
    with zipfile.ZipFile(path("non_npy_member.npz"), "w") as z:
        with z.open("a.npy", "w") as f:
            np.lib.format.write_array(f, I64)
        z.writestr("notes.txt", "hello")

    # ZIP64 everywhere: central-directory extra fields and the ZIP64 end records, as Python
    # writes them for archives over 4 GiB (forced here by lowering the limits).
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 8, 1
    try:
        with zipfile.ZipFile(path("zip64_forced.npz"), "w", zipfile.ZIP_DEFLATED) as z:
            for name, value in [("weights", F64), ("labels", I64)]:
                with z.open(name + ".npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, value)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved

    # Streaming mode (an unseekable output): general-purpose bit 3, zero sizes in the local
    # headers, data descriptors after the data.
    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.buffer = io.BytesIO()

        def writable(self):
            return True

        def write(self, b):
            return self.buffer.write(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in [("weights", F64), ("labels", I64)]:
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, value)
    with open(path("streamed.npz"), "wb") as f:
        f.write(sink.buffer.getvalue())

    # Check that the fixtures round-trip in NumPy.
    with np.load(path("zip64_forced.npz")) as z:
        assert (z["weights"] == F64).all() and (z["labels"] == I64).all()
    with np.load(path("streamed.npz")) as z:
        assert (z["weights"] == F64).all() and (z["labels"] == I64).all()


if __name__ == "__main__":
    main()

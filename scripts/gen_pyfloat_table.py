#!/usr/bin/env python3
"""Generate core/tests/data/pyfloat_repr.tsv: f64 bit patterns and Python's repr.

Each line is `<16 lowercase hex digits of the IEEE-754 bits>\t<repr(x)>`. The table is
the oracle for `cellucid_core::codec::pyfloat` (FORMAT.md §5 "Floats"). It is
deterministic (fixed seed), so re-running it reproduces the committed file.

Usage: python3 scripts/gen_pyfloat_table.py [output_path]
"""

import math
import random
import struct
import sys

SEED = 20260102


def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def widen_f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def main() -> None:
    out_path = sys.argv[1] if len(sys.argv) > 1 else "core/tests/data/pyfloat_repr.tsv"
    rng = random.Random(SEED)
    values = []

    # Named edge cases.
    named = [
        0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3,
        1e16, 1e-5, 1e-4, 0.0001, 0.00001, 9999999999999998.0, 1e15, 1e17,
        1e22, 1e23, 5e-324, sys.float_info.max, sys.float_info.min,
        2.2250738585072009e-308, 4.9406564584124654e-324, 1e-323,
        0.10000000149011612, 123456789012345678.0, 9007199254740993.0,
        9007199254740992.0, 2.0 ** 53, 2.0 ** 63, 2.0 ** 64, 2.0 ** -1074,
        1e308, 1e-308, 1.5e16, 1.5e-5, 98.0, 3.25, 0.02500000037252903,
        99999.99999999999, 0.30000000000000004, 100.0, 1234567890123456.7,
    ]
    values += named + [-v for v in named]

    # Powers of ten and their neighbours across the whole range.
    for e in range(-325, 309):
        try:
            p = float(f"1e{e}")
        except OverflowError:
            continue
        values.append(p)
        values.append(math.nextafter(p, math.inf))
        values.append(math.nextafter(p, 0.0))
    # Powers of two and neighbours.
    for e in range(-1074, 1024):
        p = math.ldexp(1.0, e)
        values.append(p)
        if e % 4 == 0:
            values.append(math.nextafter(p, math.inf))
            values.append(math.nextafter(p, 0.0))

    # Subnormals: small integers of ulps and random mantissas.
    for k in range(1, 200):
        values.append(from_bits(k))
    for _ in range(1500):
        values.append(from_bits(rng.getrandbits(52)))

    # Random bit patterns (finite only), both signs.
    while len(values) < 14000:
        b = rng.getrandbits(64)
        x = from_bits(b)
        if math.isfinite(x):
            values.append(x)

    # Random short decimals at every exponent (these exercise the layout most).
    for e in range(-330, 310):
        for ndig in (1, 2, 3, 5, 8, 12, 17):
            mant = rng.randrange(10 ** (ndig - 1), 10 ** ndig)
            try:
                x = float(f"{mant}e{e - ndig + 1}")
            except OverflowError:
                continue
            if math.isfinite(x):
                values.append(x)

    # Dense sampling around the positional / scientific boundaries.
    for e in (-6, -5, -4, -3, 14, 15, 16, 17):
        for _ in range(300):
            values.append(rng.uniform(1.0, 10.0) * 10.0 ** e)

    # f32 values widened to f64 (quantization bounds look like this).
    for _ in range(3000):
        values.append(widen_f32(rng.uniform(-1e3, 1e3)))
    for _ in range(1000):
        values.append(widen_f32(rng.lognormvariate(0.0, 8.0)))
    for _ in range(1000):
        values.append(from_bits(bits(struct.unpack("<f", struct.pack("<I", rng.getrandbits(32) & 0x7F7FFFFF))[0])))

    # Integral values and halves (the `.0` rule).
    for _ in range(1500):
        values.append(float(rng.randrange(0, 10 ** rng.randrange(1, 19))))
        values.append(rng.randrange(0, 10 ** 6) / 2.0)

    seen = set()
    lines = []
    for x in values:
        b = bits(x)
        if b in seen or not math.isfinite(x):
            continue
        seen.add(b)
        lines.append(f"{b:016x}\t{x!r}\n")

    with open(out_path, "w", encoding="ascii", newline="\n") as f:
        f.writelines(lines)
    print(f"wrote {len(lines)} values to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()

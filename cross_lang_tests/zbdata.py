"""Test data shared by pypeer.py and the tests, identical to tools/interop/data.{h,cpp}.

* Frame patterns (contract section 10.1 / 10.3): for the frame with 0-based index k,
  sequential: byte[i] = (k + i) mod 256; zero: 0x00; ones: 0xFF.
* Metadata pattern: byte[i] = i mod 256.
* Size schedules: "N", "mixed:MIN:MAX:SEED" (SplitMix64), "list:A,B,...", "file:PATH".
"""

MASK64 = (1 << 64) - 1


def parse_size(text):
    """Decimal with an optional K/M/G suffix (powers of 1024)."""
    text = str(text).strip()
    mult = 1
    if text and text[-1] in "kKmMgG":
        mult = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[text[-1].lower()]
        text = text[:-1]
    if not text.isdigit():
        raise ValueError(f"not a size: {text!r}")
    return int(text) * mult


def splitmix64(seed, index):
    """The (index + 1)-th output of SplitMix64 seeded with `seed`."""
    z = (seed + (index + 1) * 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class SizeSchedule:
    def __init__(self, kind, spec="", a=0, b=0, seed=0, values=None):
        self.kind, self.spec, self.a, self.b, self.seed = kind, spec, a, b, seed
        self.values = values or []

    @classmethod
    def parse(cls, spec):
        if spec.startswith("mixed:"):
            parts = spec[6:].split(":")
            if len(parts) != 3:
                raise ValueError(f"mixed:MIN:MAX:SEED expected, got {spec!r}")
            a, b, seed = parse_size(parts[0]), parse_size(parts[1]), int(parts[2])
            if a == 0 or b < a:
                raise ValueError(f"need 0 < MIN <= MAX in {spec!r}")
            return cls("mixed", spec, a, b, seed & MASK64)
        if spec.startswith("list:"):
            values = [parse_size(v) for v in spec[5:].split(",")]
        elif spec.startswith("file:"):
            with open(spec[5:]) as f:
                values = [parse_size(v) for v in f.read().split()]
        else:
            return cls.fixed(parse_size(spec))
        if not values or 0 in values:
            raise ValueError(f"empty list or a size of 0 in {spec!r}")
        return cls("list", spec, values=values)

    @classmethod
    def fixed(cls, size):
        if size <= 0:
            raise ValueError("frame size must be > 0")
        return cls("fixed", str(size), a=size)

    @classmethod
    def any_size(cls):
        return cls("any", "any")

    def any(self):
        return self.kind == "any"

    def size(self, index):
        if self.kind == "fixed":
            return self.a
        if self.kind == "mixed":
            return self.a + splitmix64(self.seed, index) % (self.b - self.a + 1)
        if self.kind == "list":
            return self.values[index % len(self.values)]
        return 0

    def max_size(self):
        if self.kind == "fixed":
            return self.a
        if self.kind == "mixed":
            return self.b
        if self.kind == "list":
            return max(self.values)
        return 0

    def describe(self):
        return self.spec


class PatternSource:
    """Expected frame bytes without regenerating every frame: windows into one buffer."""

    def __init__(self, pattern, max_size=0):
        if pattern not in ("sequential", "zero", "ones"):
            raise ValueError(f"unknown pattern {pattern!r}")
        self.pattern = pattern
        self._base = b""
        self._ensure(max_size)

    def _ensure(self, size):
        need = size + 256 if self.pattern == "sequential" else size
        if len(self._base) >= need:
            return
        need = max(need, 2 * len(self._base))
        if self.pattern == "sequential":
            self._base = bytes(range(256)) * (need // 256 + 1)
        else:
            self._base = (b"\xff" if self.pattern == "ones" else b"\x00") * need

    def frame(self, index, size):
        """The expected bytes of frame `index` (0-based)."""
        self._ensure(size)
        offset = index & 0xFF if self.pattern == "sequential" else 0
        return self._base[offset:offset + size]

    def first_mismatch(self, data, index):
        """-1 if `data` holds frame `index`, else the index of the first wrong byte."""
        want = self.frame(index, len(data))
        got = bytes(data)
        if got == want:
            return -1
        for i, (x, y) in enumerate(zip(got, want)):
            if x != y:
                return i
        return -1


def metadata_bytes(n):
    return (bytes(range(256)) * (n // 256 + 1))[:n]

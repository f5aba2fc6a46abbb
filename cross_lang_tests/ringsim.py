"""Where each writer puts a frame, to build size schedules that provoke wrap-around edge cases.

Placement does not depend on timing (only on the write position p and the frame size T = 16 + n,
when the reader keeps up), so a schedule computed here is exactly what the writer will do.

* `python_step`: zerobuffer-ipc 1.3.0 (contract section 3.3/3.7). Wraps when the tail S - p is
  smaller than T; writes a marker only if the tail is at least 16 bytes; counts every wrap in
  payload_written_count. Two placements are peer bugs and never appear in a regular schedule:
  a frame ending exactly at S (the next write fails with ValueError if the reader caught up) and
  a frame that can never be placed (T > p with tail < T: BufferFull forever, catalogue B1).
* `cpp_step`: our writer with a foreign reader (contract section 3.9, src/core/ring.h): a frame
  that would leave a tail of 1..15 bytes wraps early instead; one that cannot be placed is
  refused (FrameTooLargeException). A wrap always writes a marker.
"""

import random

HEADER = 16


def python_step(S, p, T):
    """(kind, new_p, marker) for the Python writer at write position p."""
    if p == S:
        return "after_exact_fit", p, False
    tail = S - p
    if tail >= T:
        new_p = p + T
        return ("exact_fit" if new_p == S else "here"), new_p, False
    if T > p:
        return "stall", p, False
    return ("wrap" if tail >= HEADER else "wrap_no_marker"), T, tail >= HEADER


def cpp_step(S, p, T):
    """(kind, new_p, marker) for our writer at write position p, foreign reader."""
    tail = S - p
    gap = tail - T
    if tail >= T and not 1 <= gap <= 15:
        return ("exact_fit" if gap == 0 else "here"), (p + T) % S, False
    if T <= p:
        assert tail >= HEADER, "our writer never leaves a tail shorter than a header"
        return ("early_wrap" if tail >= T else "wrap"), T % S, True
    return "impossible", p, False


def wrap_schedule(writer, S, count, seed, max_n, event_rate=0.08):
    """`count` frame sizes in [1, max_n] for `writer` ("python" or "cpp") through a ring of S bytes,
    with forced edge cases. Returns (sizes, stats) where stats counts each placement kind and
    the wrap markers the writer writes ("markers") and all its wraps ("wraps")."""
    rng = random.Random(seed)
    step = python_step if writer == "python" else cpp_step
    sizes, stats = [], {"markers": 0, "wraps": 0}
    p = 0
    while len(sizes) < count:
        tail = S - p
        n = None
        r = rng.random()
        if r < event_rate / 2:
            # A frame that fills the ring exactly (cpp) or leaves a 1..15 byte tail (both).
            k = 0 if writer == "cpp" and rng.random() < 0.5 else rng.randint(1, 15)
            n = tail - k - HEADER
        elif r < event_rate:
            # A frame leaving a tail of exactly 16..31 bytes: the next wrap has room for a marker.
            n = tail - rng.randint(16, 31) - HEADER
        if n is None or not 1 <= n <= max_n:
            n = rng.randint(1, max_n)
        kind, new_p, marker = step(S, p, n + HEADER)
        if kind in ("exact_fit", "after_exact_fit", "stall") and writer == "python":
            continue  # peer bugs: kept out of the regular schedule
        if kind == "impossible":
            continue
        if writer == "cpp" and kind == "here" and 1 <= (S - new_p if new_p else 0) <= 15:
            raise AssertionError("model error: our writer left a small tail")
        if writer == "python" and kind == "here" and 1 <= S - new_p <= 15:
            stats["small_tails"] = stats.get("small_tails", 0) + 1
        if writer == "cpp" and 1 <= S - p - (n + HEADER) <= 15:
            stats["small_tails_avoided"] = stats.get("small_tails_avoided", 0) + 1
        stats[kind] = stats.get(kind, 0) + 1
        if kind in ("wrap", "wrap_no_marker", "early_wrap"):
            stats["wraps"] += 1
        if marker:
            stats["markers"] += 1
        sizes.append(n)
        p = new_p
    return sizes, stats

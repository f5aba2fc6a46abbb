#!/usr/bin/env python3
"""zerobuffer-native against zerobuffer-ipc (and the C++ programs), in one run.

    python python/benchmarks/bench.py [--quick] [--interop PATH] [--json FILE]

Needs both packages in the running interpreter (scripts/python.sh's venv has them) and, for the
C++ row, tools/zerobuffer-interop (default: $ZEROBUFFER_INTEROP, else build/tools/zerobuffer-interop).
Every figure is measured between two processes, at the reader:

* 64 B frames/s: the writer calls write_frame(64 bytes) in a loop; the reader calls
  read_frame() and releases each frame. Frames per second over the reader's run.
* 3,110,400 B zero-copy stream: the writer reserves each frame with get_frame_buffer(), copies a
  prepared pattern into it (one memcpy, as `zerobuffer-interop writer --zero-copy` does with
  acquire_frame) and commits; the reader reads and releases. MiB/s at the reader. The C++ figure
  is `zerobuffer-interop writer --zero-copy` into `zerobuffer-interop reader` with the same sizes.
* 3.1 MB relay round trip: process A writes a 3,110,400 B frame (stamped) to buffer X, process B
  reads it and writes it to buffer Y (write_frame(frame): one copy), A reads it back and checks
  the stamp. p50 / p99 of the round trip after 8 warm-up trips.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

FRAME_3M = 3_110_400
# bench_side_by_side's ring for this frame, 4 x (frame + 16) bytes, plus 64: zerobuffer-ipc's writer
# fails after a frame that ends exactly at the ring's end (a known bug), so the frames must not
# divide the ring.
RING_3M = 4 * (FRAME_3M + 16) + 64
RING_64 = 1024 * 1024
REPO = pathlib.Path(__file__).resolve().parents[2]


def load(impl):
    if impl == "native":
        import zerobuffer_native as zb
    else:
        import zerobuffer as zb
    return zb


_NAMES = []


def unique(tag):
    name = f"zbpybench_{os.getpid()}_{tag}_{time.monotonic_ns() % 1_000_000}"
    _NAMES.append(name)
    return name


def cleanup():
    """zerobuffer-ipc's Reader.close() leaves both semaphores behind (a known bug): remove them."""
    for name in _NAMES:
        for path in (f"/dev/shm/sem.sem-w-{name}", f"/dev/shm/sem.sem-r-{name}", f"/dev/shm/{name}",
                     f"/tmp/zerobuffer/{name}.lock"):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def child(*args):
    return subprocess.Popen([sys.executable, __file__, "--role", *map(str, args)], stdout=subprocess.PIPE)


# ---- roles run in child processes ------------------------------------------------------------
def role_writer64(impl, name, count):
    zb = load(impl)
    w = zb.Writer(name)
    payload = b"x" * 64
    write = w.write_frame
    for _ in range(count):
        write(payload)
    w.close()


def role_writer3m(impl, name, count):
    zb = load(impl)
    w = zb.Writer(name)
    pattern = memoryview(bytes(i % 256 for i in range(FRAME_3M + 256)))
    for k in range(count):
        buf = w.get_frame_buffer(FRAME_3M)
        buf[:] = pattern[k % 256:k % 256 + FRAME_3M]
        buf.release()
        w.commit_frame()
    w.close()


def role_relay(impl, x, y, trips):
    zb = load(impl)
    reader = zb.Reader(x, zb.BufferConfig(1024, RING_3M))
    print("ready", flush=True)
    while True:
        try:
            writer = zb.Writer(y)
            break
        except zb.ZeroBufferException:
            time.sleep(0.001)
    for _ in range(trips):
        frame = reader.read_frame(timeout=30.0)
        writer.write_frame(frame.data)
        frame.dispose()
    writer.close()
    time.sleep(0.2)
    reader.close()


# ---- measurements (the parent is the reader) ------------------------------------------------
def stream64(impl, count):
    zb = load(impl)
    name = unique("s64")
    reader = zb.Reader(name, zb.BufferConfig(1024, RING_64))
    writer = child("writer64", impl, name, count)
    frame = reader.read_frame(timeout=30.0)
    frame.dispose()
    t0 = time.perf_counter()
    read = reader.read_frame
    for _ in range(count - 1):
        read(5.0).dispose()
    dt = time.perf_counter() - t0
    writer.wait()
    reader.close()
    return (count - 1) / dt


def stream3m(impl, count):
    zb = load(impl)
    name = unique("s3m")
    reader = zb.Reader(name, zb.BufferConfig(1024, RING_3M))
    writer = child("writer3m", impl, name, count)
    frame = reader.read_frame(timeout=30.0)
    frame.dispose()
    t0 = time.perf_counter()
    for _ in range(count - 1):
        reader.read_frame(5.0).dispose()
    dt = time.perf_counter() - t0
    writer.wait()
    reader.close()
    return (count - 1) * FRAME_3M / dt / 2**20


def stream3m_cpp(interop, count):
    name = unique("s3mcpp")
    r = subprocess.Popen([str(a) for a in (interop, "reader", name, "-n", count, "-s", FRAME_3M, "--metadata-size",
                                           1024, "--payload-size", RING_3M, "--json-output", "--ready-file",
                                           f"/tmp/{name}.ready")], stdout=subprocess.PIPE)
    while not os.path.exists(f"/tmp/{name}.ready"):
        time.sleep(0.005)
    os.unlink(f"/tmp/{name}.ready")
    subprocess.run([str(a) for a in (interop, "writer", name, "-n", count, "-s", FRAME_3M, "--zero-copy",
                                     "--json-output")], stdout=subprocess.DEVNULL, check=True)
    out, _ = r.communicate(timeout=120)
    result = json.loads(out.decode().strip().splitlines()[-1])
    return result["throughput_mbps"]


def relay(impl, trips):
    zb = load(impl)
    x, y = unique("rx"), unique("ry")
    back = zb.Reader(y, zb.BufferConfig(1024, RING_3M))
    b = child("relay", impl, x, y, trips + 8)
    assert b.stdout.readline().strip() == b"ready"
    out = zb.Writer(x)
    payload = bytearray(FRAME_3M)
    times = []
    for k in range(trips + 8):
        payload[:8] = k.to_bytes(8, "little")
        t0 = time.perf_counter()
        out.write_frame(payload)
        frame = back.read_frame(timeout=30.0)
        elapsed = time.perf_counter() - t0
        assert int.from_bytes(bytes(frame.data[:8]), "little") == k and frame.size == FRAME_3M
        frame.dispose()
        if k >= 8:
            times.append(elapsed)
    out.close()
    b.wait()
    back.close()
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.99) - 1] * 1e3


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        role, impl, *rest = sys.argv[2:]
        {"writer64": role_writer64, "writer3m": role_writer3m, "relay": role_relay}[role](
            impl, *[int(a) if a.isdigit() else a for a in rest])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer frames (a smoke run)")
    p.add_argument("--interop", default=os.environ.get("ZEROBUFFER_INTEROP",
                                                     str(REPO / "build" / "tools" / "zerobuffer-interop")))
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    q = 10 if args.quick else 1
    from importlib.metadata import version
    load1, load5, load15 = os.getloadavg()
    print(f"zerobuffer-native {version('zerobuffer-native')} vs zerobuffer-ipc {version('zerobuffer-ipc')}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"load average before: {load1:.2f} {load5:.2f} {load15:.2f}")
    started = time.monotonic()
    try:
        fig = measure(args, q)
    finally:
        cleanup()
    load_after = os.getloadavg()
    report(fig, (load1, load5, load15), load_after, started, args.json)
    return 0


def measure(args, q):
    fig = {}
    fig["s64_native"] = stream64("native", 400_000 // q)
    fig["s64_ipc"] = stream64("ipc", 20_000 // q)
    fig["s3m_native"] = stream3m("native", 300 // q)
    fig["s3m_cpp"] = stream3m_cpp(args.interop, 300 // q) if os.access(args.interop, os.X_OK) else float("nan")
    fig["s3m_ipc"] = stream3m("ipc", 100 // q)
    fig["relay_native"] = relay("native", 200 // q)
    fig["relay_ipc"] = relay("ipc", 100 // q)
    return fig


def report(fig, load_before, load_after, started, json_path):
    rows = [
        ("64 B frames/s (M)", f"{fig['s64_native'] / 1e6:.3f}", f"{fig['s64_ipc'] / 1e6:.4f}", "",
         f"{fig['s64_native'] / fig['s64_ipc']:.0f}x ipc", ">= 20x ipc",
         fig["s64_native"] >= 20 * fig["s64_ipc"]),
        ("3,110,400 B zero-copy stream (MiB/s)", f"{fig['s3m_native']:.0f}", f"{fig['s3m_ipc']:.0f}",
         f"{fig['s3m_cpp']:.0f}", f"{fig['s3m_native'] / fig['s3m_cpp'] * 100:.0f}% of C++", ">= 80% of C++",
         fig["s3m_native"] >= 0.8 * fig["s3m_cpp"]),
        ("3.1 MB relay round trip p50 (ms)", f"{fig['relay_native'][0]:.3f}", f"{fig['relay_ipc'][0]:.3f}", "",
         f"{fig['relay_native'][0] / fig['relay_ipc'][0]:.2f}x ipc", "<= 0.5x ipc",
         fig["relay_native"][0] <= 0.5 * fig["relay_ipc"][0]),
        ("3.1 MB relay round trip p99 (ms)", f"{fig['relay_native'][1]:.3f}", f"{fig['relay_ipc'][1]:.3f}", "",
         f"{fig['relay_native'][1] / fig['relay_ipc'][1]:.2f}x ipc", "", None),
    ]
    print()
    print("| figure | zerobuffer-native | zerobuffer-ipc | C++ programs | ratio | goal | met |")
    print("|---|---|---|---|---|---|---|")
    for label, native, ipc, cpp, ratio, goal, met in rows:
        print(f"| {label} | {native} | {ipc} | {cpp} | {ratio} | {goal} | {'' if met is None else ('yes' if met else 'NO')} |")
    print()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} "
          f"({time.monotonic() - started:.1f} s of measuring)")
    if json_path:
        pathlib.Path(json_path).write_text(json.dumps({**fig, "load_before": list(load_before),
                                                       "load_after": list(load_after)}, indent=2))


if __name__ == "__main__":
    sys.exit(main())

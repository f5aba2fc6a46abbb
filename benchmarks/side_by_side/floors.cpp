// The machine's floors, measured in the same run as the systems and between the same two pinned
// processes (the memcpy floor: one process):
//
//   cache-line ping-pong   two processes bounce a counter in one shared cache line; one-way = RTT/2
//   SPSC ring              a minimal single-producer single-consumer ring of 64 B slots in shared
//                          memory, with cached indices: the 64 B streaming floor
//   futex wake             one-way latency of a futex wake to a process sleeping in FUTEX_WAIT,
//                          paced at 1 kHz: the sleeping-receiver floor
//   memcpy into ring       frames copied into consecutive slots of a ring as large as
//                          zerobuffer's for that frame size: the copy-in throughput floor
//   relay                  the 3.1 MB relay through two futex mailboxes (one slot each): a futex
//                          wake and a memcpy per hop, between the same two processes
//
// The SPSC ring and the futex mailbox are channels (drivers.h), so they run through exactly the
// loops the systems run through.
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "drivers.h"
#include "systems.h"

namespace sbs {
namespace {

constexpr std::size_t kLine = 64;

std::size_t round_up_line(std::size_t n) { return (n + kLine - 1) / kLine * kLine; }

// ---------------------------------------------------------------------------------------------
// SPSC ring: [write index][read index][slots], each index on its own cache line; each side keeps
// a cached copy of the other's index and reloads it only when the ring looks full / empty.
// ---------------------------------------------------------------------------------------------
struct SpscRingChannel {
    static constexpr bool kZeroCopy = false;
    static std::size_t slots(std::size_t frame) { return ring_depth(frame) + 1; }  // one stays empty
    static std::size_t arena_bytes(std::size_t frame) { return 2 * kLine + slots(frame) * round_up_line(frame); }

    struct View {
        View(Side& side, std::size_t frame)
            : write_index(reinterpret_cast<std::atomic<std::uint64_t>*>(side.arena())),
              read_index(reinterpret_cast<std::atomic<std::uint64_t>*>(side.arena() + kLine)),
              slot0(side.arena() + 2 * kLine),
              stride(round_up_line(frame)),
              count(slots(frame)),
              frame_size(frame) {}
        std::byte* slot(std::uint64_t i) const { return slot0 + i * stride; }
        std::uint64_t next(std::uint64_t i) const { return i + 1 == count ? 0 : i + 1; }
        std::atomic<std::uint64_t>* write_index;
        std::atomic<std::uint64_t>* read_index;
        std::byte* slot0;
        std::size_t stride;
        std::uint64_t count;
        std::size_t frame_size;
    };

    class Receiver {
    public:
        Receiver(Side& side, const std::string&, std::size_t frame) : ring_(side, frame) {}
        template <class F>
        void receive(F&& consume, Wake) {
            if (read_ == cached_write_) {
                spin_until([&] { return (cached_write_ = ring_.write_index->load(std::memory_order_acquire)) != read_; },
                           "an SPSC slot");
            }
            consume(ring_.slot(read_), ring_.frame_size);
            read_ = ring_.next(read_);
            ring_.read_index->store(read_, std::memory_order_release);
        }

    private:
        View ring_;
        std::uint64_t read_ = 0;
        std::uint64_t cached_write_ = 0;
    };

    class Sender {
    public:
        Sender(Side& side, const std::string&, std::size_t frame) : ring_(side, frame) {}
        void send(const std::byte* data, std::size_t size) {
            const std::uint64_t next = ring_.next(write_);
            if (next == cached_read_) {
                spin_until([&] { return (cached_read_ = ring_.read_index->load(std::memory_order_acquire)) != next; },
                           "a free SPSC slot");
            }
            std::memcpy(ring_.slot(write_), data, size);
            write_ = next;
            ring_.write_index->store(write_, std::memory_order_release);
        }

    private:
        View ring_;
        std::uint64_t write_ = 0;
        std::uint64_t cached_read_ = 0;
    };
};

// ---------------------------------------------------------------------------------------------
// Futex mailbox: one slot; the sender fills it, bumps `posted` and always calls FUTEX_WAKE; the
// receiver sleeps in FUTEX_WAIT on `posted` and acknowledges in `taken`.
// ---------------------------------------------------------------------------------------------
long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value, const timespec* timeout) {
    return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr, 0);
}

struct FutexChannel {
    static constexpr bool kZeroCopy = false;
    static std::size_t arena_bytes(std::size_t frame) { return 2 * kLine + round_up_line(frame); }

    struct View {
        View(Side& side, const std::string& name, std::size_t frame)
            : base(side.arena() + detail::arena_half(name) * arena_bytes(frame)),
              posted(reinterpret_cast<std::atomic<std::uint32_t>*>(base)),
              taken(reinterpret_cast<std::atomic<std::uint32_t>*>(base + kLine)),
              slot(base + 2 * kLine) {}
        std::byte* base;
        std::atomic<std::uint32_t>* posted;
        std::atomic<std::uint32_t>* taken;
        std::byte* slot;
    };

    class Receiver {
    public:
        Receiver(Side& side, const std::string& name, std::size_t frame) : box_(side, name, frame), frame_(frame) {}
        template <class F>
        void receive(F&& consume, Wake wake) {
            const std::uint64_t deadline = now_ns() + 10'000'000'000ull;
            std::uint32_t posted;
            while ((posted = box_.posted->load(std::memory_order_acquire)) == taken_) {
                if (wake == Wake::spin) {
                    cpu_relax();
                    continue;
                }
                const timespec slice{0, 100'000'000};
                futex(box_.posted, FUTEX_WAIT, taken_, &slice);
                if (now_ns() > deadline) throw_spin_timeout("a futex wake");
            }
            consume(box_.slot, frame_);
            taken_ = posted;
            box_.taken->store(taken_, std::memory_order_release);
        }

    private:
        View box_;
        std::size_t frame_;
        std::uint32_t taken_ = 0;
    };

    class Sender {
    public:
        Sender(Side& side, const std::string& name, std::size_t frame) : box_(side, name, frame) {}
        void send(const std::byte* data, std::size_t size) {
            spin_until([&] { return box_.taken->load(std::memory_order_acquire) == posted_; }, "the futex mailbox");
            std::memcpy(box_.slot, data, size);
            box_.posted->store(++posted_, std::memory_order_release);
            futex(box_.posted, FUTEX_WAKE, 1, nullptr);
        }

    private:
        View box_;
        std::uint32_t posted_ = 0;
    };
};

// ---------------------------------------------------------------------------------------------
// Cache-line ping-pong: A writes an odd value, B answers with the next even one, in one line.
// ---------------------------------------------------------------------------------------------
Measurement cache_line_ping_pong(const Settings& s, double seconds) {
    constexpr std::uint64_t kWarm = 1000;
    const SideFn a = [&](Side& side) {
        auto* line = reinterpret_cast<std::atomic<std::uint64_t>*>(side.arena());
        side.await_peer(1);
        SampleBuffer samples(s.sample_cap);
        const std::uint64_t end_at = now_ns() + to_ns(seconds);
        for (std::uint64_t i = 1;; ++i) {
            const std::uint64_t ask = 2 * i - 1;
            const std::uint64_t t0 = now_ns();
            line->store(ask, std::memory_order_release);
            spin_until([&] { return line->load(std::memory_order_acquire) == ask + 1; }, "the cache-line answer");
            const std::uint64_t t1 = now_ns();
            if (i > kWarm && (!samples.add((t1 - t0) / 2) || t1 >= end_at)) break;
        }
        line->store(kStop, std::memory_order_release);
        samples.summarise_into(side.result());
    };
    const SideFn b = [&](Side& side) {
        auto* line = reinterpret_cast<std::atomic<std::uint64_t>*>(side.arena());
        side.arrive(1);
        for (std::uint64_t ask = 1;; ask += 2) {
            std::uint64_t seen = 0;
            spin_until([&] { return (seen = line->load(std::memory_order_acquire)) == ask || seen == kStop; },
                       "the cache-line question");
            if (seen == kStop) break;
            line->store(ask + 1, std::memory_order_release);
        }
    };
    return run_processes(s, a, b, kLine, detail::watchdog_s(seconds));
}

// ---------------------------------------------------------------------------------------------
// memcpy into ring slots: one process, frames of `frame` bytes copied into consecutive slots
// (16-byte header + frame) of a ring of ring_bytes(frame), wrapping as zerobuffer's ring does.
// ---------------------------------------------------------------------------------------------
Measurement memcpy_into_ring(const Settings& s, std::size_t frame, double seconds) {
    const SideFn copier = [&](Side& side) {
        std::vector<std::byte> ring(ring_bytes(frame), std::byte{1});
        const std::vector<std::byte> source = pattern_frame(frame);
        const std::size_t stride = frame + kFrameHeader;
        const std::uint64_t slots = ring_depth(frame);
        const std::uint64_t check_clock_every = frame >= 65536 ? 1 : 256;
        auto copy_one = [&](std::uint64_t k) {
            std::byte* slot = ring.data() + (k % slots) * stride + kFrameHeader;
            std::memcpy(slot, source.data(), frame);
            asm volatile("" : : "r"(slot) : "memory");  // the copy must happen
        };
        for (std::uint64_t k = 0; k < 2 * slots; ++k) copy_one(k);  // warm: twice round the ring
        const std::uint64_t start = now_ns(), duration = to_ns(seconds);
        std::uint64_t frames = 0, end = start;
        for (;;) {
            copy_one(frames++);
            if (frames % check_clock_every == 0 && (end = now_ns()) - start >= duration) break;
        }
        Measurement& m = side.result();
        m.frames = frames;
        m.bytes = frames * frame;
        m.seconds = static_cast<double>(end - start) / 1e9;
    };
    return run_processes(s, copier, SideFn{}, 0, detail::watchdog_s(seconds));
}

}  // namespace

bool floor_is_measured(Row row) {
    return row == Row::stream_64 || row == Row::awake_64 || row == Row::asleep_64 || row == Row::stream_1m_copy ||
           row == Row::stream_3m_copy || row == Row::relay_steady;
}

Measurement measure_floor(Row row, const Settings& settings) {
    const RowInfo& info = row_info(row);
    const double seconds = settings.seconds * info.time_factor;
    switch (row) {
        case Row::stream_64: return measure_row<SpscRingChannel>(settings, row);
        case Row::awake_64: return cache_line_ping_pong(settings, seconds);
        case Row::asleep_64: return measure_row<FutexChannel>(settings, row);
        // The relay floor: the same two processes relay the frame through two shared slots
        // with a futex wake per hop and a plain memcpy per copy, cross-core copies included.
        case Row::relay_steady: return measure_row<FutexChannel>(settings, row);
        case Row::stream_1m_copy:
        case Row::stream_3m_copy: return memcpy_into_ring(settings, info.frame, seconds);
        default: break;
    }
    Measurement none;
    std::snprintf(none.error, sizeof none.error, "no floor is measured for this row");
    return none;
}

}  // namespace sbs

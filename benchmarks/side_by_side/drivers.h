// The measurement loops, written once for every channel (zerobuffer, Boost and the SPSC and
// futex floors): streaming, ping-pong (awake one-way latency and the steady relay), the relay on
// fresh buffers, and paced one-way latency.
//
// A channel is a one-way path for frames between the two processes of a measurement:
//
//   struct Channel {
//       static constexpr bool kZeroCopy;                    // Sender::send_in_place exists
//       static std::size_t arena_bytes(std::size_t frame);  // shared memory it takes from the
//                                                           // measurement's arena (floors), else 0
//       class Receiver {                                    // created first, in the receiving process
//           Receiver(Side&, const std::string& name, std::size_t frame);
//           template <class F> void receive(F&& consume, Wake);  // consume(const std::byte*, size_t);
//       };                                                  // throws when nothing comes (timeout)
//       class Sender {                                      // attaches once the receiver exists
//           Sender(Side&, const std::string& name, std::size_t frame);
//           void send(const std::byte* data, std::size_t size);                // copies the frame in
//           template <class F> void send_in_place(std::size_t size, F&& fill); // fill(std::byte*, size_t)
//       };                                                  // in the ring, then publish (zero-copy)
//   };
//
// Side A (CPU cpu[0]) is the writer / sender, side B (cpu[1]) the reader / receiver.
#pragma once

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

#include <time.h>

#include "common.h"
#include "frames.h"
#include "processes.h"
#include "resources.h"
#include "stats.h"

namespace sbs {
namespace detail {

inline double watchdog_s(double seconds) { return 3 * seconds + 30; }

inline void sleep_until(std::uint64_t due_ns) {
    const timespec ts{static_cast<time_t>(due_ns / 1'000'000'000ull), static_cast<long>(due_ns % 1'000'000'000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

// "x17": written without operator+(const char*, std::string&&), which g++ 12 warns about
// falsely (-Wrestrict, GCC bug 105329).
inline std::string numbered(const char* prefix, std::uint64_t n) {
    std::string name(prefix);
    name.append(std::to_string(n));
    return name;
}

inline void expect_sequence(std::uint64_t expected, std::uint64_t got) {
    if (got != expected) {
        throw std::runtime_error("expected frame " + std::to_string(expected) + ", got " + std::to_string(got));
    }
}

template <class Ch>
void require_no_arena(std::size_t frame) {
    if (Ch::arena_bytes(frame) != 0) throw std::logic_error("a channel with an arena serves one channel per measurement");
}

// Channels with an arena that serve two channels (ping-pong: "x" out, "y" back) take one half
// each: the arena is twice their size and the "y" channel uses the upper half.
inline std::size_t arena_half(const std::string& name) { return !name.empty() && name.back() == 'y' ? 1 : 0; }

// Sends one stamped frame: copied from `source`, or stamped in place (zero-copy).
template <class Ch>
void send_stamped(typename Ch::Sender& tx, std::vector<std::byte>& source, Copy copy, std::uint64_t sequence,
                  std::uint64_t send_time = 0) {
    if constexpr (Ch::kZeroCopy) {
        if (copy == Copy::zero_copy) {
            tx.send_in_place(source.size(),
                             [&](std::byte* frame, std::size_t size) { stamp_frame(frame, size, sequence, send_time); });
            return;
        }
    }
    stamp_frame(source.data(), source.size(), sequence, send_time);
    tx.send(source.data(), source.size());
}

}  // namespace detail

// Streaming: A sends as fast as it can for `seconds`, B reads every word of every frame. The
// counted part starts after two trips round the ring; throughput is B's, resources both sides'.
template <class Ch>
Measurement stream(const Settings& s, std::size_t frame, Copy copy, double seconds) {
    const std::uint64_t warm = 2 * ring_depth(frame) + 8;
    const std::uint64_t check_clock_every = frame >= 65536 ? 1 : 256;
    const SideFn writer = [&](Side& side) {
        side.await_peer(1);
        typename Ch::Sender tx(side, side.name("stream"), frame);
        std::vector<std::byte> source = pattern_frame(frame);
        ResourceMeter meter(s.syscall_tracepoint);
        const std::uint64_t duration = to_ns(seconds);
        std::uint64_t start = 0;
        for (std::uint64_t seq = 1;; ++seq) {
            detail::send_stamped<Ch>(tx, source, copy, seq);
            if (seq == warm) {
                meter.start();
                start = now_ns();
            } else if (seq > warm && seq % check_clock_every == 0 && now_ns() - start >= duration) {
                break;
            }
        }
        side.result().sender = meter.stop();
        detail::send_stamped<Ch>(tx, source, copy, kStop);
    };
    const SideFn reader = [&](Side& side) {
        typename Ch::Receiver rx(side, side.name("stream"), frame);
        ResourceMeter meter(s.syscall_tracepoint);
        side.arrive(1);
        std::uint64_t expected = 1, fold = 0, start = 0;
        for (;;) {
            std::uint64_t seq = 0;
            rx.receive(
                [&](const std::byte* data, std::size_t size) {
                    if (size != frame) throw std::runtime_error("frame of " + std::to_string(size) + " bytes");
                    fold ^= fold_frame(data, size);
                    seq = frame_sequence(data);
                },
                Wake::block);
            if (seq == kStop) break;
            detail::expect_sequence(expected, seq);
            if (seq == warm) {
                meter.start();
                start = now_ns();
            }
            ++expected;
        }
        const std::uint64_t end = now_ns();
        Measurement& m = side.result();
        m.receiver = meter.stop();
        m.has_resources = true;
        m.frames = expected - 1 - warm;
        m.bytes = m.frames * frame;
        m.seconds = static_cast<double>(end - start) / 1e9;
        m.checksum = fold;
    };
    return run_processes(s, writer, reader, Ch::arena_bytes(frame), detail::watchdog_s(seconds));
}

// Ping-pong: A sends a stamped frame on X, B copies it onto Y, A checks the stamp of what comes
// back. Samples are the round trip, or half of it (`halve`: one-way latency).
template <class Ch>
Measurement ping_pong(const Settings& s, std::size_t frame, double seconds, Wake wake, bool halve) {
    const std::uint64_t warm = frame <= 4096 ? 1000 : 8;
    const SideFn a = [&](Side& side) {
        typename Ch::Receiver back(side, side.name("y"), frame);
        side.sync(1);
        typename Ch::Sender out(side, side.name("x"), frame);
        side.sync(2);
        std::vector<std::byte> source = pattern_frame(frame);
        SampleBuffer samples(s.sample_cap);
        const std::uint64_t end_at = now_ns() + to_ns(seconds);
        for (std::uint64_t seq = 1;; ++seq) {
            const std::uint64_t t0 = now_ns();
            detail::send_stamped<Ch>(out, source, Copy::copy, seq);
            std::uint64_t got = 0;
            back.receive([&](const std::byte* data, std::size_t size) { got = check_stamp(data, size); }, wake);
            const std::uint64_t t1 = now_ns();
            detail::expect_sequence(seq, got);
            if (seq > warm && (!samples.add(halve ? (t1 - t0) / 2 : t1 - t0) || t1 >= end_at)) break;
        }
        detail::send_stamped<Ch>(out, source, Copy::copy, kStop);
        samples.summarise_into(side.result());
    };
    const SideFn b = [&](Side& side) {
        typename Ch::Receiver in(side, side.name("x"), frame);
        side.sync(1);
        typename Ch::Sender back(side, side.name("y"), frame);
        side.sync(2);
        for (bool stop = false; !stop;) {
            in.receive(
                [&](const std::byte* data, std::size_t size) {
                    if (frame_sequence(data) == kStop) stop = true;
                    else back.send(data, size);
                },
                wake);
        }
    };
    return run_processes(s, a, b, 2 * Ch::arena_bytes(frame), detail::watchdog_s(seconds));
}

// The relay on fresh buffers: every round trip gets its own pair of buffers, created just before
// it and removed after it (creation is not timed; the first use of the buffers is).
template <class Ch>
Measurement relay_fresh(const Settings& s, std::size_t frame, double seconds) {
    detail::require_no_arena<Ch>(frame);
    constexpr std::uint64_t kDone = ~0ull;
    const std::uint64_t max_trips = std::min<std::size_t>(s.sample_cap, 1u << 16);
    const SideFn a = [&](Side& side) {
        std::vector<std::byte> source = pattern_frame(frame);
        SampleBuffer samples(max_trips);
        const std::uint64_t end_at = now_ns() + to_ns(seconds);
        std::uint64_t step = 0;
        for (std::uint64_t trip = 1; trip <= max_trips && (trip <= 2 || now_ns() < end_at); ++trip) {
            side.sync(++step);  // a trip begins
            typename Ch::Receiver back(side, side.name(detail::numbered("y", trip)), frame);
            side.sync(++step);  // both receivers exist
            {
                typename Ch::Sender out(side, side.name(detail::numbered("x", trip)), frame);
                side.sync(++step);  // both senders attached
                const std::uint64_t t0 = now_ns();
                detail::send_stamped<Ch>(out, source, Copy::copy, trip);
                std::uint64_t got = 0;
                back.receive([&](const std::byte* data, std::size_t size) { got = check_stamp(data, size); },
                             Wake::block);
                const std::uint64_t t1 = now_ns();
                detail::expect_sequence(trip, got);
                samples.add(t1 - t0);
                side.sync(++step);  // senders go first
            }
            side.sync(++step);  // then the receivers
        }
        side.arrive(kDone);
        samples.summarise_into(side.result());
    };
    const SideFn b = [&](Side& side) {
        std::uint64_t step = 0;
        for (std::uint64_t trip = 1; side.sync(++step) != kDone; ++trip) {
            typename Ch::Receiver in(side, side.name(detail::numbered("x", trip)), frame);
            side.sync(++step);
            {
                typename Ch::Sender back(side, side.name(detail::numbered("y", trip)), frame);
                side.sync(++step);
                in.receive([&](const std::byte* data, std::size_t size) { back.send(data, size); }, Wake::block);
                side.sync(++step);
            }
            side.sync(++step);
        }
    };
    return run_processes(s, a, b, 0, detail::watchdog_s(seconds));
}

// Paced one-way latency: A sends one frame every `period_ns`, stamped with its send time just
// before the send; B, blocked in its wait in between, subtracts it from the time of receipt.
template <class Ch>
Measurement paced(const Settings& s, std::size_t frame, double seconds, std::uint64_t period_ns) {
    constexpr std::uint64_t kSkip = 5;  // the first frames find cold caches
    const std::uint64_t count = std::max<std::uint64_t>(kSkip + 20, to_ns(seconds) / period_ns);
    const SideFn writer = [&](Side& side) {
        side.await_peer(1);
        typename Ch::Sender tx(side, side.name("paced"), frame);
        std::vector<std::byte> source = pattern_frame(frame);
        const std::uint64_t start = now_ns() + period_ns;
        for (std::uint64_t k = 0; k < count; ++k) {
            detail::sleep_until(start + k * period_ns);
            detail::send_stamped<Ch>(tx, source, Copy::copy, k + 1, now_ns());
        }
        detail::send_stamped<Ch>(tx, source, Copy::copy, kStop);
    };
    const SideFn reader = [&](Side& side) {
        typename Ch::Receiver rx(side, side.name("paced"), frame);
        SampleBuffer samples(std::min<std::uint64_t>(s.sample_cap, count));
        side.arrive(1);
        for (std::uint64_t expected = 1;; ++expected) {
            std::uint64_t seq = 0, latency = 0;
            rx.receive(
                [&](const std::byte* data, std::size_t size) {
                    const std::uint64_t received = now_ns();
                    seq = check_stamp(data, size);
                    latency = received - frame_send_time(data, size);
                },
                Wake::block);
            if (seq == kStop) break;
            detail::expect_sequence(expected, seq);
            if (seq > kSkip) samples.add(latency);
        }
        samples.summarise_into(side.result());
    };
    return run_processes(s, writer, reader, Ch::arena_bytes(frame), detail::watchdog_s(seconds));
}

// Runs `row` over channel Ch (the caller skips rows the channel cannot run).
template <class Ch>
Measurement measure_row(const Settings& s, Row row) {
    const RowInfo& info = row_info(row);
    const double seconds = s.seconds * info.time_factor;
    switch (row) {
        case Row::awake_64: return ping_pong<Ch>(s, info.frame, seconds, Wake::spin, true);
        case Row::asleep_64: return paced<Ch>(s, info.frame, seconds, 1'000'000);
        case Row::relay_steady: return ping_pong<Ch>(s, info.frame, seconds, Wake::block, false);
        case Row::relay_fresh: return relay_fresh<Ch>(s, info.frame, seconds);
        default: return stream<Ch>(s, info.frame, info.copy, seconds);
    }
}

}  // namespace sbs

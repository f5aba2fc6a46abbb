#include "watch_rates.h"

#include <limits>

namespace zbcli {

std::optional<Movement> movement_between(const RateSample& before, const RateSample& after) {
    const std::uint64_t S = after.payload_size;
    if (S == 0 || before.payload_size != S || after.written_count < before.written_count) return std::nullopt;
    Movement m;
    m.frames = after.written_count - before.written_count;
    // A Python writer may leave write_pos == S, which is offset 0.
    const std::uint64_t from = before.write_pos % S;
    const std::uint64_t to = after.write_pos % S;
    m.bytes = (to + S - from) % S;
    // Every frame takes 17 bytes at least (16-byte header, one data byte). One frame is let off:
    // a sample may catch a writer between its count and its position update (peers order the
    // two differently), which the next sample makes up for.
    constexpr std::uint64_t kMinFrameBytes = 17;
    const std::uint64_t frames = m.frames > 0 ? m.frames - 1 : 0;
    const std::uint64_t at_least = frames > std::numeric_limits<std::uint64_t>::max() / kMinFrameBytes
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : frames * kMinFrameBytes;
    if (m.bytes < at_least) {
        const std::uint64_t laps = (at_least - m.bytes) / S + ((at_least - m.bytes) % S != 0 ? 1 : 0);
        m.bytes += laps * S;
        m.bytes_lower_bound = true;
    }
    return m;
}

void RateMeter::add(const RateSample& sample) {
    if (last_) {
        if (const auto m = movement_between(*last_, sample)) {
            window_.frames += m->frames;
            window_.bytes += m->bytes;
            window_.bytes_lower_bound = window_.bytes_lower_bound || m->bytes_lower_bound;
        } else {  // re-created: start again from this sample
            window_ = {};
            window_open_ = false;
        }
    }
    if (!window_open_) {
        window_start_ = sample.at;
        window_open_ = true;
    }
    last_ = sample;
}

std::optional<Rates> RateMeter::take() {
    if (!last_ || !window_open_) return std::nullopt;
    const double seconds = std::chrono::duration<double>(last_->at - window_start_).count();
    std::optional<Rates> rates;
    if (seconds > 0.0) {
        rates = Rates{static_cast<double>(window_.frames) / seconds,
                      static_cast<double>(window_.bytes) / seconds / (1024.0 * 1024.0), window_.bytes_lower_bound};
    }
    window_ = {};
    window_start_ = last_->at;
    return rates;
}

}  // namespace zbcli

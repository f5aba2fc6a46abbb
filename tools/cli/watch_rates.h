// Throughput of a buffer from samples of its header, for `zerobuffer watch`.
//
// frames/s comes from payload_written_count (wrap markers count too: about one per ring turn).
// MiB/s comes from the movement of payload_write_pos: bytes placed in the ring, frame headers
// and wrap waste included. A position says where the writer is only modulo the ring, so the
// header is sampled often (every few milliseconds) and the movements between consecutive
// samples are added up; they are exact while the ring turns over less than once between two
// samples. When it may have turned more often (the frames counted need more bytes than the
// movement shows, at 17 bytes per frame at least, one frame let off for a writer caught between
// its two updates) whole laps are added until they fit, and the figure is marked as a lower bound.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace zbcli {

using RateClock = std::chrono::steady_clock;

struct RateSample {
    RateClock::time_point at;
    std::uint64_t payload_size = 0;
    std::uint64_t write_pos = 0;
    std::uint64_t written_count = 0;
};

struct Movement {
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
    bool bytes_lower_bound = false;  // laps were added: the ring may have turned more often
};

// nullopt when the samples cannot be compared: another ring size, or a counter that went back
// (the buffer was re-created).
std::optional<Movement> movement_between(const RateSample& before, const RateSample& after);

struct Rates {
    double frames_per_second = 0.0;
    double mib_per_second = 0.0;
    bool mib_lower_bound = false;
};

// Adds up the movements of a series of samples; take() gives the rates since the previous take()
// and starts a new window at the latest sample.
class RateMeter {
public:
    void add(const RateSample& sample);
    // nullopt until two comparable samples span some time.
    std::optional<Rates> take();
    void reset() { *this = RateMeter(); }

private:
    std::optional<RateSample> last_;
    RateClock::time_point window_start_{};
    Movement window_{};
    bool window_open_ = false;
};

}  // namespace zbcli

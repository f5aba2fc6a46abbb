// The receiver's side of the local buffer: it attaches as the buffer's writer when the local
// consumer has created it (and again after that consumer leaves), writes the metadata before the
// first frame, and writes frames with the receiver's backpressure policy. Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bridge/stats.h"
#include "zerobuffer/bridge.h"
#include "zerobuffer/writer.h"

namespace zerobuffer::bridge::detail {

class LocalSink {
public:
    LocalSink(std::string name, WriterOptions options, StatsCounters& stats, std::string who)
        : name_(std::move(name)), options_(options), stats_(stats), who_(std::move(who)) {}

    [[nodiscard]] bool attached() const noexcept { return writer_.has_value(); }
    // One attempt to attach; true if attached (now or already). Never blocks beyond mapping.
    bool try_attach();

    // The latest metadata of the senders; written into the buffer before its first frame.
    void set_metadata(std::span<const std::byte> metadata);

    enum class Result { written, dropped, oversized, detached, stopped };
    // Writes one frame. block: waits for room (in slices, watching `stop`); drop: only if there
    // is room now. A frame the ring can never hold is refused (oversized) before anything is
    // reserved. Never throws for the consumer's departure: the sink detaches (detached).
    Result write(std::span<const std::byte> payload, Backpressure policy, const std::atomic<bool>& stop);

private:
    void write_metadata_if_due();
    void detach(const std::exception& why);

    std::string name_;
    WriterOptions options_;
    StatsCounters& stats_;
    std::string who_;
    std::optional<Writer> writer_;
    std::uint64_t max_frame_ = 0;  // 16 + size must fit the local ring
    std::vector<std::byte> metadata_;
    bool metadata_conflict_logged_ = false;
    std::string last_attach_error_;
};

}  // namespace zerobuffer::bridge::detail

// Where a Receiver puts what arrives: a local buffer, as its writer, or a topic, as its publisher
// (receiver_topic.cpp). Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
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
    virtual ~LocalSink() = default;
    // One attempt to attach; true if attached (now or already). Never blocks beyond mapping.
    virtual bool try_attach() = 0;
    // The latest metadata of the senders; written before the first frame.
    virtual void set_metadata(std::span<const std::byte> metadata) = 0;

    enum class Result { written, dropped, oversized, detached, stopped };
    // Writes one frame. block: waits for room (in slices, watching `stop`); drop: only if there
    // is room now. Never throws for the local consumer's departure (detached).
    virtual Result write(std::span<const std::byte> payload, Backpressure policy, const std::atomic<bool>& stop) = 0;
};

// Throws InvalidNameException (topic), SystemError (topic: the publisher's thread).
std::unique_ptr<LocalSink> make_local_sink(const std::string& name, const ReceiverOptions& options, StatsCounters& stats,
                                           const std::string& who);

// A local buffer: attaches as its writer when the local consumer has created it (and again after
// that consumer leaves), writes the metadata before the first frame, and refuses a frame its ring
// can never hold (oversized) before anything is reserved.
class BufferSink final : public LocalSink {
public:
    BufferSink(std::string name, WriterOptions options, StatsCounters& stats, std::string who)
        : name_(std::move(name)), options_(options), stats_(stats), who_(std::move(who)) {}
    bool try_attach() override;
    void set_metadata(std::span<const std::byte> metadata) override;
    Result write(std::span<const std::byte> payload, Backpressure policy, const std::atomic<bool>& stop) override;

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

// Where a Sender takes its frames from: a local buffer it creates (as its reader) or a topic it
// subscribes to (its own subscriber buffer T@ID). Internal.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "zerobuffer/bridge.h"
#include "zerobuffer/frame.h"

namespace zerobuffer::bridge::detail {

class LocalSource {
public:
    virtual ~LocalSource() = default;
    // Reader::read_frame / Subscriber::read_frame: an invalid Frame on timeout; throws
    // WriterDeadException once the local producer (publisher) left.
    [[nodiscard]] virtual Frame read_frame(std::chrono::milliseconds timeout) = 0;
    [[nodiscard]] virtual std::span<const std::byte> metadata() const = 0;
    // Waits up to `timeout` for a local producer (publisher) to be attached.
    [[nodiscard]] virtual bool wait_for_producer(std::chrono::milliseconds timeout) const = 0;
    // The buffer's name (topic: T@ID).
    [[nodiscard]] virtual const std::string& buffer_name() const noexcept = 0;
};

// Throws what Reader's or Subscriber's constructor throws.
std::unique_ptr<LocalSource> make_local_source(const std::string& name, const SenderOptions& options);

}  // namespace zerobuffer::bridge::detail

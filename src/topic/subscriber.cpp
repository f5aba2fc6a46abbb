// Subscriber: a Reader on TOPIC@ID that reports each publisher's departure once and then waits
// for the next publisher.
#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "core/deadline.h"
#include "topic/topic_names.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/reader.h"
#include "zerobuffer/topic.h"

namespace zerobuffer {

class ZEROBUFFER_NO_EXPORT Subscriber::Impl {
public:
    using Clock = std::chrono::steady_clock;

    Impl(std::string topic, const BufferConfig& config, std::string id, const ReaderOptions& options)
        : topic_(std::move(topic)),
          id_(id.empty() ? detail::default_subscriber_id() : std::move(id)),
          name_(subscriber_buffer_name(topic_, id_)),
          reader_(name_, config, options) {}

    // Reader::read_frame, noting a publisher's departure (reported once; then wait for the next).
    Frame read_reporting(std::chrono::milliseconds timeout) {
        departure_reported_ = false;
        try {
            return reader_.read_frame(timeout);
        } catch (const WriterDeadException&) {
            departure_reported_ = true;
            throw;
        }
    }

    Frame read_frame(std::chrono::milliseconds timeout) {
        if (!departure_reported_) return read_reporting(timeout);
        if (timeout.count() < 0) {
            throw InvalidArgumentException(
                fmt::format("buffer '{}': read timeout must not be negative, got {} ms", name_, timeout.count()));
        }
        // The departed publisher's successor: frames it already wrote, or its arrival.
        if (Frame frame = reader_.try_read_frame()) {
            departure_reported_ = false;
            return frame;
        }
        const auto deadline = detail::deadline_after<Clock>(Clock::now(), timeout);
        for (;;) {
            if (reader_.is_writer_connected()) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
                return read_reporting(std::max(left, std::chrono::milliseconds::zero()));
            }
            if (Frame frame = reader_.try_read_frame()) {  // a publisher that came and went already
                departure_reported_ = false;
                return frame;
            }
            const auto now = Clock::now();
            if (now >= deadline) return {};
            std::this_thread::sleep_for(std::min<Clock::duration>(kPoll, deadline - now));
        }
    }

    static constexpr std::chrono::milliseconds kPoll{5};

    const std::string topic_;
    const std::string id_;
    const std::string name_;
    Reader reader_;
    bool departure_reported_ = false;
};

Subscriber::Subscriber(std::string topic, const BufferConfig& config, std::string id, const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(std::move(topic), config, std::move(id), options)) {}
Subscriber::~Subscriber() = default;
Subscriber::Subscriber(Subscriber&&) noexcept = default;
Subscriber& Subscriber::operator=(Subscriber&&) noexcept = default;

namespace {
[[noreturn]] void throw_moved_from() { throw ObjectClosedException("subscriber was moved from"); }
}  // namespace

Frame Subscriber::read_frame(std::chrono::milliseconds timeout) {
    if (!impl_) throw_moved_from();
    return impl_->read_frame(timeout);
}
Frame Subscriber::try_read_frame() {
    if (!impl_) throw_moved_from();
    Frame frame = impl_->reader_.try_read_frame();
    if (frame) impl_->departure_reported_ = false;
    return frame;
}
std::span<const std::byte> Subscriber::metadata() const {
    if (!impl_) throw_moved_from();
    return impl_->reader_.metadata();
}
bool Subscriber::is_publisher_connected() const { return impl_ && impl_->reader_.is_writer_connected(); }
bool Subscriber::wait_for_publisher(std::chrono::milliseconds timeout) const {
    if (!impl_) throw_moved_from();
    return impl_->reader_.wait_for_writer(timeout);
}
BufferHealth Subscriber::health() const {
    if (!impl_) throw_moved_from();
    return impl_->reader_.health();
}
std::uint64_t Subscriber::frames_read() const noexcept { return impl_ ? impl_->reader_.frames_read() : 0; }
const std::string& Subscriber::topic() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->topic_ : empty;
}
const std::string& Subscriber::id() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->id_ : empty;
}
const std::string& Subscriber::buffer_name() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->name_ : empty;
}
void Subscriber::close() noexcept {
    if (impl_) impl_->reader_.close();
}
bool Subscriber::is_open() const noexcept { return impl_ && impl_->reader_.is_open(); }

}  // namespace zerobuffer

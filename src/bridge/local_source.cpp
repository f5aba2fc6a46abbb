#include "bridge/local_source.h"

#include "zerobuffer/reader.h"
#include "zerobuffer/topic.h"

namespace zerobuffer::bridge::detail {
namespace {

class BufferSource final : public LocalSource {
public:
    BufferSource(const std::string& name, const SenderOptions& options) : reader_(name, options.buffer, options.reader) {}
    Frame read_frame(std::chrono::milliseconds timeout) override { return reader_.read_frame(timeout); }
    std::span<const std::byte> metadata() const override { return reader_.metadata(); }
    bool wait_for_producer(std::chrono::milliseconds timeout) const override { return reader_.wait_for_writer(timeout); }
    const std::string& buffer_name() const noexcept override { return reader_.name(); }

private:
    Reader reader_;
};

class TopicSource final : public LocalSource {
public:
    TopicSource(const std::string& topic, const SenderOptions& options)
        : subscriber_(topic, options.buffer, options.subscriber_id, options.reader) {}
    Frame read_frame(std::chrono::milliseconds timeout) override { return subscriber_.read_frame(timeout); }
    std::span<const std::byte> metadata() const override { return subscriber_.metadata(); }
    bool wait_for_producer(std::chrono::milliseconds timeout) const override {
        return subscriber_.wait_for_publisher(timeout);
    }
    const std::string& buffer_name() const noexcept override { return subscriber_.buffer_name(); }

private:
    Subscriber subscriber_;
};

}  // namespace

std::unique_ptr<LocalSource> make_local_source(const std::string& name, const SenderOptions& options) {
    if (options.local == LocalKind::topic) return std::make_unique<TopicSource>(name, options);
    return std::make_unique<BufferSource>(name, options);
}

}  // namespace zerobuffer::bridge::detail

// Duplex channel names, the default response configuration, the error kinds and the timeout
// exception.
#include <system_error>

#include <fmt/format.h>

#include "core/names.h"
#include "duplex/common.h"
#include "zerobuffer/duplex/errors.h"
#include "zerobuffer/duplex/names.h"

namespace zerobuffer {

void validate_channel_name(std::string_view channel) {
    if (channel.size() > kMaxChannelNameLength) {
        throw InvalidNameException(fmt::format(
            "duplex channel name '{}...' is {} characters long; at most {} are allowed "
            "({} for a buffer name minus {} for the '{}' suffix)",
            channel.substr(0, 32), channel.size(), kMaxChannelNameLength, protocol::kMaxNameLength,
            kResponseSuffix.size(), kResponseSuffix));
    }
    detail::validate_name(channel, "duplex channel name");
}

std::string request_buffer_name(std::string_view channel) {
    return std::string(channel) + std::string(kRequestSuffix);
}

std::string response_buffer_name(std::string_view channel) {
    return std::string(channel) + std::string(kResponseSuffix);
}

BufferConfig default_response_config() noexcept {
    BufferConfig config;
    config.metadata_size = 4096;
    config.payload_size = std::size_t{256} * 1024 * 1024;
    return config;
}

DuplexTimeoutException::DuplexTimeoutException(const std::string& message)
    : ZeroBufferException(message, std::make_error_code(std::errc::timed_out)) {}

const char* to_string(DuplexErrorKind kind) noexcept {
    switch (kind) {
        case DuplexErrorKind::handler_failed: return "handler_failed";
        case DuplexErrorKind::init_failed: return "init_failed";
        case DuplexErrorKind::response_missing: return "response_missing";
        case DuplexErrorKind::too_many_responses: return "too_many_responses";
        case DuplexErrorKind::client_disconnected: return "client_disconnected";
        case DuplexErrorKind::client_died: return "client_died";
        case DuplexErrorKind::response_attach_failed: return "response_attach_failed";
        case DuplexErrorKind::response_write_failed: return "response_write_failed";
        case DuplexErrorKind::protocol_error: return "protocol_error";
        case DuplexErrorKind::fatal: return "fatal";
    }
    return "unknown";
}

namespace detail {

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no exception";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "a non-standard exception";
    }
}

}  // namespace detail
}  // namespace zerobuffer

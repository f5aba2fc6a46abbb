// Duplex channel: names, shared helpers and the factory.
#include <optional>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "core/names.h"
#include "duplex/duplex_internal.h"
#include "ownership/buffer_probe.h"
#include "ownership/reclaim.h"
#include "platform/posix/process.h"
#include "zerobuffer/duplex.h"

namespace zerobuffer {

// ---- names ----

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

BufferConfig default_response_config() {
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

// ---- shared helpers ----

namespace detail {

bool process_alive(std::uint64_t pid) noexcept {
    try {
        return posix::pid_alive(pid);
    } catch (...) {
        return true;  // cannot tell: do not declare a peer dead on a failed probe
    }
}

std::uint64_t peek_reader_pid(const std::string& name) noexcept {
    try {
        const BufferProbe probe = probe_buffer(name);
        if (probe.oieb && probe.facts.oieb == OiebStatus::valid) return probe.oieb->reader_pid;
    } catch (...) {
    }
    return 0;
}

bool reclaim_stale_buffer(const std::string& name) noexcept {
    try {
        return !reclaim_if_stale(name, {.lock_grace = std::chrono::milliseconds(100)}).removed.empty();
    } catch (...) {
        return false;
    }
}

}  // namespace detail

// ---- factory ----

ImmutableDuplexServer DuplexChannelFactory::create_immutable_server(std::string channel,
                                                                    const BufferConfig& request_config,
                                                                    DuplexServerOptions options) const {
    return ImmutableDuplexServer(std::move(channel), request_config, std::move(options));
}

DuplexClient DuplexChannelFactory::create_client(std::string channel, DuplexClientOptions options) const {
    return DuplexClient(std::move(channel), std::move(options));
}

DuplexClient DuplexChannelFactory::create_client(std::string channel, const BufferConfig& response_config,
                                                 std::chrono::milliseconds connect_timeout) const {
    DuplexClientOptions options;
    options.response_config = response_config;
    options.connect_timeout = connect_timeout;
    return DuplexClient(std::move(channel), std::move(options));
}

bool DuplexChannelFactory::wait_exists(std::string_view channel, std::chrono::milliseconds timeout) {
    validate_channel_name(channel);
    detail::validate_timeout(channel, timeout, "wait_exists timeout");
    const std::string name = request_buffer_name(channel);
    const auto deadline = detail::deadline_in(timeout);
    for (;;) {
        const detail::BufferProbe probe = detail::probe_buffer(name);
        if (probe.facts.oieb == detail::OiebStatus::valid && probe.reader.state == detail::PeerState::alive) return true;
        if (detail::DuplexClock::now() >= deadline) return false;
        detail::sleep_until_at_most(deadline, std::chrono::milliseconds(10));
    }
}

}  // namespace zerobuffer

// DuplexChannelFactory: the peers' entry point.
#include "core/names.h"
#include "duplex/common.h"
#include "ownership/buffer_probe.h"
#include "zerobuffer/duplex/factory.h"

namespace zerobuffer {

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

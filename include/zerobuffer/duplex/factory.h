// DuplexChannelFactory: the peers' entry point to duplex channels.
#pragma once

#include "zerobuffer/export.h"

#include <chrono>
#include <string>
#include <string_view>

#include "zerobuffer/config.h"
#include "zerobuffer/duplex/client.h"
#include "zerobuffer/duplex/server.h"

namespace zerobuffer {

// Stateless; any thread.
class ZEROBUFFER_API DuplexChannelFactory {
public:
    // ImmutableDuplexServer(channel, request_config, options): validated, not started. Same throws.
    [[nodiscard]] ImmutableDuplexServer create_immutable_server(std::string channel,
                                                                const BufferConfig& request_config = {},
                                                                DuplexServerOptions options = {}) const;
    // DuplexClient(channel, options): connects, blocking up to options.connect_timeout. Same throws.
    [[nodiscard]] DuplexClient create_client(std::string channel, DuplexClientOptions options = {}) const;
    [[nodiscard]] DuplexClient create_client(std::string channel, const BufferConfig& response_config,
                                             std::chrono::milliseconds connect_timeout = std::chrono::seconds(5)) const;
    // True once a live server has created CH_request; polls every 10 ms until `timeout` (> 0).
    // Blocks up to `timeout`. Does not attach. Throws InvalidNameException,
    // InvalidArgumentException (timeout).
    [[nodiscard]] static bool wait_exists(std::string_view channel, std::chrono::milliseconds timeout);
};

}  // namespace zerobuffer

// Feature 13: Duplex Channel (catalogue §1.13): what the scenarios of
// feature_13_duplex_round_trips.cpp and feature_13_duplex_peer_failures.cpp share: a small
// client configuration, an echo handler, a byte comparison and the test fixture.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenario_util.h"
#include "zerobuffer/duplex.h"

namespace zerobuffer::scenario {

inline DuplexClientOptions small_client(std::chrono::milliseconds connect_timeout = 5s) {
    DuplexClientOptions o;
    o.response_config = config(4096, 1u << 20);
    o.connect_timeout = connect_timeout;
    return o;
}

inline void echo(const Frame& request, Writer& response) { (void)response.write_frame(request.data()); }

// What every scenario sets up: a unique channel whose two buffers are removed even if the test
// fails and, for the scenarios that need one, a server in a forked child (an echo server or
// another handler) that serves until the end of the test. TearDown stops it and checks that it
// stopped cleanly, unless the test already waited for it (a server that was meant to die).
class Feature13_DuplexChannel : public ::testing::Test {
protected:
    // A new channel named after `base`; its buffers are removed at the end of the test.
    std::string new_channel(std::string_view base) {
        std::string channel = names_.make(base);
        names_.adopt(request_buffer_name(channel));
        names_.adopt(response_buffer_name(channel));
        return channel;
    }

    // Starts the server process on a new channel (the process is forked before any thread of
    // this process starts); true once clients may connect. channel() names the channel.
    [[nodiscard]] bool start_server_process(std::string_view base, const BufferConfig& request_config,
                                            WriterHandler handler = echo) {
        channel_ = new_channel(base);
        server_.emplace([this, request_config, handler] {
            ImmutableDuplexServer server(channel_, request_config);
            server.start_with_writer(handler);
            ready_.signal();
            require(stop_.wait(120s).has_value(), "stop signal");
            server.stop();
            return 0;
        });
        return ready_.wait(10s).has_value();
    }
    const std::string& channel() const noexcept { return channel_; }

    // Waits for a server process that ends by itself (killed) and returns its exit code.
    std::optional<int> server_exit_code() {
        server_waited_ = true;
        return server_->wait(10s);
    }

    void TearDown() override {
        if (server_ && !server_waited_) {
            stop_.signal();
            EXPECT_EQ(server_->wait(10s), 0) << "the server process did not stop cleanly";
        }
    }

private:
    NameScope names_;  // declared first: removes the buffers after the server process has ended
    Latch ready_, stop_;
    std::string channel_;
    std::optional<Child> server_;
    bool server_waited_ = false;
};

inline bool same_bytes(const Frame& f, const std::vector<std::byte>& expected) {
    return f.size() == expected.size() && std::memcmp(f.data().data(), expected.data(), expected.size()) == 0;
}

}  // namespace zerobuffer::scenario

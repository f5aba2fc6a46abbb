// Duplex server stop: latency, cleanup, and a stop from inside a handler.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// stop() returns within the 100 ms target (idle server, with and without a client) and leaves
// nothing of the server behind.
TEST(DuplexStop, StopLatencyAndCleanup) {
    NameScope names;
    const std::string ch = make_channel(names, "stoplat");
    double worst = 0;
    for (const ProcessingMode mode : {ProcessingMode::single_thread, ProcessingMode::thread_pool}) {
        for (const bool with_client : {false, true}) {
            ImmutableDuplexServer server(ch, server_config());
            server.start([](const Frame& request, ResponseWriter& response) { response.write_frame(request.data()); },
                         {}, mode);
            std::optional<DuplexClient> client;
            if (with_client) {
                client.emplace(ch, client_options());
                client->send_request(bytes_of("x"));
                ASSERT_TRUE(client->receive_response(2s));
            }
            std::this_thread::sleep_for(30ms);  // let the server settle into its idle wait
            const auto t0 = Clock::now();
            server.stop();
            const double ms = ms_since(t0);
            worst = std::max(worst, ms);
            std::printf("[ info ] stop() took %.2f ms (%s, %s)\n", ms,
                        mode == ProcessingMode::single_thread ? "single_thread" : "thread_pool",
                        with_client ? "client connected" : "no client");
            EXPECT_FALSE(server.is_running());
            for (const auto& path : object_paths(request_buffer_name(ch))) {
                EXPECT_FALSE(std::filesystem::exists(path)) << "left behind: " << path;
            }
            if (client) {
                EXPECT_FALSE(client->is_server_connected());
                client->close();
            }
        }
    }
    // Target 100 ms; asserted with margin for a loaded 2-core machine.
    EXPECT_LT(worst, 100.0 + 150.0);
    names.expect_clean();
}

// Stop from inside a handler does not deadlock; the server stops after the handler returns.
TEST(DuplexStop, StopFromInsideHandler) {
    NameScope names;
    const std::string ch = make_channel(names, "stopin");
    ImmutableDuplexServer server(ch, server_config());
    server.start_with_writer([&](const Frame& request, Writer& response) {
        response.write_frame(request.data());
        server.stop();
    });
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("last"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "last");
    EXPECT_TRUE(eventually([&] { return !server.is_running(); }, 2s));
    server.stop();  // joins
    client.close();
    names.expect_clean();
}

}  // namespace
}  // namespace zerobuffer::test::duplex

// Duplex channel restarts: servers stopped, killed and replaced under a live client; clients
// coming and going (gracefully, SIGKILLed, reopened) under a live server.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// The server is stopped and a new one started while a client stays connected and idle: the
// client's next send reconnects by itself (nothing was pending), and the new server's on_init
// gets the client's metadata again.
TEST(DuplexRestart, ServerRestartUnderLiveClient) {
    NameScope names;
    const std::string ch = make_channel(names, "srvrestart");
    std::atomic<int> inits{0};
    // Guarded by a mutex: the order between this thread and the server thread goes through
    // shared memory mapped twice in this process, which ThreadSanitizer cannot relate.
    std::mutex seen_mutex;
    std::string seen_metadata;
    auto seen = [&] {
        std::lock_guard lock(seen_mutex);
        return seen_metadata;
    };
    auto on_init = [&](std::span<const std::byte> metadata) {
        std::lock_guard lock(seen_mutex);
        seen_metadata = text_of(metadata);
        ++inits;
    };
    std::optional<ImmutableDuplexServer> server(std::in_place, ch, server_config());
    server->start(echo_handler(), on_init);
    auto options = client_options();
    options.metadata.assign(bytes_of("client-meta").begin(), bytes_of("client-meta").end());
    DuplexClient client(ch, options);
    client.send_request(bytes_of("one"));
    ASSERT_TRUE(client.receive_response(2s));
    EXPECT_EQ(inits.load(), 1);
    EXPECT_EQ(seen(), "client-meta");

    server.reset();
    EXPECT_FALSE(client.is_server_connected());
    server.emplace(ch, server_config());
    server->start(echo_handler(), on_init);
    {
        std::lock_guard lock(seen_mutex);
        seen_metadata.clear();
    }
    client.send_request(bytes_of("two"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "two");
    EXPECT_EQ(client.reconnects(), 1u);
    EXPECT_EQ(inits.load(), 2);
    EXPECT_EQ(seen(), "client-meta");
    EXPECT_TRUE(client.is_server_connected());
}

// A server process is SIGKILLed while the client is idle; the client notices within 250 ms
// (is_server_connected), and its next send goes to the replacement server.
TEST(DuplexRestart, ServerKilledAndReplacedUnderLiveClient) {
    NameScope names;
    const std::string ch = make_channel(names, "srvkill");
    Latch ready, stop;
    Child first([&] {
        ImmutableDuplexServer server(ch, server_config());
        server.start(echo_handler());
        ready.signal();
        stop.wait(30s);
        return 0;
    });
    ASSERT_TRUE(ready.wait(10s));
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("before"));
    ASSERT_TRUE(client.receive_response(2s));
    const auto killed_at = Clock::now();
    first.kill_hard();
    ASSERT_TRUE(eventually([&] { return !client.is_server_connected(); }, 2s));
    const double ms = ms_since(killed_at);
    std::printf("[ info ] idle client saw the server's SIGKILL after %.1f ms\n", ms);
    EXPECT_LT(ms, 250.0);

    ImmutableDuplexServer second(ch, server_config());  // reclaims the killed server's buffer
    second.start(echo_handler());
    client.send_request(bytes_of("after"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "after");
    EXPECT_EQ(client.reconnects(), 1u);
    EXPECT_EQ(first.wait(5s), 128 + SIGKILL);
}

// A server process is SIGKILLed while the client waits for a response: receive_response throws
// within 250 ms of the kill. The next send waits for (and finds) a new server.
TEST(DuplexRestart, ServerSigkillDetectedByWaitingClientWithin250ms) {
    NameScope names;
    const std::string ch = make_channel(names, "srvkill2");
    Latch ready, stop, handling;
    Child server_process([&] {
        ImmutableDuplexServer server(ch, server_config());
        server.start_with_writer([&](const Frame&, Writer&) {
            handling.signal();
            std::this_thread::sleep_for(30s);
        });
        ready.signal();
        stop.wait(30s);
        return 0;
    });
    ASSERT_TRUE(ready.wait(10s));
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("hang"));
    ASSERT_TRUE(handling.wait(5s));
    std::atomic<bool> killed{false};
    Clock::time_point killed_at;
    std::thread killer([&] {
        std::this_thread::sleep_for(100ms);
        killed_at = Clock::now();
        killed = true;
        server_process.kill_hard();
    });
    bool threw = false;
    try {
        (void)client.receive_response(5s);
    } catch (const WriterDeadException&) {
        threw = true;
    }
    const auto detected_at = Clock::now();
    killer.join();
    ASSERT_TRUE(threw);
    ASSERT_TRUE(killed.load());
    const double ms = std::chrono::duration<double, std::milli>(detected_at - killed_at).count();
    std::printf("[ info ] waiting client detected the server's SIGKILL after %.1f ms\n", ms);
    EXPECT_LT(ms, 250.0);
    EXPECT_EQ(server_process.wait(5s), 128 + SIGKILL);

    // The next send reconnects to a new server (started a little later: the client waits).
    std::thread starter([&] {
        std::this_thread::sleep_for(100ms);
        ImmutableDuplexServer replacement(ch, server_config());
        replacement.start(echo_handler());
        std::this_thread::sleep_for(1500ms);
    });
    client.send_request(bytes_of("again"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "again");
    r.release();
    starter.join();
    client.close();
    names.expect_clean();
}

// Client processes come and go under one live server: a graceful exit, then a SIGKILL. The
// server reports each (client_disconnected, client_died within 250 ms), removes the killed
// client's response buffer, and serves the next client, which starts from a clean channel.
TEST(DuplexRestart, ClientRestartUnderLiveServer) {
    NameScope names;
    const std::string ch = make_channel(names, "clirestart");
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    std::vector<std::string> metadata_seen;
    std::mutex meta_mutex;
    server.start(echo_handler(), [&](std::span<const std::byte> m) {
        std::lock_guard lock(meta_mutex);
        metadata_seen.push_back(text_of(m));
    });

    auto run_client = [&](const std::string& meta, int requests, bool hang) {
        return Child([=] {
            auto o = client_options();
            o.metadata.assign(bytes_of(meta).begin(), bytes_of(meta).end());
            DuplexClient client(ch, o);
            for (int i = 0; i < requests; ++i) {
                client.send_request(bytes_of(meta + std::to_string(i)));
                auto r = client.receive_response(5s);
                if (!r || text_of(r) != meta + std::to_string(i)) return 1;
            }
            if (hang) std::this_thread::sleep_for(30s);
            return 0;
        });
    };

    Child graceful = run_client("first", 5, false);
    EXPECT_EQ(graceful.wait(10s), 0);
    ASSERT_TRUE(log.wait_for(DuplexErrorKind::client_disconnected, 2s)) << log.dump();

    Child doomed = run_client("second", 3, true);
    ASSERT_TRUE(eventually([&] { return server.requests_handled() == 8; }, 5s));
    const auto killed_at = Clock::now();
    doomed.kill_hard();
    auto died = log.wait_for(DuplexErrorKind::client_died, 2s);
    ASSERT_TRUE(died) << log.dump();
    const double ms = std::chrono::duration<double, std::milli>(died->when - killed_at).count();
    std::printf("[ info ] server reported the client's SIGKILL after %.1f ms\n", ms);
    EXPECT_LT(ms, 250.0);
    EXPECT_EQ(died->error.request, 3u);
    // The killed client's CH_response was reclaimed by the server.
    for (const auto& path : object_paths(response_buffer_name(ch))) {
        EXPECT_FALSE(std::filesystem::exists(path)) << "left behind: " << path;
    }

    Child third = run_client("third", 4, false);
    EXPECT_EQ(third.wait(10s), 0);
    EXPECT_EQ(doomed.wait(5s), 128 + SIGKILL);
    ASSERT_TRUE(log.wait_for(DuplexErrorKind::client_disconnected, 2s)) << log.dump();
    EXPECT_EQ(server.clients_served(), 3u);
    EXPECT_EQ(server.requests_handled(), 12u);
    {
        std::lock_guard lock(meta_mutex);
        EXPECT_EQ(metadata_seen, (std::vector<std::string>{"first", "second", "third"}));
    }
    EXPECT_TRUE(server.is_running());
    server.stop();
    names.expect_clean();
}

// The same process closes its client and opens a new one on a live server.
TEST(DuplexRestart, ClientReopenedInSameProcess) {
    NameScope names;
    const std::string ch = make_channel(names, "reopen");
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    server.start(echo_handler());
    for (int round = 0; round < 3; ++round) {
        DuplexClient client(ch, client_options());
        for (int i = 0; i < 3; ++i) {
            client.send_request(bytes_of("round" + std::to_string(round) + "." + std::to_string(i)));
            auto r = client.receive_response(2s);
            ASSERT_TRUE(r);
            EXPECT_EQ(text_of(r), "round" + std::to_string(round) + "." + std::to_string(i));
        }
        client.close();
        ASSERT_TRUE(log.wait_for(DuplexErrorKind::client_disconnected, 2s)) << log.dump();
    }
    EXPECT_EQ(server.clients_served(), 3u);
    EXPECT_EQ(log.count(DuplexErrorKind::protocol_error), 0u) << log.dump();
}

}  // namespace
}  // namespace zerobuffer::test::duplex

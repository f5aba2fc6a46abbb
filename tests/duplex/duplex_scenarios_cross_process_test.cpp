// Feature 13 of the acceptance catalogue (scenarios.md §1.13), the scenarios with a second
// process: 13.1 (basic request-response), 13.5 (server death) and 13.9 (client death); the
// others are in duplex_scenarios_single_process_test.cpp. Where upstream's expectation is weak
// or inconsistent, the test asserts what a user would expect and says so.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include <unistd.h>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// Runs an echo server (metadata 4096, payload 1 MiB) for channel `ch` in a forked child until
// the parent signals `stop`. Exit code 0 after a clean stop.
Child spawn_echo_server(const std::string& ch, Latch& ready, Latch& stop, WriterHandler handler = writer_echo_handler(),
                        BufferConfig config = server_config()) {
    return Child([=, &ready, &stop] {
        ImmutableDuplexServer server(ch, config);
        server.start_with_writer(handler);
        ready.signal();
        stop.wait(20s);
        server.stop();
        return server.is_running() ? 1 : 0;
    });
}

std::uint64_t now_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// 13.1 Basic request-response, server and client in separate processes. The client uses
// acquire/commit and puts a microsecond timestamp in the first 8 bytes, as upstream's does.
TEST(Feature13, S13_1_BasicRequestResponse) {
    NameScope names;
    const std::string ch = make_channel(names, "duplex-basic");
    Latch ready, stop;
    Child server = spawn_echo_server(ch, ready, stop);
    ASSERT_TRUE(ready.wait(10s));

    DuplexClient client(ch, client_options());
    for (const std::size_t size : {std::size_t{1}, std::size_t{1024}, std::size_t{102400}}) {
        auto buffer = client.acquire_request_buffer(size);
        const auto expected = pattern(size, size);
        std::memcpy(buffer.data(), expected.data(), size);
        if (size >= 8) {
            const std::uint64_t stamp = now_us();
            std::memcpy(buffer.data(), &stamp, sizeof stamp);
        }
        std::vector<std::byte> sent(buffer.begin(), buffer.end());
        client.commit_request();
        auto response = client.receive_response(5s);
        ASSERT_TRUE(response) << "size " << size;
        ASSERT_EQ(response.size(), size);
        EXPECT_EQ(std::memcmp(response.data().data(), sent.data(), size), 0) << "size " << size;
        if (size >= 8) {
            std::uint64_t stamp = 0;
            std::memcpy(&stamp, response.data().data(), sizeof stamp);
            EXPECT_LE(stamp, now_us());
        }
    }
    client.close();
    stop.signal();
    EXPECT_EQ(server.wait(10s), 0);
    names.expect_clean();
}

// 13.5 Server death during processing: the handler crashes 100 ms into a 1024-byte request;
// the client, waiting with a 5 s timeout, detects it and throws (well before 5 s).
TEST(Feature13, S13_5_ServerDeathDuringProcessing) {
    NameScope names;
    const std::string ch = make_channel(names, "duplex-srvdeath");
    Latch ready, stop;
    Child server = spawn_echo_server(ch, ready, stop, [](const Frame& request, Writer& response) {
        if (request.size() == 1024) {
            std::this_thread::sleep_for(100ms);
            ::raise(SIGKILL);
        }
        response.write_frame(request.data());
    });
    ASSERT_TRUE(ready.wait(10s));
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("warm-up"));
    ASSERT_TRUE(client.receive_response(5s));

    const auto t0 = Clock::now();
    client.send_request(pattern(1024, 0));
    std::string what;
    try {
        (void)client.receive_response(5s);
        ADD_FAILURE() << "receive_response returned instead of throwing";
    } catch (const WriterDeadException& e) {
        what = e.what();
    }
    const double ms = ms_since(t0);
    std::printf("[ info ] server crash detected by the waiting client %.1f ms after the request (crash at ~100 ms)\n", ms);
    EXPECT_GE(ms, 95.0);
    EXPECT_LT(ms, 100.0 + 250.0);
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    EXPECT_NE(what.find("1 request(s) remain unanswered"), std::string::npos) << what;
    EXPECT_EQ(server.wait(5s), 128 + SIGKILL);
    EXPECT_FALSE(client.is_server_connected());
    client.close();
    // The client removed the killed server's request buffer too.
    names.expect_clean();
}

// 13.9 Client death during the response wait: the handler takes 600 ms (upstream: 2 s), the
// client is killed 200 ms in (upstream: 1 s). The server finishes the handler, detects the
// client's death, reports it, and serves the next client.
TEST(Feature13, S13_9_ClientDeathDuringResponseWait) {
    NameScope names;
    const std::string ch = make_channel(names, "duplex-clidie");
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    std::atomic<int> finished{0};
    std::atomic<Clock::rep> finished_at{0};
    server.start_with_writer([&](const Frame& request, Writer& response) {
        if (text_of(request) == "slow") std::this_thread::sleep_for(600ms);
        finished_at = Clock::now().time_since_epoch().count();
        ++finished;
        response.write_frame(request.data());  // throws ReaderDead if it sees the dead client first
    });
    Latch sent;
    Child client_process([&] {
        DuplexClient client(ch, client_options());
        client.send_request(bytes_of("slow"));
        sent.signal();
        (void)client.receive_response(10s);
        return 3;
    });
    ASSERT_TRUE(sent.wait(10s));
    std::this_thread::sleep_for(200ms);
    const auto killed_at = Clock::now();
    client_process.kill_hard();
    auto died = log.wait_for(DuplexErrorKind::client_died, 3s);
    ASSERT_TRUE(died) << log.dump();
    const double ms = std::chrono::duration<double, std::milli>(died->when - killed_at).count();
    std::printf("[ info ] client death reported %.1f ms after the kill (handler had ~400 ms left)\n", ms);
    ASSERT_GE(finished.load(), 1) << "the handler did not finish";
    EXPECT_GE(died->when.time_since_epoch().count(), finished_at.load()) << "reported before the handler finished";
    EXPECT_LT(ms, 400.0 + 250.0);
    EXPECT_EQ(died->error.client_pid, static_cast<std::uint64_t>(client_process.pid()));
    EXPECT_EQ(client_process.wait(5s), 128 + SIGKILL);

    // Goes on serving.
    EXPECT_TRUE(server.is_running());
    DuplexClient next(ch, client_options());
    next.send_request(bytes_of("next"));
    auto r = next.receive_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "next");
    EXPECT_EQ(server.clients_served(), 2u);
}

}  // namespace
}  // namespace zerobuffer::test::duplex

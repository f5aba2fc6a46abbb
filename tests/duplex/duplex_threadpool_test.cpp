// Duplex ThreadPool mode: concurrent handlers, responses strictly in request order.
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

DuplexServerOptions pool_options(ErrorLog& log, std::size_t workers) {
    auto o = server_options(log);
    o.worker_threads = workers;
    return o;
}

// Handlers sleep a random 0-4 ms, so they finish out of order; the responses must still come
// back in request order, and handlers must really have overlapped.
TEST(DuplexThreadPool, OrderPreservedUnderRandomHandlerDelays) {
    NameScope names;
    const std::string ch = unique_name("pool-order");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), pool_options(log, 4));
    std::atomic<int> concurrent{0}, max_concurrent{0};
    std::atomic<int> finished_out_of_order{0};
    std::atomic<std::uint64_t> last_finished{0};
    server.start(
        [&](const Frame& request, ResponseWriter& response) {
            const int now = ++concurrent;
            int seen = max_concurrent.load();
            while (now > seen && !max_concurrent.compare_exchange_weak(seen, now)) {
            }
            std::uint64_t index = 0;
            std::memcpy(&index, request.data().data(), sizeof index);
            thread_local std::mt19937 rng(std::random_device{}());
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 4000));
            if (index < last_finished.exchange(index)) ++finished_out_of_order;
            // Response: "resp:" + index, built in a zero-copy style buffer.
            const std::string body = "resp:" + std::to_string(index);
            auto out = response.get_frame_buffer(body.size());
            std::memcpy(out.data(), body.data(), body.size());
            response.commit_frame();
            --concurrent;
        },
        {}, ProcessingMode::ThreadPool);

    DuplexClient client(ch, client_options());
    constexpr std::uint64_t kRequests = 400;
    std::uint64_t received = 0;
    std::uint64_t sent = 0;
    const auto t0 = Clock::now();
    // Keep up to 32 requests in flight.
    while (received < kRequests) {
        while (sent < kRequests && sent - received < 32) {
            std::uint64_t index = sent;
            client.send_request(&index, sizeof index);
            ++sent;
        }
        auto r = client.receive_response(5s);
        ASSERT_TRUE(r) << "response " << received;
        ASSERT_EQ(text_of(r), "resp:" + std::to_string(received));
        ++received;
    }
    const double ms = ms_since(t0);
    std::printf("[ info ] %llu pooled requests (avg 2 ms of work each, 4 workers): %.0f ms, max %d concurrent, %d "
                "finished out of order\n",
                static_cast<unsigned long long>(kRequests), ms, max_concurrent.load(), finished_out_of_order.load());
    EXPECT_GE(max_concurrent.load(), 2);
    EXPECT_GT(finished_out_of_order.load(), 0) << "the delays never reordered completions; the test proves nothing";
    EXPECT_LT(ms, 400 * 2.0 * 0.8) << "no speed-up over serial handling";
    EXPECT_EQ(log.size(), 0u) << log.dump();
    EXPECT_EQ(server.requests_handled(), kRequests);
}

// A pooled handler that throws before responding: the responses before it are delivered in
// order, the rest of the connection is dropped (nothing after it is written), the client
// resynchronises on its next send.
TEST(DuplexThreadPool, ThrowingHandlerDoesNotDesynchronise) {
    NameScope names;
    const std::string ch = unique_name("pool-throw");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), pool_options(log, 3));
    server.start(
        [](const Frame& request, ResponseWriter& response) {
            const std::string s = text_of(request);
            if (s == "r5") {
                std::this_thread::sleep_for(20ms);  // later requests finish first
                throw std::runtime_error("pooled handler failed");
            }
            response.write_frame(request.data());
        },
        {}, ProcessingMode::ThreadPool);
    DuplexClient client(ch, client_options());
    for (int i = 1; i <= 10; ++i) client.send_request(bytes_of("r" + std::to_string(i)));
    for (int i = 1; i <= 4; ++i) {
        auto r = client.receive_response(2s);
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(text_of(r), "r" + std::to_string(i));
    }
    EXPECT_THROW((void)client.receive_response(2s), WriterDeadException);
    auto failed = log.wait_for(DuplexErrorKind::handler_failed);
    ASSERT_TRUE(failed) << log.dump();
    EXPECT_EQ(failed->error.request, 5u);
    ASSERT_TRUE(log.wait_for(DuplexErrorKind::response_missing)) << log.dump();

    client.send_request(bytes_of("fresh"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "fresh");
}

// A second response frame is refused by the ResponseWriter before it reaches the wire.
TEST(DuplexThreadPool, SecondResponseFrameIsRefused) {
    NameScope names;
    const std::string ch = unique_name("pool-two");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), pool_options(log, 2));
    std::atomic<int> refused{0};
    server.start(
        [&](const Frame& request, ResponseWriter& response) {
            response.write_frame(request.data());
            try {
                response.write_frame(request.data());
            } catch (const UsageException&) {
                ++refused;
            }
        },
        {}, ProcessingMode::ThreadPool);
    DuplexClient client(ch, client_options());
    for (const char* s : {"p", "q", "r"}) {
        client.send_request(bytes_of(s));
        auto resp = client.receive_response(2s);
        ASSERT_TRUE(resp);
        EXPECT_EQ(text_of(resp), s);
    }
    EXPECT_FALSE(client.receive_response(50ms));
    EXPECT_EQ(refused.load(), 3);
    EXPECT_EQ(log.size(), 0u) << log.dump();
}

// A client leaves with slow requests still in the pool; their responses must never reach the
// next client, whose responses all match its own requests.
TEST(DuplexThreadPool, InFlightWorkOfDepartedClientNeverReachesTheNextOne) {
    NameScope names;
    const std::string ch = unique_name("pool-stale");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), pool_options(log, 4));
    server.start(
        [](const Frame& request, ResponseWriter& response) {
            if (text_of(request).rfind("old", 0) == 0) std::this_thread::sleep_for(30ms);
            response.write_frame(request.data());
        },
        {}, ProcessingMode::ThreadPool);
    {
        DuplexClient first(ch, client_options());
        for (int i = 0; i < 12; ++i) first.send_request(bytes_of("old" + std::to_string(i)));
        std::this_thread::sleep_for(10ms);
    }  // leaves without reading
    ASSERT_TRUE(log.wait_for(DuplexErrorKind::client_disconnected, 2s)) << log.dump();
    DuplexClient second(ch, client_options());
    for (int i = 0; i < 20; ++i) second.send_request(bytes_of("new" + std::to_string(i)));
    for (int i = 0; i < 20; ++i) {
        auto r = second.receive_response(3s);
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(text_of(r), "new" + std::to_string(i));
    }
    EXPECT_FALSE(second.receive_response(100ms));
}

// Backpressure: a client that does not read fills its response ring; the pool stops taking
// requests (max_in_flight) instead of buffering without bound, and resumes when it reads.
TEST(DuplexThreadPool, SlowReaderBackpressure) {
    NameScope names;
    const std::string ch = unique_name("pool-bp");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    auto options = pool_options(log, 2);
    options.max_in_flight = 4;
    ImmutableDuplexServer server(ch, server_config(), options);
    server.start([](const Frame& request, ResponseWriter& response) { response.write_frame(request.data()); }, {},
                 ProcessingMode::ThreadPool);
    DuplexClient client(ch, client_options(8 * 1024));  // room for ~7 responses of 1 KiB
    const auto payload = pattern(1024, 9);
    for (int i = 0; i < 30; ++i) client.send_request(payload);
    std::this_thread::sleep_for(200ms);
    const auto handled_while_blocked = server.requests_handled();
    EXPECT_LT(handled_while_blocked, 30u);
    for (int i = 0; i < 30; ++i) {
        auto r = client.receive_response(3s);
        ASSERT_TRUE(r) << i;
        EXPECT_TRUE(matches_pattern(r.data().data(), r.size(), 9));
    }
    EXPECT_EQ(server.requests_handled(), 30u);
    EXPECT_EQ(log.size(), 0u) << log.dump();
}

// A client process killed while its requests are in the pool: reported within 250 ms, its
// buffer removed, and the next client served.
TEST(DuplexThreadPool, ClientSigkillDetectedAndNextClientServed) {
    NameScope names;
    const std::string ch = unique_name("pool-kill");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), pool_options(log, 3));
    server.start(
        [](const Frame& request, ResponseWriter& response) {
            std::this_thread::sleep_for(5ms);
            response.write_frame(request.data());
        },
        {}, ProcessingMode::ThreadPool);
    Latch sent;
    Child victim([&] {
        DuplexClient client(ch, client_options());
        for (int i = 0; i < 8; ++i) client.send_request(bytes_of(std::string("v").append(std::to_string(i))));
        sent.signal();
        std::this_thread::sleep_for(30s);
        return 0;
    });
    ASSERT_TRUE(sent.wait(10s));
    const auto killed_at = Clock::now();
    victim.kill_hard();
    auto died = log.wait_for(DuplexErrorKind::client_died, 2s);
    ASSERT_TRUE(died) << log.dump();
    const double ms = std::chrono::duration<double, std::milli>(died->when - killed_at).count();
    std::printf("[ info ] ThreadPool server reported the client's SIGKILL after %.1f ms\n", ms);
    EXPECT_LT(ms, 250.0);
    EXPECT_EQ(victim.wait(5s), 128 + SIGKILL);
    for (const auto& path : object_paths(response_buffer_name(ch))) {
        EXPECT_FALSE(std::filesystem::exists(path)) << "left behind: " << path;
    }
    DuplexClient next(ch, client_options());
    for (int i = 0; i < 5; ++i) next.send_request(bytes_of("n" + std::to_string(i)));
    for (int i = 0; i < 5; ++i) {
        auto r = next.receive_response(3s);
        ASSERT_TRUE(r);
        EXPECT_EQ(text_of(r), "n" + std::to_string(i));
    }
    EXPECT_TRUE(server.is_running());
}

}  // namespace
}  // namespace zerobuffer::test::duplex

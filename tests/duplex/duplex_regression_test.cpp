// Duplex bugs fixed with the duplex split, one test each (each failed before its fix; see
// docs/duplex.md, "Changes"): a client stuck after a failed commit, the error handler replaced
// during a call, requests_handled() behind the responses, stop() from a handler racing start(),
// close()/stop() racing the queries of other threads. The races are caught by the
// ThreadSanitizer run (docs/duplex.md, "Testing").
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// commit_request() fails because the server left while the request was being filled: it throws
// ReaderDead, nothing is sent, and the next send reconnects and works (it used to throw
// UsageException "a request buffer is pending" for ever).
TEST(DuplexClientRecovery, SendWorksAfterAFailedCommit) {
    NameScope names;
    const std::string ch = make_channel(names, "commitfail");
    std::optional<ImmutableDuplexServer> server(std::in_place, ch, server_config());
    server->start(echo_handler());
    DuplexClient client(ch, client_options());
    auto buffer = client.acquire_request_buffer(4);
    std::memcpy(buffer.data(), "lost", 4);
    server.reset();  // the server goes away while the request is being filled
    const auto what = expect_throw<ReaderDeadException>([&] { (void)client.commit_request(); });
    EXPECT_NE(what.find("nothing was sent"), std::string::npos) << what;
    expect_throw<UsageException>([&] { (void)client.commit_request(); });  // nothing pending any more

    server.emplace(ch, server_config());
    server->start(echo_handler());
    client.send_request(bytes_of("next"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "next");
    EXPECT_EQ(client.reconnects(), 1u);
}

// The same with the RAII form: the failed reservation is spent, the next acquire reconnects.
TEST(DuplexClientRecovery, AcquireWorksAfterAFailedReservationCommit) {
    NameScope names;
    const std::string ch = make_channel(names, "commitfail2");
    std::optional<ImmutableDuplexServer> server(std::in_place, ch, server_config());
    server->start(echo_handler());
    DuplexClient client(ch, client_options());
    RequestReservation reservation = client.acquire_request(4);
    std::memcpy(reservation.data().data(), "lost", 4);
    server.reset();
    EXPECT_THROW((void)reservation.commit(), ReaderDeadException);
    EXPECT_FALSE(reservation.valid());

    server.emplace(ch, server_config());
    server->start(echo_handler());
    RequestReservation next = client.acquire_request(4);
    std::memcpy(next.data().data(), "next", 4);
    EXPECT_EQ(next.commit(), 1u);  // a new connection: sequence 1
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "next");
}

// After a fatal error the server thread still reports (response_missing comes after the fatal
// report, when is_running() is already false). set_error_handler must be refused while a call
// of the handler may be in progress; it used to replace the handler under the running call.
TEST(DuplexErrorHandler, NotReplacedWhileACallMayBeInProgress) {
    NameScope names;
    const std::string ch = make_channel(names, "fatalrace");
    const std::string segment = "/dev/shm/" + request_buffer_name(ch);
    std::atomic<bool> in_call{false};
    std::atomic<bool> release{false};
    std::atomic<int> refused_inside{0};
    std::optional<ImmutableDuplexServer> server;
    DuplexServerOptions options;
    options.on_error = [&](const DuplexError& e) {
        if (e.kind == DuplexErrorKind::fatal) {
            try {
                server->set_error_handler({});
            } catch (const UsageException&) {
                ++refused_inside;
            }
        }
        if (e.kind != DuplexErrorKind::response_missing) return;
        in_call = true;
        for (int i = 0; i < 3000 && !release.load(); ++i) std::this_thread::sleep_for(1ms);
        in_call = false;
    };
    server.emplace(ch, server_config(), options);
    server->start_with_writer([&](const Frame&, Writer&) {
        // Something unusable takes CH_request's place, so re-creating it fails (fatal), and no
        // response is written (response_missing, reported after the fatal error).
        std::filesystem::remove(segment);
        std::ofstream(segment) << std::string(4096, 'j');
    });
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("x"));
    ASSERT_TRUE(eventually([&] { return in_call.load(); }, 3s));
    EXPECT_FALSE(server->is_running());
    bool refused = false;
    try {
        server->set_error_handler([](const DuplexError&) {});
    } catch (const UsageException& e) {
        refused = true;
        EXPECT_NE(std::string(e.what()).find(ch), std::string::npos) << e.what();
    }
    release = true;
    EXPECT_TRUE(refused) << "set_error_handler replaced the handler during a call of it";
    EXPECT_EQ(refused_inside.load(), 1) << "set_error_handler from inside the error handler was not refused";
    // Once the server's threads have ended by themselves, the handler may be replaced.
    EXPECT_TRUE(eventually(
        [&] {
            try {
                server->set_error_handler([](const DuplexError&) {});
                return true;
            } catch (const UsageException&) {
                return false;
            }
        },
        3s));
    server->stop();
    std::filesystem::remove(segment);
}

// requests_handled() is counted before the handler is called, so a client that has its response
// never sees the counter behind it (it used to be incremented after the handler returned, or,
// in thread_pool mode, after the response was written).
TEST(DuplexCounters, RequestsHandledIsNeverBehindTheResponses) {
    NameScope names;
    const std::string ch = make_channel(names, "handledcount");
    auto slow_echo = [](const Frame& request, auto& response) {
        (void)response.write_frame(request.data());
        std::this_thread::sleep_for(200ms);  // the client has its response long before we return
    };
    for (int variant = 0; variant < 3; ++variant) {
        SCOPED_TRACE(variant == 0 ? "start_with_writer" : variant == 1 ? "start, single_thread" : "start, thread_pool");
        ImmutableDuplexServer server(ch, server_config());
        if (variant == 0) {
            server.start_with_writer(slow_echo);
        } else {
            server.start(slow_echo, {}, variant == 1 ? ProcessingMode::single_thread : ProcessingMode::thread_pool);
        }
        DuplexClient client(ch, client_options());
        for (std::uint64_t k = 1; k <= 2; ++k) {
            client.send_request(bytes_of("x"));
            ASSERT_TRUE(client.receive_response(2s));
            EXPECT_GE(server.requests_handled(), k);
        }
        client.close();
        server.stop();
        EXPECT_EQ(server.requests_handled(), 2u);
    }
}

// stop() from a handler that runs right after start(): the first request is waiting when the
// server thread starts, so the handler's stop() overlaps start()'s bookkeeping (a data race on
// the thread handle before the fix, reported by ThreadSanitizer).
TEST(DuplexStop, StopFromAHandlerRightAfterStart) {
    for (const ProcessingMode mode : {ProcessingMode::single_thread, ProcessingMode::thread_pool}) {
        NameScope names;
        const std::string ch = make_channel(names, "stopearly");
        ImmutableDuplexServer server(ch, server_config());
        std::optional<DuplexClient> client;
        std::thread connecting([&] { client.emplace(ch, client_options(64 * 1024, 3s)); });
        std::this_thread::sleep_for(20ms);  // the client waits for CH_request
        server.start(
            [&](const Frame& request, ResponseWriter& response) {
                response.write_frame(request.data());
                server.stop();
            },
            {}, mode);
        connecting.join();
        ASSERT_TRUE(client);
        client->send_request(bytes_of("only"));
        auto r = client->receive_response(2s);
        ASSERT_TRUE(r);
        EXPECT_EQ(text_of(r), "only");
        r.release();
        EXPECT_TRUE(eventually([&] { return !server.is_running(); }, 2s));
        server.stop();
        client->close();
        names.expect_clean();
    }
}

// close() while other threads ask is_server_connected(), is_open() and the counters: safe, and
// afterwards they say closed (before the fix: a use-after-free of the client's buffers).
TEST(DuplexConcurrency, ClientCloseWhileOtherThreadsQuery) {
    NameScope names;
    const std::string ch = make_channel(names, "closequery");
    ImmutableDuplexServer server(ch, server_config());
    server.start(echo_handler());
    for (int round = 0; round < 10; ++round) {
        DuplexClient client(ch, client_options(64 * 1024));
        std::atomic<bool> done{false};
        std::atomic<int> queries{0};
        std::vector<std::thread> watchers;
        for (int w = 0; w < 2; ++w) {
            watchers.emplace_back([&] {
                while (!done.load()) {
                    (void)client.is_server_connected();
                    (void)client.is_open();
                    (void)client.pending_responses();
                    (void)client.reconnects();
                    (void)client.channel();
                    ++queries;
                    std::this_thread::sleep_for(20us);  // leave the 2 cores to the client and server
                }
            });
        }
        client.send_request(bytes_of("q"));
        ASSERT_TRUE(client.receive_response(2s));
        ASSERT_TRUE(eventually([&] { return queries.load() > 10; }, 2s));
        client.close();
        EXPECT_FALSE(client.is_open());
        EXPECT_FALSE(client.is_server_connected());
        done = true;
        for (auto& w : watchers) w.join();
    }
}

// stop() and start() while other threads ask is_running(), is_client_connected() and the
// counters: safe, and the answers follow the server's state.
TEST(DuplexConcurrency, ServerStopWhileOtherThreadsQuery) {
    NameScope names;
    const std::string ch = make_channel(names, "stopquery");
    ImmutableDuplexServer server(ch, server_config());
    std::atomic<bool> done{false};
    std::thread watcher([&] {
        while (!done.load()) {
            (void)server.is_running();
            (void)server.is_client_connected();
            (void)server.requests_handled();
            (void)server.clients_served();
            (void)server.channel();
            std::this_thread::sleep_for(20us);
        }
    });
    for (int round = 0; round < 5; ++round) {
        server.start(echo_handler(), {}, round % 2 == 0 ? ProcessingMode::single_thread : ProcessingMode::thread_pool);
        DuplexClient client(ch, client_options(64 * 1024));
        client.send_request(bytes_of("s"));
        ASSERT_TRUE(client.receive_response(2s));
        server.stop();
        EXPECT_FALSE(server.is_running());
        EXPECT_FALSE(server.is_client_connected());
        client.close();
    }
    done = true;
    watcher.join();
    EXPECT_EQ(server.requests_handled(), 5u);
}

}  // namespace
}  // namespace zerobuffer::test::duplex

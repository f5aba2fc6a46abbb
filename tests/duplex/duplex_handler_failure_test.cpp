// Duplex handler failures (throwing handlers, missing and extra responses) and on_init.
#include <stdexcept>
#include <string>
#include <vector>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// A handler that throws before writing breaks the one-response rule: the error is reported,
// the client receives every earlier response and then WriterDead for the failed request, and
// its next send reconnects. The server keeps running.
TEST(DuplexHandlerFailure, ThrowingHandlerIsReportedAndClientResynchronises) {
    NameScope names;
    const std::string ch = make_channel(names, "throws");
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    server.start_with_writer([](const Frame& request, Writer& response) {
        if (text_of(request) == "boom") throw std::runtime_error("handler exploded");
        response.write_frame(request.data());
    });
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("a"));
    client.send_request(bytes_of("boom"));

    auto failed = log.wait_for(DuplexErrorKind::handler_failed);
    ASSERT_TRUE(failed) << log.dump();
    EXPECT_EQ(failed->error.request, 2u);
    EXPECT_NE(failed->error.message.find("handler exploded"), std::string::npos) << failed->error.message;
    ASSERT_TRUE(failed->error.exception);
    EXPECT_THROW(std::rethrow_exception(failed->error.exception), std::runtime_error);
    auto missing = log.wait_for(DuplexErrorKind::response_missing);
    ASSERT_TRUE(missing) << log.dump();
    EXPECT_EQ(missing->error.request, 2u);

    // Sending while two requests are unanswered on a dropped connection: refused, nothing sent.
    std::string what;
    try {
        client.send_request(bytes_of("c"));
    } catch (const ReaderDeadException& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("2 request(s) still unanswered"), std::string::npos) << what;
    // The response written before the failure is still delivered, then the stream ends.
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "a");
    r.release();
    what.clear();
    try {
        (void)client.receive_response(2s);
    } catch (const WriterDeadException& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("1 request(s) remain unanswered"), std::string::npos) << what;
    // Never a mismatched response: the next request gets its own answer.
    client.send_request(bytes_of("d"));
    auto d = client.receive_response(2s);
    ASSERT_TRUE(d);
    EXPECT_EQ(text_of(d), "d");
    EXPECT_TRUE(server.is_running());
    EXPECT_EQ(client.reconnects(), 1u);
}

// A handler that throws after writing its one response keeps the connection: only reported.
TEST(DuplexHandlerFailure, ThrowAfterRespondingKeepsTheConnection) {
    NameScope names;
    const std::string ch = make_channel(names, "throwlate");
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    server.start_with_writer([](const Frame& request, Writer& response) {
        response.write_frame(request.data());
        if (text_of(request) == "late") throw std::logic_error("after the response");
    });
    DuplexClient client(ch, client_options());
    for (const char* s : {"x", "late", "y"}) {
        client.send_request(bytes_of(s));
        auto r = client.receive_response(2s);
        ASSERT_TRUE(r) << s;
        EXPECT_EQ(text_of(r), s);
    }
    EXPECT_EQ(log.count(DuplexErrorKind::handler_failed), 1u) << log.dump();
    EXPECT_EQ(log.count(DuplexErrorKind::response_missing), 0u) << log.dump();
    EXPECT_EQ(client.reconnects(), 0u);
}

// No response, or two responses, break the FIFO pairing: reported and the client is
// disconnected. With ResponsePolicy::unchecked the server sends whatever the handler wrote.
TEST(DuplexHandlerFailure, MissingAndExtraResponses) {
    NameScope names;
    const std::string ch = make_channel(names, "policy");
    ErrorLog log;
    auto handler = [](const Frame& request, Writer& response) {
        const std::string s = text_of(request);
        if (s == "none") return;
        response.write_frame(request.data());
        if (s == "two") response.write_frame(request.data());
    };
    {
        ImmutableDuplexServer server(ch, server_config(), server_options(log));
        server.start_with_writer(handler);
        DuplexClient client(ch, client_options());
        client.send_request(bytes_of("none"));
        EXPECT_THROW((void)client.receive_response(2s), WriterDeadException);
        ASSERT_TRUE(log.wait_for(DuplexErrorKind::response_missing)) << log.dump();
        client.send_request(bytes_of("two"));
        auto first = client.receive_response(2s);
        ASSERT_TRUE(first);
        EXPECT_EQ(text_of(first), "two");
        ASSERT_TRUE(log.wait_for(DuplexErrorKind::too_many_responses)) << log.dump();
        // The extra frame is in the ring, but the connection has ended: the next send starts a
        // fresh connection, so the extra can never be taken for the answer to "ok".
        client.send_request(bytes_of("ok"));
        auto ok = client.receive_response(2s);
        ASSERT_TRUE(ok);
        EXPECT_EQ(text_of(ok), "ok");
    }
    {
        auto options = server_options(log);
        options.response_policy = ResponsePolicy::unchecked;
        ImmutableDuplexServer server(ch, server_config(), options);
        server.start_with_writer(handler);
        DuplexClient client(ch, client_options());
        client.send_request(bytes_of("two"));
        for (int i = 0; i < 2; ++i) {
            auto r = client.receive_response(2s);
            ASSERT_TRUE(r);
            EXPECT_EQ(text_of(r), "two");
        }
        client.send_request(bytes_of("none"));
        EXPECT_FALSE(client.receive_response(100ms));
        EXPECT_TRUE(client.is_server_connected());
        EXPECT_EQ(log.count(DuplexErrorKind::too_many_responses), 1u) << log.dump();
        EXPECT_EQ(log.count(DuplexErrorKind::response_missing), 1u) << log.dump();
    }
    names.expect_clean();
}

// on_init runs once per client connection with the client's metadata; an exception from it is
// reported and serving goes on.
TEST(DuplexInit, OnInitGetsMetadataOnceAndMayThrow) {
    NameScope names;
    const std::string ch = make_channel(names, "oninit");
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    std::vector<std::string> seen;
    server.start(echo_handler(), [&](std::span<const std::byte> m) {
        seen.push_back(text_of(m));
        if (text_of(m) == "bad") throw std::runtime_error("init refused");
    });
    {
        DuplexClient client(ch, client_options());
        client.set_metadata(bytes_of("hello-meta"));
        EXPECT_THROW(client.set_metadata(bytes_of("again")), MetadataAlreadyWrittenException);
        for (int i = 0; i < 3; ++i) {
            client.send_request(bytes_of("x"));
            ASSERT_TRUE(client.receive_response(2s));
        }
    }
    {
        DuplexClient client(ch, client_options());
        client.set_metadata(bytes_of("bad"));
        client.send_request(bytes_of("y"));
        auto r = client.receive_response(2s);
        ASSERT_TRUE(r);
        EXPECT_EQ(text_of(r), "y");
    }
    {
        DuplexClient client(ch, client_options());  // no metadata: on_init gets an empty span
        client.send_request(bytes_of("z"));
        ASSERT_TRUE(client.receive_response(2s));
    }
    server.stop();
    EXPECT_EQ(seen, (std::vector<std::string>{"hello-meta", "bad", ""}));
    EXPECT_EQ(log.count(DuplexErrorKind::init_failed), 1u) << log.dump();
}

}  // namespace
}  // namespace zerobuffer::test::duplex

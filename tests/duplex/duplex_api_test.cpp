// Duplex channel: names, validation, bad input, connection states (in one process).
#include <cstring>
#include <filesystem>
#include <thread>
#include <type_traits>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

namespace fs = std::filesystem;

using test::expect_throw;

TEST(DuplexNames, BufferNamesUseLiteralSuffixes) {
    EXPECT_EQ(request_buffer_name("ch"), "ch_request");
    EXPECT_EQ(response_buffer_name("ch"), "ch_response");
    EXPECT_EQ(kMaxChannelNameLength, 236u);
}

TEST(DuplexNames, ChannelNameLimitIs236) {
    EXPECT_NO_THROW(validate_channel_name(std::string(236, 'c')));
    const auto what = expect_throw<InvalidNameException>([] { validate_channel_name(std::string(237, 'c')); });
    EXPECT_NE(what.find("237"), std::string::npos) << what;
    EXPECT_NE(what.find("236"), std::string::npos) << what;
    expect_throw<InvalidNameException>([] { validate_channel_name(""); });
    expect_throw<InvalidNameException>([] { validate_channel_name("a/b"); });
    // The server and client constructors validate too.
    expect_throw<InvalidNameException>([] { ImmutableDuplexServer s(std::string(237, 'x')); });
    expect_throw<InvalidNameException>([] { DuplexClient c(std::string(237, 'x'), client_options()); });
}

TEST(DuplexNames, LongestChannelWorks) {
    NameScope names;
    // unique prefix, padded to exactly 236 characters
    std::string channel = unique_name("long");
    channel += std::string(236 - channel.size(), 'L');
    names.adopt(request_buffer_name(channel));
    names.adopt(response_buffer_name(channel));
    ImmutableDuplexServer server(channel, server_config());
    server.start(echo_handler());
    DuplexClient client(channel, client_options());
    client.send_request(bytes_of("x"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "x");
    r.release();
    client.close();
    server.stop();
    names.expect_clean();
}

TEST(DuplexConfig, DefaultResponseConfigIsPeerDefault) {
    const BufferConfig c = default_response_config();
    EXPECT_EQ(c.metadata_size, 4096u);
    EXPECT_EQ(c.payload_size, 256u * 1024 * 1024);
    EXPECT_EQ(DuplexClientOptions{}.response_config.payload_size, 256u * 1024 * 1024);
}

TEST(DuplexConfig, DefaultClientCreates256MiBResponseBuffer) {
    NameScope names;
    const std::string ch = unique_name("dflt");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    // The size is what matters here: neither side commits the 256 MiB (prefault off).
    DuplexServerOptions so;
    so.response_writer.prefault = false;
    ImmutableDuplexServer server(ch, server_config(), so);
    server.start(echo_handler());
    DuplexClientOptions o;  // default response config
    o.response_reader.prefault = false;
    DuplexClient client(ch, o);
    EXPECT_EQ(fs::file_size("/dev/shm/" + response_buffer_name(ch)), 128u + 4096u + 256u * 1024 * 1024);
    client.send_request(bytes_of("hello"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "hello");
}

TEST(DuplexValidation, ServerOptionsOutOfRange) {
    DuplexServerOptions o;
    o.poll_interval = 0ms;
    auto what = expect_throw<InvalidArgumentException>([&] { ImmutableDuplexServer s("zbtest_opts", {}, o); });
    EXPECT_NE(what.find("zbtest_opts"), std::string::npos) << what;
    EXPECT_NE(what.find("poll_interval is 0"), std::string::npos) << what;
    o = {};
    o.worker_threads = 5000;
    what = expect_throw<InvalidArgumentException>([&] { ImmutableDuplexServer s("zbtest_opts", {}, o); });
    EXPECT_NE(what.find("5000"), std::string::npos) << what;
    BufferConfig bad;
    bad.payload_size = 0;
    expect_throw<InvalidArgumentException>([&] { ImmutableDuplexServer s("zbtest_opts", bad); });
}

TEST(DuplexValidation, ClientOptionsOutOfRange) {
    auto o = client_options();
    o.connect_timeout = 0ms;
    const auto what = expect_throw<InvalidArgumentException>([&] { DuplexClient c("zbtest_copts", o); });
    EXPECT_NE(what.find("zbtest_copts"), std::string::npos) << what;
    EXPECT_TRUE(leftovers("zbtest_copts").empty());
}

TEST(DuplexValidation, StartMisuse) {
    NameScope names;
    const std::string ch = unique_name("start");
    names.adopt(request_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    expect_throw<InvalidArgumentException>([&] { server.start(ResponseHandler{}); });
    expect_throw<InvalidArgumentException>([&] { server.start_with_writer(WriterHandler{}); });
    EXPECT_FALSE(server.is_running());
    server.start(echo_handler());
    EXPECT_TRUE(server.is_running());
    expect_throw<UsageException>([&] { server.start(echo_handler()); });
    expect_throw<UsageException>([&] { server.start_with_writer(writer_echo_handler()); });
    expect_throw<UsageException>([&] { server.set_error_handler({}); });
    server.stop();
    EXPECT_FALSE(server.is_running());
    // start again after stop
    server.start(echo_handler());
    EXPECT_TRUE(server.is_running());
    server.stop();
    names.expect_clean();
}

TEST(DuplexValidation, SecondServerOnSameChannelIsRejected) {
    NameScope names;
    const std::string ch = unique_name("twosrv");
    names.adopt(request_buffer_name(ch));
    ImmutableDuplexServer a(ch, server_config());
    a.start(echo_handler());
    ImmutableDuplexServer b(ch, server_config());
    const auto what = expect_throw<ReaderAlreadyConnectedException>([&] { b.start(echo_handler()); });
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    EXPECT_TRUE(a.is_running());
}

TEST(DuplexClientTest, NoServerTimesOutWithBufferNotFoundAndLeavesNothing) {
    NameScope names;
    const std::string ch = unique_name("nosrv");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    const auto t0 = Clock::now();
    const auto what = expect_throw<BufferNotFoundException>([&] { DuplexClient c(ch, client_options(64 * 1024, 150ms)); });
    const double ms = ms_since(t0);
    EXPECT_GE(ms, 140.0);
    EXPECT_LT(ms, 2000.0);
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    EXPECT_NE(what.find("150 ms"), std::string::npos) << what;
    names.expect_clean();
}

TEST(DuplexClientTest, ClientStartedBeforeServerWaitsForIt) {
    NameScope names;
    const std::string ch = unique_name("early");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    std::optional<DuplexClient> client;
    std::exception_ptr error;
    std::thread t([&] {
        try {
            client.emplace(ch, client_options(64 * 1024, 3s));
        } catch (...) {
            error = std::current_exception();
        }
    });
    std::this_thread::sleep_for(200ms);
    ImmutableDuplexServer server(ch, server_config());
    server.start(echo_handler());
    t.join();
    ASSERT_FALSE(error);
    ASSERT_TRUE(client);
    EXPECT_TRUE(client->is_server_connected());
    client->send_request(bytes_of("late server"));
    auto r = client->receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "late server");
}

TEST(DuplexClientTest, BadCallsThrowClearly) {
    NameScope names;
    const std::string ch = unique_name("badcall");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config(64 * 1024));
    server.start(echo_handler());
    DuplexClient client(ch, client_options(64 * 1024));

    auto what = expect_throw<InvalidFrameSizeException>([&] { client.send_request(std::span<const std::byte>{}); });
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    expect_throw<InvalidFrameSizeException>([&] { (void)client.acquire_request_buffer(0); });
    expect_throw<InvalidArgumentException>([&] { client.send_request(nullptr, 5); });
    what = expect_throw<UsageException>([&] { client.commit_request(); });
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    what = expect_throw<InvalidArgumentException>([&] { (void)client.receive_response(0ms); });
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    // A request larger than the server's ring: FrameTooLarge names the numbers.
    std::vector<std::byte> huge(64 * 1024);
    what = expect_throw<FrameTooLargeException>([&] { client.send_request(huge); });
    EXPECT_NE(what.find("65536"), std::string::npos) << what;
    // A pending zero-copy buffer blocks other sends.
    auto buf = client.acquire_request_buffer(4);
    std::memcpy(buf.data(), "abcd", 4);
    expect_throw<UsageException>([&] { client.send_request(bytes_of("x")); });
    expect_throw<UsageException>([&] { (void)client.acquire_request_buffer(4); });
    client.abandon_request();
    // Nothing was sent: the next request is answered first.
    client.send_request(bytes_of("first"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "first");
    // Metadata after a request in this connection is a usage error.
    what = expect_throw<UsageException>([&] { client.set_metadata(bytes_of("late")); });
    EXPECT_NE(what.find("metadata"), std::string::npos) << what;
    // A timeout is an invalid frame, not an exception.
    const auto t0 = Clock::now();
    auto none = client.receive_response(60ms);
    EXPECT_FALSE(none);
    EXPECT_GE(ms_since(t0), 55.0);
    client.close();
    expect_throw<ObjectClosedException>([&] { client.send_request(bytes_of("x")); });
    EXPECT_FALSE(client.is_server_connected());
}

TEST(DuplexClientTest, MetadataTooLargeNamesTheSizes) {
    NameScope names;
    const std::string ch = unique_name("metabig");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config(64 * 1024, 64));
    server.start(echo_handler());
    DuplexClient client(ch, client_options(64 * 1024));
    std::vector<std::byte> meta(100);
    const auto what = expect_throw<MetadataTooLargeException>([&] { client.set_metadata(meta); });
    EXPECT_NE(what.find("100"), std::string::npos) << what;
    EXPECT_NE(what.find("64"), std::string::npos) << what;
}

TEST(DuplexClientTest, SecondClientIsRejectedWhileFirstIsConnected) {
    NameScope names;
    const std::string ch = unique_name("twocli");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    server.start(echo_handler());
    DuplexClient first(ch, client_options(64 * 1024));
    const auto what =
        expect_throw<ReaderAlreadyConnectedException>([&] { DuplexClient second(ch, client_options(64 * 1024, 300ms)); });
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    // The first client is unaffected.
    first.send_request(bytes_of("still here"));
    auto r = first.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "still here");
}

TEST(DuplexClientTest, ServerConnectionStatusReflectsBothDirections) {
    NameScope names;
    const std::string ch = unique_name("status");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    server.start(echo_handler());
    DuplexClient client(ch, client_options(64 * 1024));
    EXPECT_TRUE(client.is_server_connected());
    EXPECT_TRUE(eventually([&] { return server.is_client_connected(); }, 1s));
    EXPECT_TRUE(DuplexChannelFactory::wait_exists(ch, 100ms));
    server.stop();
    EXPECT_FALSE(client.is_server_connected());
    EXPECT_FALSE(DuplexChannelFactory::wait_exists(ch, 30ms));
}

TEST(DuplexFactory, CreatesServerAndClient) {
    NameScope names;
    const std::string ch = unique_name("factory");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    DuplexChannelFactory factory;
    auto server = factory.create_immutable_server(ch, server_config());
    server.start([](const Frame& request, ResponseWriter& response) {
        auto out = response.get_frame_buffer(request.size());
        for (std::size_t i = 0; i < request.size(); ++i) out[i] = request.data()[request.size() - 1 - i];
        response.commit_frame();
    }, {}, ProcessingMode::single_thread);
    BufferConfig small;
    small.metadata_size = 4096;
    small.payload_size = 64 * 1024;
    auto client = factory.create_client(ch, small, 2s);
    client.send_request(bytes_of("abc"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "cba");
    EXPECT_EQ(fs::file_size("/dev/shm/" + response_buffer_name(ch)), 128u + 4096u + 64u * 1024);
}

TEST(DuplexFactory, ResponseWriterChecksSizesAgainstTheClientRing) {
    NameScope names;
    const std::string ch = unique_name("rwsize");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    std::string too_large_message;
    std::size_t max_frame = 0;
    server.start([&](const Frame& request, ResponseWriter& response) {
        max_frame = response.max_frame_size();
        try {
            std::vector<std::byte> big(response.max_frame_size() + 1);
            response.write_frame(big);
        } catch (const FrameTooLargeException& e) {
            too_large_message = e.what();
        }
        try {
            response.write_frame(std::span<const std::byte>{});
        } catch (const InvalidFrameSizeException&) {
            response.write_frame(request.data());  // the one valid response
        }
    }, {}, ProcessingMode::single_thread);
    DuplexClient client(ch, client_options(64 * 1024));
    client.send_request(bytes_of("ok"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "ok");
    server.stop();  // joins the server thread: its writes below are visible
    EXPECT_EQ(max_frame, 64u * 1024 - 16);
    EXPECT_NE(too_large_message.find(ch), std::string::npos) << too_large_message;
    EXPECT_NE(too_large_message.find(std::to_string(64 * 1024 - 15)), std::string::npos) << too_large_message;
    EXPECT_EQ(log.size(), 0u) << log.dump();
}

// start() takes one handler type, so a generic lambda works (it used to be ambiguous between
// two std::function overloads); the Writer& form has its own name and cannot be passed to start().
static_assert(!std::is_constructible_v<ResponseHandler, WriterHandler>);
static_assert(!std::is_constructible_v<WriterHandler, ResponseHandler>);

TEST(DuplexApi, GenericLambdaHandlerWorksWithStart) {
    NameScope names;
    const std::string ch = make_channel(names, "generic");
    for (const ProcessingMode mode : {ProcessingMode::single_thread, ProcessingMode::thread_pool}) {
        ImmutableDuplexServer server(ch, server_config());
        server.start([](const auto& request, auto& response) { response.write_frame(request.data()); }, {}, mode);
        DuplexClient client(ch, client_options(64 * 1024));
        client.send_request(bytes_of("generic"));
        auto r = client.receive_response(2s);
        ASSERT_TRUE(r);
        EXPECT_EQ(text_of(r), "generic");
    }
}

// The RAII zero-copy send: commit() sends; a reservation destroyed or abandoned uncommitted
// sends nothing; it follows its moves; it is spent after commit and invalid once the client
// closes; while it is pending, other sends are refused.
TEST(DuplexClientTest, RequestReservationSendsOnCommitOnly) {
    NameScope names;
    const std::string ch = make_channel(names, "reserve");
    ImmutableDuplexServer server(ch, server_config(64 * 1024));
    server.start(echo_handler());
    DuplexClient client(ch, client_options(64 * 1024));
    auto fill = [](RequestReservation& r, std::string_view text) {
        ASSERT_EQ(r.size(), text.size());
        std::memcpy(r.data().data(), text.data(), text.size());
    };
    {
        RequestReservation dropped = client.acquire_request(7);
        fill(dropped, "dropped");
        expect_throw<UsageException>([&] { client.send_request(bytes_of("x")); });
        expect_throw<UsageException>([&] { (void)client.acquire_request(3); });
    }  // destroyed uncommitted: nothing sent
    RequestReservation abandoned = client.acquire_request(9);
    abandoned.abandon();
    EXPECT_FALSE(abandoned.valid());
    EXPECT_TRUE(abandoned.data().empty());

    RequestReservation first = client.acquire_request(5);
    fill(first, "first");
    RequestReservation moved = std::move(first);
    EXPECT_FALSE(first.valid());
    EXPECT_EQ(moved.commit(), 1u);
    EXPECT_FALSE(moved.valid());
    expect_throw<UsageException>([&] { (void)moved.commit(); });
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "first");
    EXPECT_EQ(client.pending_responses(), 0u);

    // The compatibility form commits a RAII reservation too (one pending buffer per client).
    RequestReservation second = client.acquire_request(6);
    fill(second, "second");
    EXPECT_EQ(client.commit_request(), 2u);
    EXPECT_FALSE(second.valid());
    auto r2 = client.receive_response(2s);
    ASSERT_TRUE(r2);
    EXPECT_EQ(text_of(r2), "second");

    RequestReservation orphan = client.acquire_request(4);
    client.close();
    EXPECT_FALSE(orphan.valid());
    EXPECT_TRUE(orphan.data().empty());
    expect_throw<UsageException>([&] { (void)orphan.commit(); });
}

}  // namespace
}  // namespace zerobuffer::test::duplex

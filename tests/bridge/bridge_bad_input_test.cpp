// Bad input: endpoint syntax, a port in use, garbage and oversized frames from the network, a
// missing or taken local buffer. Each gives a clear message naming the thing and the numbers,
// nothing crashes, nothing is written past a frame and nothing is left behind. Over loopback:
// the garbage comes from this process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include <zmq.h>

#include "bridge/wire.h"
#include "bridge_harness.h"

using namespace zbbridge_test;
namespace wire = zerobuffer::bridge::wire;

namespace {

// A listening TCP socket on 127.0.0.1:port (0: any); closed by the destructor.
struct Listener {
    int fd = -1;
    int port = 0;
    Listener() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 4) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            throw std::runtime_error("cannot listen on 127.0.0.1");
        }
        port = ntohs(address.sin_port);
    }
    ~Listener() { ::close(fd); }
};

int run_to_exit(const std::vector<std::string>& args, std::string& output) {
    BridgeProcess process(args, "");
    const auto code = process.wait(15s);
    output = process.output();
    return code.value_or(-1);
}

void send_raw_garbage(int port, std::size_t bytes, std::uint32_t seed) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        std::mt19937 random(seed);
        std::vector<unsigned char> garbage(bytes);
        for (auto& b : garbage) b = static_cast<unsigned char>(random());
        (void)::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
        std::this_thread::sleep_for(100ms);
    }
    ::close(fd);
}

}  // namespace

TEST(BridgeBadInput, WrongEndpointSyntaxIsRefusedWithTheEndpointNamed) {
    std::string output;
    const std::string name = unique_buffer("syntax");
    EXPECT_EQ(run_to_exit({"send", "--from", "buffer:" + name, "--to", "tcp//host:5555"}, output), 2) << output;
    EXPECT_NE(output.find("endpoint 'tcp//host:5555': no transport"), std::string::npos) << output;
    EXPECT_EQ(run_to_exit({"recv", "--listen", "tcp://*:99999", "--to", "buffer:" + name}, output), 2) << output;
    EXPECT_NE(output.find("endpoint 'tcp://*:99999': port 99999 is out of range"), std::string::npos) << output;
    EXPECT_EQ(run_to_exit({"send", "--from", "buffer:" + name, "--to", "tcp://*:5555"}, output), 2) << output;
    EXPECT_NE(output.find("needs a host"), std::string::npos) << output;
    EXPECT_EQ(run_to_exit({"send", "--from", "buf:" + name, "--to", "tcp://h:1"}, output), 2) << output;
    EXPECT_NE(output.find("--from 'buf:" + name + "': expected buffer:NAME or topic:T"), std::string::npos) << output;
    EXPECT_TRUE(leftovers_of(name).empty());
}

TEST(BridgeBadInput, APortInUseNamesTheEndpointAndLeavesNothing) {
    Listener taken;
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(taken.port);
    const std::string name = unique_buffer("port");
    std::string output;
    EXPECT_EQ(run_to_exit({"send", "--from", "buffer:" + name, "--listen", endpoint}, output), 1) << output;
    EXPECT_NE(output.find("cannot bind " + endpoint + ": Address already in use"), std::string::npos) << output;
    EXPECT_TRUE(leftovers_of(name).empty()) << "the sender's buffer must go when it cannot bind";
    EXPECT_EQ(run_to_exit({"recv", "--listen", endpoint, "--to", "buffer:" + name}, output), 1) << output;
    EXPECT_NE(output.find("cannot bind " + endpoint + ": Address already in use"), std::string::npos) << output;
}

TEST(BridgeBadInput, GarbageAndOversizedFramesAreRejectedCountedAndNeverWritten) {
    const std::string in = unique_buffer("in"), out = unique_buffer("out");
    const auto metadata = test_metadata("garbage");
    Consumer consumer(out, 1 << 20, Sizes::small, metadata);  // 1 MiB ring: 2 MiB frames cannot fit
    Listener probe;
    const int port = probe.port;
    ::close(probe.fd);
    probe.fd = -1;
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
    BridgeProcess receiver({"recv", "--listen", endpoint, "--to", "buffer:" + out, "--max-frame", "4M", "--json"}, "");
    ASSERT_TRUE(receiver.wait_for_output("attached to local buffer")) << receiver.output();

    void* context = zmq_ctx_new();
    void* peer = zmq_socket(context, ZMQ_DEALER);
    const int linger = 2000;
    zmq_setsockopt(peer, ZMQ_LINGER, &linger, sizeof linger);
    ASSERT_EQ(zmq_connect(peer, endpoint.c_str()), 0);
    const auto send_parts = [&](const std::vector<std::vector<std::byte>>& parts) {
        for (std::size_t i = 0; i < parts.size(); ++i) {
            ASSERT_GE(zmq_send(peer, parts[i].data(), parts[i].size(), i + 1 < parts.size() ? ZMQ_SNDMORE : 0), 0);
        }
    };
    const auto header = [](wire::Kind kind, std::uint64_t sequence, std::uint64_t size) {
        const auto bytes = encode(wire::Header{kind, 77, sequence, size});
        return std::vector<std::byte>(bytes.begin(), bytes.end());
    };
    std::vector<std::byte> bad_magic = header(wire::Kind::frame, 1, 4);
    bad_magic[0] = std::byte{'X'};
    send_parts({bad_magic, std::vector<std::byte>(4)});                                               // 1 bad magic
    send_parts({header(wire::Kind::frame, 1, 4), std::vector<std::byte>(4), std::vector<std::byte>(1)});  // 2 three parts
    send_parts({header(wire::Kind::frame, 1, 2 << 20), std::vector<std::byte>(10)});                 // 3 size lies
    send_parts({header(wire::Kind::frame, 1, 2 << 20), std::vector<std::byte>(2 << 20)});             // 4 oversized
    send_parts({header(wire::Kind::frame, 0, 4), std::vector<std::byte>(4)});                         // 5 sequence 0
    send_parts({std::vector<std::byte>(5)});                                                          // 6 one part
    // Beyond --max-frame: ZeroMQ drops the connection before reading it.
    send_parts({header(wire::Kind::frame, 2, 5 << 20), std::vector<std::byte>(5 << 20)});
    zmq_close(peer);
    zmq_ctx_term(context);
    EXPECT_TRUE(zerobuffer::test::eventually(
        [&] { return receiver.figure("rejected") == 6u && receiver.figure("oversized") == 1u; }, 10s))
        << receiver.output();
    // Bytes that are not ZeroMQ at all. ZeroMQ takes a peer whose first byte is not 0xFF for a
    // ZMTP/1.0 peer and cuts its bytes into messages, which then fail the bridge's checks.
    for (std::uint32_t seed = 1; seed <= 3; ++seed) send_raw_garbage(port, 64 * 1024, seed);

    // A real sender afterwards: every frame arrives whole.
    BridgeProcess sender({"send", "--from", "buffer:" + in, "--to", endpoint, "--ring-size", "4M"}, "");
    auto producer = start_producer({in, 0, 200, Sizes::small, metadata});
    ASSERT_TRUE(consumer.read_until(200, 30s)) << receiver.output();
    EXPECT_EQ(producer.wait(10s), 0);
    consumer.drain(300ms);
    EXPECT_EQ(consumer.indices().size(), 200u) << "nothing of the garbage was written";
    EXPECT_EQ(consumer.bad_frames(), 0u);
    EXPECT_EQ(consumer.missing(), 0u);
    receiver.signal(SIGTERM);
    EXPECT_EQ(receiver.wait(), 0) << "the receiver survived all of it:\n" << receiver.output();
    EXPECT_GE(receiver.final_figure("rejected").value_or(0), 6u) << receiver.output();
    EXPECT_EQ(receiver.final_figure("oversized"), 1u);
    EXPECT_EQ(receiver.final_figure("frames"), 200u);
    EXPECT_NE(receiver.output().find("rejected 1 message(s) from the network; latest: bad magic"), std::string::npos)
        << receiver.output();
}

TEST(BridgeBadInput, AMissingLocalBufferIsNamedAndWaitedFor) {
    const std::string out = unique_buffer("late");
    Listener probe;
    const int port = probe.port;
    ::close(probe.fd);
    probe.fd = -1;
    BridgeProcess receiver({"recv", "--listen", "tcp://127.0.0.1:" + std::to_string(port), "--to", "buffer:" + out, "--json"}, "");
    EXPECT_TRUE(receiver.wait_for_output("local buffer not ready (buffer '" + out + "' not found")) << receiver.output();
    {
        Consumer consumer(out, 1 << 20, Sizes::small, {});
        EXPECT_TRUE(zerobuffer::test::eventually([&] { return receiver.figure("local_attached") == 1u; }, 10s))
            << receiver.output();
    }
    // A name whose buffer another live reader owns: the sender says so and exits.
    const std::string taken = unique_buffer("taken");
    Consumer owner(taken, 1 << 20, Sizes::small, {});
    std::string output;
    EXPECT_EQ(run_to_exit({"send", "--from", "buffer:" + taken, "--to", "tcp://127.0.0.1:1"}, output), 1) << output;
    EXPECT_NE(output.find(taken), std::string::npos) << output;
    EXPECT_EQ(run_to_exit({"send", "--from", "buffer:a/b", "--to", "tcp://127.0.0.1:1"}, output), 2) << output;
    EXPECT_NE(output.find("a/b"), std::string::npos) << output;
}

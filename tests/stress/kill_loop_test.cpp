// Kill loops (label "stress"): a writer, a reader and a duplex server SIGKILLed at random moments,
// over and over. Each round checks that every frame published before the kill arrives intact and
// once, that the survivor notices the death within 250 ms, and that the name is reclaimed by
// the next reader; at the end nothing is left in /dev/shm or /tmp/zerobuffer.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr double kDetectionLimitMs = 250.0;

std::int64_t now_ns() { return Clock::now().time_since_epoch().count(); }
double ms_since(std::int64_t ns) { return static_cast<double>(now_ns() - ns) / 1e6; }

// Counters shared with the forked children.
struct Round {
    std::atomic<std::uint64_t> committed{0};   // last sequence whose write returned (writer side)
    std::atomic<std::uint64_t> verified{0};    // frames verified by a reader child
    std::atomic<std::uint64_t> bad{0};         // frames with wrong content, order or duplicates
    void reset() {
        committed = 0;
        verified = 0;
        bad = 0;
    }
};

class SharedRound {
public:
    SharedRound() {
        void* p = ::mmap(nullptr, sizeof(Round), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
        round_ = new (p) Round{};
    }
    ~SharedRound() { ::munmap(round_, sizeof(Round)); }
    Round* operator->() const noexcept { return round_; }

private:
    Round* round_ = nullptr;
};

// Frame `seq` of round `round`: its size and content are functions of both.
std::size_t frame_size(std::uint64_t round, std::uint64_t seq) { return 1 + (round * 7919 + seq * 104729) % 3000; }
std::uint64_t frame_seed(std::uint64_t round, std::uint64_t seq) { return round * 1'000'003 + seq; }
bool frame_ok(const Frame& f, std::uint64_t round, std::uint64_t seq) {
    return f.sequence() == seq && f.size() == frame_size(round, seq) &&
           test::matches_pattern(f.data().data(), f.size(), frame_seed(round, seq));
}

BufferConfig ring() {
    BufferConfig c;
    c.metadata_size = 0;
    c.payload_size = 32 * 1024;
    return c;
}

// Kills `child` after a random delay, recording when. Joined on destruction, also when an
// assertion leaves the round early.
std::jthread killer(test::Child& child, std::chrono::microseconds delay, std::atomic<std::int64_t>& killed_at) {
    return std::jthread([&child, delay, &killed_at] {
        std::this_thread::sleep_for(delay);
        killed_at = now_ns();
        child.kill_hard();
    });
}

struct Figures {
    int kills = 0;
    std::uint64_t frames = 0;
    double worst_ms = 0;
    void detected(double ms) { worst_ms = std::max(worst_ms, ms); }
};

TEST(KillLoop, WriterKilled200TimesAtRandomMoments) {
    test::NameScope names;
    const auto name = names.make("kill_writer");
    std::mt19937 rng(20240601);
    SharedRound shared;
    Figures fig;
    Reader reader(name, ring());
    for (std::uint64_t round = 1; round <= 200; ++round) {
        shared->reset();
        test::Latch attached;
        test::Child writer_process([&] {
            Writer writer(name);
            attached.signal();
            for (std::uint64_t seq = 1;; ++seq) {
                writer.write_frame(test::pattern(frame_size(round, seq), frame_seed(round, seq)));
                shared->committed = seq;
            }
            return 0;
        });
        ASSERT_TRUE(attached.wait(10s)) << "round " << round << ": the writer did not attach";
        std::atomic<std::int64_t> killed_at{0};
        std::jthread kill = killer(writer_process, std::chrono::microseconds(rng() % 20000), killed_at);
        std::uint64_t expected = 1;
        double detected_ms = -1;
        try {
            for (;;) {
                Frame f = reader.read_frame(5s);
                if (!f) break;
                if (!frame_ok(f, round, expected)) {
                    ADD_FAILURE() << "round " << round << ": frame " << expected << " wrong (sequence " << f.sequence()
                                  << ", " << f.size() << " bytes)";
                    break;
                }
                ++expected;
            }
        } catch (const WriterDeadException&) {
            detected_ms = killed_at.load() != 0 ? ms_since(killed_at) : -2;
        }
        kill.join();
        writer_process.wait(5s);
        const std::uint64_t read = expected - 1;
        ASSERT_GE(detected_ms, 0) << "round " << round << ": the writer's death was not reported after its kill";
        EXPECT_LT(detected_ms, kDetectionLimitMs) << "round " << round;
        // Every frame whose write returned before the kill arrived; at most one more (published,
        // killed before it could count it).
        EXPECT_GE(read, shared->committed.load()) << "round " << round << ": frames lost";
        EXPECT_LE(read, shared->committed.load() + 1) << "round " << round;
        fig.kills++;
        fig.frames += read;
        fig.detected(detected_ms);
        if (HasFailure()) break;
    }
    reader.close();
    EXPECT_TRUE(test::leftovers(name).empty());
    std::printf("[ figure ] writer kill loop: %d kills, %llu frames verified, worst detection %.1f ms\n", fig.kills,
                static_cast<unsigned long long>(fig.frames), fig.worst_ms);
}

TEST(KillLoop, ReaderKilled200TimesAtRandomMoments) {
    test::NameScope names;
    const auto name = names.make("kill_reader");
    std::mt19937 rng(20240602);
    SharedRound shared;
    Figures fig;
    for (std::uint64_t round = 1; round <= 200; ++round) {
        shared->reset();
        test::Latch created;
        // The next reader takes over the name the previous (killed) one left behind.
        test::Child reader_process([&] {
            Reader reader(name, ring());
            created.signal();
            for (std::uint64_t expected = 1;; ++expected) {
                Frame f = reader.read_frame(10s);
                if (!f) return 3;
                if (!frame_ok(f, round, expected)) shared->bad++;
                shared->verified = expected;
            }
        });
        if (!created.wait(10s)) {
            const auto code = reader_process.wait(1s);
            FAIL() << "round " << round << ": the reader could not take over the name (exit "
                   << (code ? std::to_string(*code) : "none") << ")";
        }
        std::atomic<std::int64_t> killed_at{0};
        double detected_ms = -1;
        std::uint64_t written = 0;
        {
            Writer writer(name);
            std::jthread kill = killer(reader_process, std::chrono::microseconds(rng() % 20000), killed_at);
            try {
                for (std::uint64_t seq = 1;; ++seq) {
                    writer.write_frame(test::pattern(frame_size(round, seq), frame_seed(round, seq)));
                    written = seq;
                }
            } catch (const ReaderDeadException&) {
                detected_ms = killed_at.load() != 0 ? ms_since(killed_at) : -2;
            }
            kill.join();
        }
        reader_process.wait(5s);
        ASSERT_GE(detected_ms, 0) << "round " << round << ": the reader's death was not reported after its kill";
        EXPECT_LT(detected_ms, kDetectionLimitMs) << "round " << round;
        EXPECT_EQ(shared->bad.load(), 0u) << "round " << round << ": a frame arrived wrong, twice or out of order";
        EXPECT_LE(shared->verified.load(), written) << "round " << round << ": more frames read than written";
        fig.kills++;
        fig.frames += shared->verified.load();
        fig.detected(detected_ms);
        if (HasFailure()) break;
    }
    {
        Reader last(name, ring());  // reclaims what the last killed reader left
    }
    EXPECT_TRUE(test::leftovers(name).empty());
    std::printf("[ figure ] reader kill loop: %d kills, %llu frames verified, worst detection %.1f ms\n", fig.kills,
                static_cast<unsigned long long>(fig.frames), fig.worst_ms);
}

// ---- duplex ---------------------------------------------------------------------------------

void start_echo_server(ImmutableDuplexServer& server) {
    server.start([](const Frame& request, ResponseWriter& response) { response.write_frame(request.data()); });
}

BufferConfig duplex_ring() {
    BufferConfig c;
    c.metadata_size = 256;
    c.payload_size = 64 * 1024;
    return c;
}

TEST(KillLoop, DuplexServerKilled50TimesAtRandomMoments) {
    test::NameScope names;
    const std::string channel = test::unique_name("kill_duplex");
    names.adopt(request_buffer_name(channel));
    names.adopt(response_buffer_name(channel));
    std::mt19937 rng(20240603);
    Figures fig;
    std::optional<DuplexClient> client;
    DuplexClientOptions options;
    options.response_config = duplex_ring();
    options.connect_timeout = 5s;
    std::uint64_t request_id = 0;
    for (int round = 1; round <= 50; ++round) {
        test::Latch started;
        test::Child server_process([&] {
            ImmutableDuplexServer server(channel, duplex_ring());  // reclaims the killed server's buffer
            start_echo_server(server);
            started.signal();
            for (;;) ::pause();
            return 0;
        });
        ASSERT_TRUE(started.wait(10s)) << "round " << round << ": the server did not start";
        if (!client) client.emplace(channel, options);
        std::atomic<std::int64_t> killed_at{0};
        std::optional<std::jthread> kill;
        double detected_ms = -1;
        try {
            for (;;) {
                ++request_id;
                const auto request = test::pattern(1 + request_id % 2000, request_id);
                client->send_request(request);  // the first one of a round reconnects to the new server
                Frame response = client->receive_response(2s);
                if (!response) {
                    ADD_FAILURE() << "round " << round << ": no response and no error";
                    break;
                }
                if (response.size() != request.size() ||
                    !test::matches_pattern(response.data().data(), response.size(), request_id)) {
                    ADD_FAILURE() << "round " << round << ": response " << request_id << " is not the echo of its request";
                    break;
                }
                fig.frames++;
                // Connected (a verified echo): from now on the server may die at any moment.
                if (!kill) kill.emplace(killer(server_process, std::chrono::microseconds(rng() % 30000), killed_at));
            }
        } catch (const ReaderDeadException&) {
            detected_ms = killed_at.load() != 0 ? ms_since(killed_at) : -2;
        } catch (const WriterDeadException&) {
            detected_ms = killed_at.load() != 0 ? ms_since(killed_at) : -2;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "round " << round << ": unexpected " << e.what();
        }
        kill.reset();
        server_process.wait(5s);
        ASSERT_GE(detected_ms, 0) << "round " << round << ": the server's death was not reported after its kill";
        EXPECT_LT(detected_ms, kDetectionLimitMs) << "round " << round;
        fig.kills++;
        fig.detected(detected_ms);
        if (HasFailure()) break;
    }
    client.reset();
    {
        ImmutableDuplexServer last(channel, duplex_ring());  // reclaims the killed server's CH_request
        start_echo_server(last);
        last.stop();
    }
    EXPECT_TRUE(test::leftovers(channel).empty());
    std::printf("[ figure ] duplex server kill loop: %d kills, %llu echoes verified, worst detection %.1f ms\n", fig.kills,
                static_cast<unsigned long long>(fig.frames), fig.worst_ms);
}

}  // namespace
}  // namespace zerobuffer

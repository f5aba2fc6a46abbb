// Peers in other PID namespaces (containers) and recycled PIDs. The previous design judged a
// peer by its PID alone: a reader in a PID namespace publishes pid 1, which reads as alive
// forever from the host, and a writer in a namespace with its own /proc never saw the host
// reader's PID and could not attach. Now each zerobuffer peer holds an OFD liveness lock on
// the segment, which works whatever the namespaces, and a foreign peer is judged by PID and
// start time.
//
// Namespaces are made with unshare(CLONE_NEWPID | CLONE_NEWNS) and a fork, the process then
// mounting its own /proc: what `unshare --pid --fork --mount-proc` does.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_env.h"
#include "test_support.h"
#include "zerobuffer/protocol.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer::hardening {
namespace {

using namespace std::chrono_literals;

constexpr double kDetectionLimitMs = 250.0;

BufferConfig ring() {
    BufferConfig c;
    c.metadata_size = 0;
    c.payload_size = 64 * 1024;
    return c;
}

struct Stream {
    std::atomic<std::int64_t> killed_ns{0};
    std::atomic<std::int64_t> detected_ns{0};
    std::atomic<std::uint64_t> frames_read{0};
    std::atomic<std::uint64_t> frames_written{0};
    std::atomic<std::uint64_t> bad_frames{0};
    std::atomic<std::uint64_t> reader_pid_seen{0};   // reader_pid as published in the OIEB
    std::atomic<std::uint64_t> writer_pid_seen{0};
};

enum class Where { host, ns };
const char* where_name(Where w) { return w == Where::host ? "host" : "namespace"; }

// A process on the host or in its own PID namespace.
class Peer {
public:
    Peer(Where where, Body body) {
        if (where == Where::host) host_.emplace(std::move(body));
        else ns_.emplace(std::move(body));
    }
    std::optional<pid_t> pid() { return host_ ? std::optional<pid_t>(host_->pid()) : ns_->host_pid(); }
    void kill_hard() {
        if (const auto p = pid()) ::kill(*p, SIGKILL);
    }
    Outcome finish(std::chrono::milliseconds t) { return host_ ? host_->finish(t) : ns_->finish(t); }

private:
    std::optional<Reporter> host_;
    std::optional<NamespacedProcess> ns_;
};

// Reads frames until the writer is declared dead (records when) or, as the victim, until killed.
int reader_role(const std::string& name, Stream& s, test::Latch& created, const Say& say) {
    Reader reader(name, ring());
    s.reader_pid_seen = reader.health().reader.pid;
    created.signal();
    try {
        for (;;) {
            Frame f = reader.read_frame(10s);
            if (!f) {
                say("reader: no frame for 10 s");
                return 3;
            }
            if (!test::matches_pattern(f.data().data(), f.size(), f.sequence())) s.bad_frames++;
            s.frames_read++;
        }
    } catch (const WriterDeadException& e) {
        s.detected_ns = now_ns();
        say(std::string("reader: ") + e.what());
    }
    return 0;
}

// Writes frames (1 per 200 us) until the reader is declared dead (records when) or until killed.
int writer_role(const std::string& name, Stream& s, const Say& say) {
    Writer writer(name);
    s.writer_pid_seen = writer.health().writer.pid;
    try {
        for (;;) {
            const std::uint64_t seq = writer.next_sequence();
            writer.write_frame(test::pattern(64 + seq % 512, seq));
            s.frames_written++;
            std::this_thread::sleep_for(200us);
        }
    } catch (const ReaderDeadException& e) {
        s.detected_ns = now_ns();
        say(std::string("writer: ") + e.what());
    }
    return 0;
}

struct Combination {
    Where reader;
    Where writer;
    bool kill_reader;
};

class PidNamespaces : public ::testing::TestWithParam<Combination> {};

TEST_P(PidNamespaces, FramesFlowAndTheKilledSideIsDetectedWithin250ms) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for PID namespaces";
    const Combination c = GetParam();
    test::NameScope names;
    const auto name = names.make("pidns");
    Shared<Stream> s;
    test::Latch created;

    Peer reader(c.reader, [&](const Say& say) { return reader_role(name, *s, created, say); });
    if (!created.wait(10s)) {
        const Outcome o = reader.finish(5s);
        if (o.skipped()) GTEST_SKIP() << "the kernel refused the PID namespace: " << o.text;
        FAIL() << "the reader did not start: " << o.text;
    }
    Peer writer(c.writer, [&](const Say& say) { return writer_role(name, *s, say); });
    const bool flowing = test::eventually([&] { return s->frames_read.load() >= 200; }, 10s);
    if (!flowing) {
        const Outcome w = writer.finish(1s);
        if (w.skipped()) GTEST_SKIP() << "the kernel refused the PID namespace: " << w.text;
        FAIL() << "frames did not flow (" << s->frames_read.load() << " read); writer: " << w.text;
    }
    if (c.reader == Where::ns) {
        EXPECT_EQ(s->reader_pid_seen.load(), 1u) << "a reader in a namespace is its PID 1";
    }
    if (c.writer == Where::ns) {
        EXPECT_EQ(s->writer_pid_seen.load(), 1u) << "a writer in a namespace is its PID 1";
    }

    Peer& victim = c.kill_reader ? reader : writer;
    Peer& survivor = c.kill_reader ? writer : reader;
    s->killed_ns = now_ns();
    victim.kill_hard();
    const Outcome survived = survivor.finish(10s);
    const Outcome killed = victim.finish(5s);
    ASSERT_EQ(survived.code, 0) << "survivor: " << survived.text;
    EXPECT_EQ(killed.code, 128 + SIGKILL) << killed.text;
    ASSERT_NE(s->detected_ns.load(), 0);
    const double ms = ms_between(s->killed_ns, s->detected_ns);
    std::printf("[ figure ] reader in %s, writer in %s: %llu frames, %s SIGKILL noticed after %.1f ms\n",
                where_name(c.reader), where_name(c.writer), static_cast<unsigned long long>(s->frames_read.load()),
                c.kill_reader ? "reader" : "writer", ms);
    EXPECT_LT(ms, kDetectionLimitMs);
    EXPECT_EQ(s->bad_frames.load(), 0u);

    if (c.kill_reader) {
        // The dead reader (PID 1 of its namespace, if it was in one) must not block the name.
        Reader next(name, ring());
        EXPECT_EQ(next.health().reader.pid, static_cast<std::uint64_t>(::getpid()));
    }
}

INSTANTIATE_TEST_SUITE_P(
    EveryCombination, PidNamespaces,
    ::testing::Values(Combination{Where::ns, Where::host, true}, Combination{Where::ns, Where::host, false},
                      Combination{Where::host, Where::ns, true}, Combination{Where::host, Where::ns, false},
                      Combination{Where::ns, Where::ns, true}, Combination{Where::ns, Where::ns, false}),
    [](const auto& p) {
        const Combination& c = p.param;
        return std::string("Reader") + (c.reader == Where::ns ? "InNs" : "OnHost") + "Writer" +
               (c.writer == Where::ns ? "InNs" : "OnHost") + (c.kill_reader ? "_KillReader" : "_KillWriter");
    });

// A reader that is PID 1 of its namespace, killed while idle: the name is reclaimed by the next
// reader on the host, and by a next reader in another namespace.
TEST(PidNamespaceReclaim, ReaderKilledAsPid1DoesNotBlockTheName) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for PID namespaces";
    test::NameScope names;
    const auto name = names.make("pidns_reclaim");
    for (Where next_where : {Where::host, Where::ns}) {
        Shared<Stream> s;
        test::Latch created;
        NamespacedProcess dead([&](const Say&) {
            Reader reader(name, ring());
            s->reader_pid_seen = reader.health().reader.pid;
            created.signal();
            ::pause();
            return 0;
        });
        if (!created.wait(10s)) {
            const Outcome o = dead.finish(5s);
            if (o.skipped()) GTEST_SKIP() << "the kernel refused the PID namespace: " << o.text;
            FAIL() << o.text;
        }
        ASSERT_EQ(s->reader_pid_seen.load(), 1u);
        dead.kill_hard();
        ASSERT_EQ(dead.finish(5s).code, 128 + SIGKILL);
        ASSERT_TRUE(path_exists("/dev/shm/" + name)) << "the killed reader leaves its buffer behind";

        Peer next(next_where, [&](const Say& say) {
            const std::string result = outcome_of([&] {
                Reader reader(name, ring());
                say("created; reader pid " + std::to_string(reader.health().reader.pid));
            });
            say(result);
            return 0;
        });
        const Outcome o = next.finish(10s);
        ASSERT_EQ(o.code, 0) << o.text;
        EXPECT_NE(o.text.find("no exception"), std::string::npos)
            << "the next reader (" << where_name(next_where) << ") must reclaim the name: " << o.text;
        EXPECT_TRUE(existing_objects(name).empty());
    }
}

// ---- PID reuse -------------------------------------------------------------------------------

// A writer that does not use this library: it opens the segment and the semaphores itself and
// writes frames the way the Python peer does (no liveness lock), so only its PID and start time
// say whether it lives.
int raw_foreign_writer(const std::string& name, int frames) {
    const int fd = ::open(("/dev/shm/" + name).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return 20;
    protocol::Oieb header{};
    if (::pread(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) return 21;
    const std::size_t total = protocol::kOiebSize + header.metadata_size + header.payload_size;
    auto* base = static_cast<std::byte*>(::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    if (base == MAP_FAILED) return 22;
    sem_t* sem_w = ::sem_open(("/sem-w-" + name).c_str(), 0);
    if (sem_w == SEM_FAILED) return 23;
    auto* oieb = reinterpret_cast<protocol::Oieb*>(base);
    std::byte* ring_base = base + protocol::kOiebSize + header.metadata_size;
    std::atomic_ref<std::uint64_t>(oieb->writer_pid).store(static_cast<std::uint64_t>(::getpid()));
    std::uint64_t pos = std::atomic_ref<std::uint64_t>(oieb->payload_write_pos).load();
    for (int i = 1; i <= frames; ++i) {
        const auto data = test::pattern(100, static_cast<std::uint64_t>(i));
        const protocol::FrameHeader fh{data.size(), static_cast<std::uint64_t>(i)};
        std::memcpy(ring_base + pos, &fh, sizeof fh);
        std::memcpy(ring_base + pos + sizeof fh, data.data(), data.size());
        pos += sizeof fh + data.size();
        std::atomic_ref<std::uint64_t>(oieb->payload_write_pos).store(pos, std::memory_order_release);
        std::atomic_ref<std::uint64_t>(oieb->payload_free_bytes).fetch_sub(sizeof fh + data.size());
        std::atomic_ref<std::uint64_t>(oieb->payload_written_count).fetch_add(1, std::memory_order_release);
        ::sem_post(sem_w);
    }
    return 0;
}

enum class WriterKind { zerobuffer, foreign };

class PidReuse : public ::testing::TestWithParam<WriterKind> {};

// Inside a PID namespace (so that ns_last_pid may be set): the reader (PID 1) reads the first
// frames of a writer (identified at that moment), the writer is SIGKILLed and reaped, and its
// PID is taken at once by a new process. The blocked reader must declare the writer dead within
// 250 ms all the same.
TEST_P(PidReuse, WriterKilledAndItsPidReusedAtOnceIsDeclaredDead) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for PID namespaces";
    const WriterKind kind = GetParam();
    test::NameScope names;
    const auto name = names.make(kind == WriterKind::foreign ? "reuse_foreign" : "reuse_zb");
    NamespacedProcess ns([&](const Say& say) {
        Reader reader(name, ring());
        test::Latch wrote;
        const pid_t writer = ::fork();
        if (writer == 0) {
            int code = 0;
            std::optional<Writer> ours;  // holds its liveness lock until the process is killed
            if (kind == WriterKind::foreign) {
                code = raw_foreign_writer(name, 5);
            } else {
                ours.emplace(name);
                for (std::uint64_t i = 1; i <= 5; ++i) ours->write_frame(test::pattern(100, i));
            }
            if (code == 0) wrote.signal();
            ::pause();
            ::_exit(code);
        }
        if (!wrote.wait(10s)) {
            say("the writer did not write");
            return 4;
        }
        for (std::uint64_t i = 1; i <= 5; ++i) {
            Frame f = reader.read_frame(2s);
            if (!f || f.sequence() != i || !test::matches_pattern(f.data().data(), f.size(), i)) {
                say("frame " + std::to_string(i) + " missing or wrong");
                return 5;
            }
        }
        // Let the writer age a few clock ticks, so that a new process differs in start time.
        std::this_thread::sleep_for(50ms);
        std::atomic<std::int64_t> killed_ns{0};
        std::atomic<pid_t> reused{0};
        std::thread killer([&] {
            std::this_thread::sleep_for(100ms);  // the reader is asleep in read_frame by now
            killed_ns = now_ns();
            ::kill(writer, SIGKILL);
            ::waitpid(writer, nullptr, 0);
            std::ofstream("/proc/sys/kernel/ns_last_pid") << (writer - 1);
            const pid_t again = ::fork();
            if (again == 0) {
                ::pause();
                ::_exit(0);
            }
            reused = again;
        });
        std::string verdict;
        std::int64_t detected = 0;
        try {
            Frame f = reader.read_frame(3s);
            verdict = f ? "an unexpected frame" : "timed out: the writer still reads as alive";
        } catch (const WriterDeadException& e) {
            detected = now_ns();
            verdict = std::string("WriterDeadException: ") + e.what();
        }
        killer.join();
        say("writer pid " + std::to_string(writer) + ", new process pid " + std::to_string(reused.load()));
        say(verdict);
        if (detected != 0) say("detected_ms " + std::to_string(ms_between(killed_ns, detected)));
        ::kill(reused, SIGKILL);
        ::waitpid(reused, nullptr, 0);
        return reused.load() == writer ? 0 : 6;
    });
    const Outcome o = ns.finish(20s);
    if (o.skipped()) GTEST_SKIP() << "the kernel refused the PID namespace: " << o.text;
    if (o.code == 6) GTEST_SKIP() << "this kernel did not hand out the same PID again (ns_last_pid): " << o.text;
    ASSERT_EQ(o.code, 0) << o.text;
    EXPECT_NE(o.text.find("WriterDeadException"), std::string::npos) << o.text;
    const auto at = o.text.find("detected_ms ");
    ASSERT_NE(at, std::string::npos) << o.text;
    const double ms = std::stod(o.text.substr(at + 12));
    std::printf("[ figure ] %s writer killed, PID reused at once: declared dead after %.1f ms\n",
                kind == WriterKind::foreign ? "foreign" : "zerobuffer", ms);
    EXPECT_LT(ms, kDetectionLimitMs) << o.text;
}

INSTANTIATE_TEST_SUITE_P(Writers, PidReuse, ::testing::Values(WriterKind::zerobuffer, WriterKind::foreign),
                         [](const auto& p) { return p.param == WriterKind::foreign ? "Foreign" : "Zerobuffer"; });

}  // namespace
}  // namespace zerobuffer::hardening

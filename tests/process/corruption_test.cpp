// Corrupted shared memory: every bad field is reported by name; nothing is read or written
// outside the mapping, whatever the header says.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;

// A second mapping of the segment, as another (misbehaving) process would have.
class RawSegment {
public:
    explicit RawSegment(const std::string& name) {
        const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
        if (fd < 0) throw std::runtime_error("shm_open failed");
        struct stat st {};
        ::fstat(fd, &st);
        size_ = static_cast<std::size_t>(st.st_size);
        data_ = static_cast<std::byte*>(::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        ::close(fd);
    }
    ~RawSegment() { ::munmap(data_, size_); }
    protocol::Oieb& oieb() { return *reinterpret_cast<protocol::Oieb*>(data_); }
    std::byte* payload() { return data_ + protocol::kOiebSize + oieb().metadata_size; }
    std::byte* begin() const { return data_; }
    std::byte* end() const { return data_ + size_; }

private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

BufferConfig ring(std::size_t metadata, std::size_t payload) {
    BufferConfig c;
    c.metadata_size = metadata;
    c.payload_size = payload;
    return c;
}

std::string corrupt_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const CorruptBufferException& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected CorruptBufferException, got: " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected CorruptBufferException, nothing thrown";
    return {};
}

#define EXPECT_NAMES(message, field) EXPECT_NE((message).find(field), std::string::npos) << (message)

struct Fixture {
    test::NameScope names;
    std::string name = names.make("corrupt");
    Reader reader{name, ring(128, 4096)};
    Writer writer{name};
    RawSegment raw{name};
};

// The reader never uses these fields for reading (its own copies bound every offset); it checks
// them when it is about to wait, so tampering is reported by the read that finds no frame.
TEST(Corruption, ReaderNamesCorruptedOiebFields) {
    struct FieldCase {
        const char* field;
        std::function<void(protocol::Oieb&)> poke;
    };
    const FieldCase cases[] = {
        {"oieb_size", [](protocol::Oieb& o) { o.oieb_size = 64; }},
        {"payload_size", [](protocol::Oieb& o) { o.payload_size = 1ull << 40; }},
        {"metadata_size", [](protocol::Oieb& o) { o.metadata_size = 1ull << 40; }},
        {"payload_read_pos", [](protocol::Oieb& o) { o.payload_read_pos = 4000; }},
        {"payload_read_count", [](protocol::Oieb& o) { o.payload_read_count = 77; }},
        {"payload_write_pos", [](protocol::Oieb& o) { o.payload_write_pos = 1ull << 50; }},
        // payload_free_bytes is the writer's to check (see WriterNamesFreeBytesCorrupted...): a
        // Python writer publishes write_pos before it takes the space, so a reader can briefly
        // see more than S legitimately.
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.field);
        Fixture fx;
        fx.writer.write_frame(test::pattern(10, 1));
        c.poke(fx.raw.oieb());
        const auto message = corrupt_message([&] {
            for (int i = 0; i < 3; ++i) (void)fx.reader.read_frame(100ms);  // the frame (if still readable), then a wait
        });
        EXPECT_NAMES(message, c.field);
        EXPECT_NAMES(message, fx.name);
    }
}

TEST(Corruption, ReaderNamesCorruptedFrameHeaders) {
    {
        Fixture fx;
        fx.writer.write_frame(test::pattern(10, 1));
        protocol::FrameHeader h{1ull << 62, 1};
        std::memcpy(fx.raw.payload(), &h, sizeof h);
        EXPECT_NAMES(corrupt_message([&] { (void)fx.reader.read_frame(1s); }), "payload_size");
    }
    {
        Fixture fx;
        fx.writer.write_frame(test::pattern(10, 1));
        protocol::FrameHeader h{0, 5};
        std::memcpy(fx.raw.payload(), &h, sizeof h);
        EXPECT_NAMES(corrupt_message([&] { (void)fx.reader.read_frame(1s); }), "sequence_number");
    }
    {
        Fixture fx;
        fx.writer.write_frame(test::pattern(10, 1));
        protocol::FrameHeader h{0, 0};  // a wrap marker at offset 0
        std::memcpy(fx.raw.payload(), &h, sizeof h);
        EXPECT_NAMES(corrupt_message([&] { (void)fx.reader.read_frame(1s); }), "offset 0");
    }
    {
        Fixture fx;
        fx.writer.write_frame(test::pattern(10, 1));
        protocol::FrameHeader h{10, 9};
        std::memcpy(fx.raw.payload(), &h, sizeof h);
        try {
            (void)fx.reader.read_frame(1s);
            ADD_FAILURE() << "no sequence error";
        } catch (const SequenceError& e) {
            EXPECT_EQ(e.expected(), 1u);
            EXPECT_EQ(e.got(), 9u);
        }
    }
}

TEST(Corruption, ReaderNamesCorruptedMetadataHeader) {
    {
        Fixture fx;
        fx.raw.oieb().metadata_written_bytes = 1ull << 40;
        EXPECT_NAMES(corrupt_message([&] { (void)fx.reader.metadata(); }), "metadata_written_bytes");
    }
    {
        Fixture fx;
        fx.writer.set_metadata(test::pattern(10, 0));
        const std::uint64_t huge = 1000;
        std::memcpy(fx.raw.begin() + protocol::kOiebSize, &huge, 8);
        EXPECT_NAMES(corrupt_message([&] { (void)fx.reader.metadata(); }), "prefix");
    }
}

TEST(Corruption, WriterRefusesCorruptedSegmentsAtAttach) {
    struct FieldCase {
        const char* field;
        std::function<void(protocol::Oieb&)> poke;
    };
    const FieldCase cases[] = {
        {"oieb_size", [](protocol::Oieb& o) { o.oieb_size = 0; }},
        {"version", [](protocol::Oieb& o) { o.version.major = 2; }},
        {"payload_size", [](protocol::Oieb& o) { o.payload_size = 1ull << 40; }},
        {"payload_size", [](protocol::Oieb& o) { o.payload_size = 100; }},
        {"metadata_size", [](protocol::Oieb& o) { o.metadata_size = 1ull << 62; }},
        {"metadata_size", [](protocol::Oieb& o) { o.metadata_size = 65; }},
        {"payload_write_pos", [](protocol::Oieb& o) { o.payload_write_pos = 5000; }},
        {"payload_free_bytes", [](protocol::Oieb& o) { o.payload_free_bytes = 5000; }},
        {"metadata_written_bytes", [](protocol::Oieb& o) { o.metadata_written_bytes = 5000; }},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.field);
        test::NameScope names;
        const auto name = names.make("corrupt_attach");
        Reader reader(name, ring(128, 4096));
        RawSegment raw(name);
        c.poke(raw.oieb());
        const auto message = corrupt_message([&] { Writer w(name); });
        EXPECT_NAMES(message, c.field);
        EXPECT_EQ(raw.oieb().writer_pid, 0u) << "a refused writer must not touch the OIEB";
    }
}

// The writer reads payload_free_bytes only when its own account of the free space runs out
// (the reader only ever adds to it); it then names the corrupted field instead of trusting it.
TEST(Corruption, WriterNamesFreeBytesCorruptedWhileStreaming) {
    Fixture fx;
    fx.writer.write_frame(test::pattern(10, 1));
    fx.raw.oieb().payload_free_bytes = 1ull << 60;
    const auto message = corrupt_message([&] {
        for (int i = 0; i < 4096 / 26 + 2; ++i) fx.writer.write_frame(test::pattern(10, 2));  // more than the ring holds
    });
    EXPECT_NAMES(message, "payload_free_bytes");
    EXPECT_NAMES(message, fx.name);
}

// Random garbage in frame headers: the reader returns frames inside the ring or raises
// CorruptBufferException / SequenceError; it never crashes or reads outside the mapping.
TEST(Corruption, RandomFrameHeadersNeverEscapeTheMapping) {
    std::mt19937_64 rng(42);
    int corrupt = 0, frames = 0, sequence = 0;
    for (int round = 0; round < 300; ++round) {
        Fixture fx;
        fx.writer.set_metadata(test::pattern(1, 0));
        // The reader's own mapping: metadata bytes start 8 bytes into the block after the OIEB.
        const std::byte* base = fx.reader.metadata().data() - protocol::kOiebSize - protocol::kMetadataPrefixSize;
        const std::byte* end = base + protocol::kOiebSize + 128 + 4096;
        fx.writer.write_frame(test::pattern(1 + rng() % 200, 1));
        protocol::FrameHeader h{};
        switch (rng() % 3) {
            case 0: h = {rng(), rng()}; break;
            case 1: h = {rng() % 5000, rng() % 4}; break;
            default: h = {0, rng() % 3}; break;
        }
        std::memcpy(fx.raw.payload(), &h, sizeof h);
        try {
            Frame f = fx.reader.read_frame(200ms);
            if (f) {
                ++frames;
                ASSERT_GE(f.data().data(), base + protocol::kOiebSize + 128);
                ASSERT_LE(f.data().data() + f.size(), end);
            }
        } catch (const CorruptBufferException&) {
            ++corrupt;
        } catch (const SequenceError&) {
            ++sequence;
        }
    }
    EXPECT_GT(corrupt, 0);
    std::printf("[ figure ] 300 corrupted headers: %d rejected as corrupt, %d sequence errors, %d in-bounds frames\n",
                corrupt, sequence, frames);
}

}  // namespace
}  // namespace zerobuffer

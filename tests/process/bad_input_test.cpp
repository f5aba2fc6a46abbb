// Every bad input gets its exception, a message naming the buffer and the numbers, and leaves
// nothing behind in /dev/shm or /tmp/zerobuffer.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;

using test::expect_throw;

void expect_mentions(const std::string& message, std::initializer_list<std::string> parts) {
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' missing in: " << message;
}

BufferConfig ring(std::size_t metadata, std::size_t payload) {
    BufferConfig c;
    c.metadata_size = metadata;
    c.payload_size = payload;
    return c;
}

TEST(BadInput, InvalidNamesLeaveNothing) {
    // Only what these names could have created is looked at: other tests running in parallel
    // create and remove their own objects all the time.
    const std::string too_long(246, 'n');
    auto traces = [&] {
        std::vector<std::string> found = test::leftovers(too_long.substr(0, 200));
        for (const char* part : {"a", "x"}) {
            for (const auto& path : test::object_paths(part)) {
                if (std::filesystem::exists(path)) found.push_back(path);
            }
        }
        return found;
    };
    const auto before = traces();
    EXPECT_THROW(Reader(""), InvalidNameException);
    EXPECT_THROW(Reader("a/b"), InvalidNameException);
    EXPECT_THROW(Reader{too_long}, InvalidNameException);
    EXPECT_THROW(Writer(""), InvalidNameException);
    EXPECT_THROW(Writer("x/y"), InvalidNameException);
    EXPECT_EQ(traces(), before);
}

TEST(BadInput, LongestValidNameWorks) {
    test::NameScope names;
    std::string name = names.make("");
    name += std::string(protocol::kMaxNameLength - name.size(), 'L');
    names.adopt(name);
    {
        Reader reader(name, ring(0, 1024));
        Writer writer(name);
        writer.write_frame(test::pattern(5, 1));
        EXPECT_TRUE(reader.read_frame(1s));
    }
    names.expect_clean();
}

TEST(BadInput, ZeroAndAbsurdSizes) {
    test::NameScope names;
    const auto name = names.make("sizes");
    expect_mentions(expect_throw<InvalidArgumentException>([&] { Reader r(name, ring(1024, 0)); }), {name, "0"});
    expect_mentions(expect_throw<InvalidArgumentException>([&] { Reader r(name, ring(1024, std::size_t{1} << 60)); }),
                    {name});
    // Larger than /dev/shm itself.
    expect_mentions(expect_throw<InvalidArgumentException>([&] { Reader r(name, ring(0, std::size_t{1} << 45)); }),
                    {name, "/dev/shm"});
    BufferConfig bad_mode = ring(0, 1024);
    bad_mode.permissions = 0100000;
    EXPECT_THROW(Reader(name, bad_mode), InvalidArgumentException);
    names.expect_clean();
}

TEST(BadInput, FrameSizes) {
    test::NameScope names;
    const auto name = names.make("frames");
    {
        Reader reader(name, ring(0, 1024));
        Writer writer(name);
        expect_mentions(expect_throw<InvalidFrameSizeException>([&] { writer.write_frame(nullptr, 0); }), {name, "0"});
        EXPECT_THROW((void)writer.get_frame_buffer(0), InvalidFrameSizeException);
        expect_mentions(expect_throw<FrameTooLargeException>([&] { writer.write_frame(test::pattern(1009, 0)); }),
                        {name, "1009", "1024"});
        EXPECT_NO_THROW(writer.write_frame(test::pattern(1008, 0))) << "16 + 1008 == 1024 fits exactly";
        EXPECT_THROW(writer.write_frame(nullptr, 5), InvalidArgumentException);
    }
    names.expect_clean();
}

TEST(BadInput, MetadataTooLargeAndTwice) {
    test::NameScope names;
    const auto name = names.make("meta");
    {
        Reader reader(name, ring(64, 1024));
        Writer writer(name);
        expect_mentions(expect_throw<MetadataTooLargeException>([&] { writer.set_metadata(test::pattern(57, 0)); }),
                        {name, "57", "64"});
        writer.set_metadata(test::pattern(56, 0));  // 8 + 56 == 64
        expect_mentions(expect_throw<MetadataAlreadyWrittenException>([&] { writer.set_metadata(test::pattern(1, 0)); }),
                        {name});
        // Metadata survives a writer change: written once per buffer.
        writer.close();
        Writer second(name);
        EXPECT_THROW(second.set_metadata(test::pattern(1, 0)), MetadataAlreadyWrittenException);
    }
    {
        const auto none = names.make("nometa");
        Reader reader(none, ring(0, 1024));
        Writer writer(none);
        EXPECT_THROW(writer.set_metadata(test::pattern(1, 0)), MetadataTooLargeException);
        EXPECT_TRUE(reader.metadata().empty());
    }
    names.expect_clean();
}

TEST(BadInput, NegativeAndZeroTimeouts) {
    test::NameScope names;
    const auto name = names.make("timeouts");
    Reader reader(name, ring(0, 1024));
    Writer writer(name);
    EXPECT_FALSE(reader.read_frame(0ms)) << "0 only looks";
    expect_mentions(expect_throw<InvalidArgumentException>([&] { (void)reader.read_frame(-5ms); }), {name, "-5"});
    EXPECT_THROW((void)writer.try_write_frame(test::pattern(1, 0), -1ms), InvalidArgumentException);
    EXPECT_THROW(writer.set_write_timeout(0ms), InvalidArgumentException);
    WriterOptions options;
    options.write_timeout = -1ms;
    writer.close();
    EXPECT_THROW(Writer(name, options), InvalidArgumentException);
}

TEST(BadInput, UseAfterClose) {
    test::NameScope names;
    const auto name = names.make("closed");
    Reader reader(name, ring(0, 1024));
    Writer writer(name);
    writer.close();
    writer.close();  // idempotent
    EXPECT_THROW(writer.write_frame(test::pattern(1, 0)), ObjectClosedException);
    EXPECT_THROW(writer.set_metadata(test::pattern(1, 0)), ObjectClosedException);
    EXPECT_FALSE(writer.is_reader_connected());
    reader.close();
    EXPECT_THROW(reader.read_frame(10ms), ObjectClosedException);
    EXPECT_THROW((void)reader.metadata(), ObjectClosedException);
    {
        Reader moved_from(names.make("moved"), ring(0, 1024));
        Reader taken = std::move(moved_from);
        EXPECT_THROW(moved_from.read_frame(10ms), ObjectClosedException);  // NOLINT(bugprone-use-after-move)
        EXPECT_TRUE(taken.is_open());
    }
    names.expect_clean();
}

TEST(BadInput, WriterWithoutBufferOrReader) {
    test::NameScope names;
    const auto name = names.make("nobuffer");
    expect_mentions(expect_throw<BufferNotFoundException>([&] { Writer w(name); }), {name});
    names.expect_clean();
}

TEST(BadInput, ExceptionsCarryErrorCodesAndShareABase) {
    test::NameScope names;
    const auto name = names.make("codes");
    try {
        Writer w(name);
        FAIL();
    } catch (const ZeroBufferException& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::buffer_not_found));
        EXPECT_STREQ(e.code().category().name(), "zerobuffer");
    }
}

}  // namespace
}  // namespace zerobuffer

// Feature 03: Error Handling (catalogue §1.3). Single-process scenarios (flag 1P).
#include <gtest/gtest.h>

#include "scenario_util.h"

namespace zerobuffer::scenario {
namespace {

// 3.1: metadata is written once; a second attempt fails and the first stays visible.
TEST(Feature03_ErrorHandling, Scenario_03_01_MetadataWriteOnceEnforcement) {
    NameScope names;
    const auto name = names.make("test-meta-once");
    Reader reader(name, config(1024, 10240));
    Writer writer(name);

    writer.set_metadata(pattern(500, 0));
    EXPECT_TRUE(writer.metadata_written());
    writer.write_frame(bytes_of("test"));
    EXPECT_THROW(writer.set_metadata(pattern(200, 7)), MetadataAlreadyWrittenException);

    // A second Writer object on the same buffer is bound by the same rule (once per buffer).
    writer.close();
    Writer second(name);
    EXPECT_TRUE(second.metadata_written());
    EXPECT_THROW(second.set_metadata(pattern(200, 7)), MetadataAlreadyWrittenException);

    const auto meta = reader.metadata();
    ASSERT_EQ(meta.size(), 500u);
    EXPECT_TRUE(matches_pattern(meta.data(), meta.size(), 0));
    Frame f = reader.read_frame(1s);
    ASSERT_TRUE(f.valid());
    EXPECT_EQ(text_of(f), "test");
}

// 3.2: metadata larger than the block fails with a size error; the limit is M - 8 (the prefix).
TEST(Feature03_ErrorHandling, Scenario_03_02_MetadataSizeOverflow) {
    NameScope names;
    const auto name = names.make("test-meta-overflow");
    Reader reader(name, config(1024, 10240));
    Writer writer(name);

    EXPECT_THROW(writer.set_metadata(pattern(2048, 0)), MetadataTooLargeException);
    EXPECT_THROW(writer.set_metadata(pattern(1017, 0)), MetadataTooLargeException) << "8 + 1017 > 1024";
    EXPECT_FALSE(writer.metadata_written()) << "a rejected write must not count as the one write";
    EXPECT_TRUE(reader.metadata().empty());

    writer.set_metadata(pattern(1016, 3));  // exactly fills the block
    const auto meta = reader.metadata();
    ASSERT_EQ(meta.size(), 1016u);
    EXPECT_TRUE(matches_pattern(meta.data(), meta.size(), 3));
}

// 3.3: a buffer with no metadata block carries frames normally and reports empty metadata.
// (Python's BufferConfig refuses metadata_size 0; ours, like C# and C++old, accepts it.)
TEST(Feature03_ErrorHandling, Scenario_03_03_ZeroMetadataConfiguration) {
    NameScope names;
    const auto name = names.make("test-zero-meta");
    Reader reader(name, config(0, 10240));
    Writer writer(name);

    for (int i = 0; i < 3; ++i) writer.write_frame(bytes_of("frame_" + std::to_string(i)));
    for (int i = 0; i < 3; ++i) {
        Frame f = reader.read_frame(1s);
        ASSERT_TRUE(f.valid()) << "frame " << i;
        EXPECT_EQ(text_of(f), "frame_" + std::to_string(i));
    }
    EXPECT_TRUE(reader.metadata().empty());
    EXPECT_EQ(reader.health().metadata_size, 0u);
}

}  // namespace
}  // namespace zerobuffer::scenario

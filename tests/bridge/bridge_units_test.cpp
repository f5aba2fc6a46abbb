// The bridge's pure parts: the wire format, the receiver's sequence accounting, endpoint
// parsing, CURVE key files. No sockets.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "bridge/receiver_streams.h"
#include "bridge/wire.h"
#include "test_support.h"
#include "zerobuffer/bridge.h"
#include "zerobuffer/exceptions.h"

namespace zb = zerobuffer;
namespace wire = zerobuffer::bridge::wire;
using zerobuffer::bridge::detail::StreamTable;

namespace {

wire::Verdict decode_bytes(const wire::HeaderBytes& bytes, std::size_t payload, wire::Header& out, std::size_t parts = 2) {
    return wire::decode(parts, bytes, payload, out);
}

}  // namespace

TEST(BridgeWire, RoundTripsEveryField) {
    const wire::Header sent{wire::Kind::frame, 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 3'110'400};
    const wire::HeaderBytes bytes = encode(sent);
    EXPECT_EQ(std::to_integer<char>(bytes[0]), 'Z');
    EXPECT_EQ(std::to_integer<int>(bytes[4]), 1);
    EXPECT_EQ(std::to_integer<int>(bytes[8]), 0xef);  // little-endian stream id
    wire::Header got;
    ASSERT_EQ(decode_bytes(bytes, 3'110'400, got), wire::Verdict::ok);
    EXPECT_EQ(got.kind, sent.kind);
    EXPECT_EQ(got.stream, sent.stream);
    EXPECT_EQ(got.sequence, sent.sequence);
    EXPECT_EQ(got.size, sent.size);
}

TEST(BridgeWire, RejectsEveryMalformedHeader) {
    const wire::HeaderBytes good = encode(wire::Header{wire::Kind::frame, 7, 1, 10});
    wire::Header out;
    EXPECT_EQ(decode_bytes(good, 10, out, 1), wire::Verdict::wrong_part_count);
    EXPECT_EQ(decode_bytes(good, 10, out, 3), wire::Verdict::wrong_part_count);
    EXPECT_EQ(wire::decode(2, std::span(good).first(31), 10, out), wire::Verdict::wrong_header_size);
    EXPECT_EQ(decode_bytes(good, 11, out), wire::Verdict::size_mismatch);
    const auto with = [&](std::size_t at, std::uint8_t value) {
        wire::HeaderBytes copy = good;
        copy[at] = std::byte{value};
        return copy;
    };
    EXPECT_EQ(decode_bytes(with(0, 'X'), 10, out), wire::Verdict::bad_magic);
    EXPECT_EQ(decode_bytes(with(4, 2), 10, out), wire::Verdict::unsupported_version);
    EXPECT_EQ(decode_bytes(with(5, 9), 10, out), wire::Verdict::unknown_kind);
    EXPECT_EQ(decode_bytes(with(7, 1), 10, out), wire::Verdict::reserved_flags);
    EXPECT_EQ(decode_bytes(encode(wire::Header{wire::Kind::frame, 0, 1, 10}), 10, out), wire::Verdict::zero_stream);
    EXPECT_EQ(decode_bytes(encode(wire::Header{wire::Kind::frame, 7, 0, 10}), 10, out), wire::Verdict::zero_sequence);
    EXPECT_EQ(decode_bytes(encode(wire::Header{wire::Kind::frame, 7, 1, 0}), 0, out), wire::Verdict::empty_frame);
    // Metadata may be empty and carries the next sequence, which may be anything.
    EXPECT_EQ(decode_bytes(encode(wire::Header{wire::Kind::metadata, 7, 0, 0}), 0, out), wire::Verdict::ok);
    for (int v = 0; v <= static_cast<int>(wire::Verdict::size_mismatch); ++v) {
        EXPECT_STRNE(wire::to_string(static_cast<wire::Verdict>(v)), "unknown");
    }
}

TEST(BridgeStreams, CountsGapsExactlyAcrossReconnects) {
    StreamTable table;
    auto u = table.on_metadata(42, 1);
    EXPECT_TRUE(u.joined);
    EXPECT_EQ(table.on_frame(42, 1).missing, 0u);
    EXPECT_EQ(table.on_frame(42, 2).missing, 0u);
    EXPECT_EQ(table.on_frame(42, 5).missing, 2u);    // 3 and 4 missing
    EXPECT_EQ(table.on_metadata(42, 9).missing, 3u); // reconnect: 6, 7, 8 were lost in flight
    EXPECT_EQ(table.on_frame(42, 9).missing, 0u);    // not counted twice
    EXPECT_TRUE(table.on_frame(42, 9).stale);
    EXPECT_TRUE(table.on_frame(42, 3).stale);
    EXPECT_EQ(table.on_metadata(42, 10).missing, 0u);  // a reconnect that lost nothing
}

TEST(BridgeStreams, AJoinIsNotAGapAndStreamsAreSeparate) {
    StreamTable table(2);
    EXPECT_TRUE(table.on_metadata(1, 500).joined);  // a receiver that came late
    EXPECT_EQ(table.on_frame(1, 500).missing, 0u);
    EXPECT_TRUE(table.on_frame(2, 1).joined);
    EXPECT_EQ(table.on_frame(2, 3).missing, 1u);
    EXPECT_EQ(table.on_frame(1, 501).missing, 0u);
    EXPECT_TRUE(table.on_frame(3, 1).joined);  // capacity 2: the least recent (stream 2) is forgotten
    EXPECT_EQ(table.size(), 2u);
    EXPECT_TRUE(table.on_frame(2, 4).joined);
    EXPECT_EQ(table.streams_seen(), 4u);
}

TEST(BridgeEndpoint, ParsesAndNamesWhatIsWrong) {
    using zerobuffer::bridge::parse_endpoint;
    EXPECT_EQ(parse_endpoint("tcp://127.0.0.1:5555", false).address, "tcp://127.0.0.1:5555");
    EXPECT_TRUE(parse_endpoint("tcp://*:5555", true).bind);
    EXPECT_NO_THROW((void)parse_endpoint("tcp://[::1]:80", false));
    const auto message = [](std::string_view text, bool bind) {
        return zb::test::expect_throw<zb::InvalidArgumentException>([&] { (void)parse_endpoint(text, bind); });
    };
    const auto expect_message = [&](std::string_view text, bool bind, std::string_view part) {
        const std::string what = message(text, bind);
        EXPECT_NE(what.find(std::string(text)), std::string::npos) << what;
        EXPECT_NE(what.find(std::string(part)), std::string::npos) << what;
    };
    expect_message("tcp//host:1", false, "no transport");
    expect_message("udp://host:1", false, "transport 'udp' is not tcp");
    expect_message("tcp://host", false, "no port");
    expect_message("tcp://:5555", false, "no host");
    expect_message("tcp://*:5555", false, "needs a host");
    expect_message("tcp://host:70000", false, "port 70000 is out of range");
    expect_message("tcp://host:0", true, "port 0 is out of range");
    expect_message("tcp://host:55x", false, "port '55x' is not a number");
    expect_message("tcp://[::1:80", false, "unclosed '['");
}

TEST(BridgeCurve, KeyFilesRoundTripAndRefuseToOverwrite) {
    const std::string dir = "/tmp/zbbridge_keys_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    struct Cleanup {
        std::string dir;
        ~Cleanup() { std::filesystem::remove_all(dir); }
    } cleanup{dir};
    const auto keys = zerobuffer::bridge::generate_curve_keypair();
    ASSERT_EQ(keys.public_key.size(), 40u);
    ASSERT_EQ(keys.secret_key.size(), 40u);
    zerobuffer::bridge::write_curve_key_files(keys, dir + "/a");
    struct stat st{};
    ASSERT_EQ(::stat((dir + "/a.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto both = zerobuffer::bridge::read_curve_key_file(dir + "/a.key");
    EXPECT_EQ(both.public_key, keys.public_key);
    EXPECT_EQ(both.secret_key, keys.secret_key);
    const auto pub = zerobuffer::bridge::read_curve_key_file(dir + "/a.pub");
    EXPECT_EQ(pub.public_key, keys.public_key);
    EXPECT_TRUE(pub.secret_key.empty());
    const std::string again = zb::test::expect_throw<zb::InvalidArgumentException>(
        [&] { zerobuffer::bridge::write_curve_key_files(keys, dir + "/a"); });
    EXPECT_NE(again.find("exists already"), std::string::npos) << again;
    std::ofstream(dir + "/bad.pub") << "public-key = tooshort\n";
    const std::string bad = zb::test::expect_throw<zb::InvalidArgumentException>(
        [&] { (void)zerobuffer::bridge::read_curve_key_file(dir + "/bad.pub"); });
    EXPECT_NE(bad.find("line 1"), std::string::npos) << bad;
}

// Test data shared by every zerobuffer-interop command, defined so that the Python driver
// (cross_lang_tests/pypeer.py) produces and checks exactly the same bytes (contract §10.1):
//   pattern sequential: byte[i] of the frame with 0-based index k is (k + i) mod 256
//                       (= GenerateFrameData(size, sequence - 1)); zero: 0x00; ones: 0xFF
//   metadata pattern:   byte[i] = i mod 256 (GenerateMetadata)
//   size schedules:     see SizeSchedule
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "arg_parser.h"
#include "json_writer.h"

namespace interop {

// The command-line and JSON code shared with the other tools (tools/common).
using zbtool::ArgParser;
using zbtool::Json;
using zbtool::parse_int;
using zbtool::parse_size;
using zbtool::UsageError;
inline constexpr const char* kProgram = "zerobuffer-interop";

enum class Pattern { none, sequential, zero, ones };
Pattern parse_pattern(const std::string& text, bool allow_none);  // throws UsageError
const char* to_string(Pattern p) noexcept;

// Produces and checks frame contents without generating every frame from scratch: a frame of
// the sequential pattern is a window into one precomputed buffer.
class PatternSource {
public:
    explicit PatternSource(Pattern pattern, std::size_t max_size = 0);
    // The expected bytes of frame `index` (0-based), `size` long. Valid until the next call.
    std::span<const std::byte> frame(std::uint64_t index, std::size_t size);
    void fill(std::span<std::byte> out, std::uint64_t index);
    // Index of the first wrong byte, or -1 when `data` is what frame `index` should hold.
    std::int64_t first_mismatch(std::span<const std::byte> data, std::uint64_t index);
    Pattern pattern() const noexcept { return pattern_; }

private:
    void ensure(std::size_t size);
    Pattern pattern_;
    std::vector<std::byte> base_;
};

// Frame sizes, by 0-based frame index:
//   "N"                 every frame N bytes
//   "mixed:MIN:MAX:SEED" size(k) = MIN + splitmix64(SEED, k) mod (MAX - MIN + 1), where
//                        splitmix64(seed, k) is the (k+1)-th output of SplitMix64 seeded with SEED
//   "list:A,B,C"        the list, repeated
//   "file:PATH"         whitespace-separated sizes read from PATH, repeated
class SizeSchedule {
public:
    static SizeSchedule parse(const std::string& spec);  // throws UsageError
    static SizeSchedule fixed(std::uint64_t size);
    std::uint64_t size(std::uint64_t index) const noexcept;
    std::uint64_t max_size() const noexcept;
    bool any() const noexcept { return kind_ == Kind::any; }  // reader: accept every size
    static SizeSchedule any_size() { return SizeSchedule(Kind::any); }
    std::string describe() const;

private:
    enum class Kind { any, fixed, mixed, list };
    explicit SizeSchedule(Kind k) : kind_(k) {}
    Kind kind_;
    std::uint64_t a_ = 0, b_ = 0, seed_ = 0;
    std::vector<std::uint64_t> list_;
    std::string spec_;
};

std::uint64_t splitmix64(std::uint64_t seed, std::uint64_t index) noexcept;

// Metadata selected by -m TEXT, --metadata-file PATH, --metadata-bytes N or --empty-metadata.
struct MetadataChoice {
    bool present = false;
    std::vector<std::byte> bytes;
    std::string source;  // for messages
};

std::vector<std::byte> read_file_bytes(const std::string& path);  // throws std::runtime_error
// Writes `text` to PATH atomically (PATH.tmp, then rename), so a poller never sees half a file.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace interop

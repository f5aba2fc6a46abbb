// Reading a segment's bytes for a report: pread only, never a mapping, and never an offset
// beyond what the file holds (a header written by a hostile process cannot move the reads).
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "admin/admin_internal.h"
#include "platform/posix/shared_memory.h"

namespace zerobuffer::admin::internal {
namespace {

constexpr std::uint64_t kPreviewBytes = 64;

}  // namespace

std::optional<std::vector<std::uint8_t>> read_segment_bytes(const std::string& file_name,
                                                            const posix::FileInfo& expected,
                                                            std::uint64_t offset, std::uint64_t length) {
    auto shm = posix::SharedMemory::open(file_name, false);
    if (!shm) return std::nullopt;
    const posix::FileInfo now = shm->info();
    if (!now.regular || now.dev != expected.dev || now.ino != expected.ino) return std::nullopt;
    if (offset > now.size || length > now.size - offset) return std::nullopt;
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(length));
    if (length > 0 && shm->read_at(bytes.data(), bytes.size(), offset) != bytes.size()) return std::nullopt;
    return bytes;
}

MetadataInfo read_metadata(const std::string& name, const posix::FileInfo& segment, const protocol::Oieb& oieb) {
    MetadataInfo m;
    m.block_size = oieb.metadata_size;
    m.written_bytes = oieb.metadata_written_bytes;
    if (m.written_bytes == 0) return m;  // nothing written yet
    if (m.written_bytes < protocol::kMetadataPrefixSize) {
        m.problem = fmt::format("metadata_written_bytes {} is shorter than the 8-byte length prefix", m.written_bytes);
        return m;
    }
    if (m.written_bytes > m.block_size) {
        m.problem = fmt::format("metadata_written_bytes {} is more than the {}-byte block", m.written_bytes, m.block_size);
        return m;
    }
    const auto prefix = read_segment_bytes(name, segment, protocol::kOiebSize, protocol::kMetadataPrefixSize);
    if (!prefix) {
        m.problem = "the metadata could not be read (the segment changed or shrank)";
        return m;
    }
    std::memcpy(&m.length, prefix->data(), sizeof m.length);
    const std::uint64_t stored = m.written_bytes - protocol::kMetadataPrefixSize;
    if (m.length != stored) {
        m.problem = fmt::format("the length prefix says {} bytes but metadata_written_bytes says {}", m.length, stored);
    }
    const std::uint64_t shown = std::min({m.length, stored, kPreviewBytes});
    if (shown == 0) return m;
    if (auto bytes = read_segment_bytes(name, segment, protocol::kOiebSize + protocol::kMetadataPrefixSize, shown)) {
        m.preview = std::move(*bytes);
        m.preview_hex = hex_bytes(m.preview);
        m.preview_text = printable_bytes(m.preview);
    } else if (m.problem.empty()) {
        m.problem = "the metadata could not be read (the segment changed or shrank)";
    }
    return m;
}

std::string hex_bytes(const std::vector<std::uint8_t>& bytes) {
    std::string out;
    out.reserve(bytes.size() * 3);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0) out.push_back(' ');
        out += fmt::format("{:02x}", bytes[i]);
    }
    return out;
}

std::string printable_bytes(const std::vector<std::uint8_t>& bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (const std::uint8_t b : bytes) out.push_back(b >= 0x20 && b < 0x7f ? static_cast<char>(b) : '.');
    return out;
}

}  // namespace zerobuffer::admin::internal

// Internals of the operations API (include/zerobuffer/admin.h): turning what the ownership
// module found under a name into a BufferInfo, and reading a segment's bytes for a report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ownership/buffer_probe.h"
#include "platform/posix/filesystem.h"
#include "zerobuffer/admin.h"

namespace zerobuffer::admin::internal {

BufferState public_state(detail::BufferState state) noexcept;

// Everything known about a buffer name or a temporary segment's file name; state absent when
// nothing exists. Catches OS failures of the probe (state inaccessible, `error` set).
BufferInfo describe_name(const std::string& name);

// Up to `length` bytes at `offset` of /dev/shm/FILE_NAME, read with pread, only if the file
// is still `expected` (same device and inode) and holds them all; nullopt otherwise.
std::optional<std::vector<std::uint8_t>> read_segment_bytes(const std::string& file_name,
                                                            const posix::FileInfo& expected,
                                                            std::uint64_t offset, std::uint64_t length);

// The metadata block of a segment whose header is v1 with consistent sizes.
MetadataInfo read_metadata(const std::string& name, const posix::FileInfo& segment, const protocol::Oieb& oieb);

// "68 65 6c" and "hel": hex and printable forms of bytes for reports.
std::string hex_bytes(const std::vector<std::uint8_t>& bytes);
std::string printable_bytes(const std::vector<std::uint8_t>& bytes);

}  // namespace zerobuffer::admin::internal

// ZeroBuffer v1 wire format: the executable form of docs/protocol.md (layout §2, ring §3,
// metadata §4, local extensions §8).
//
// One buffer NAME is a POSIX shared-memory object /dev/shm/NAME laid out as
//
//   offset 0            128                 128 + M                      128 + M + S
//   +-------------------+-------------------+----------------------------+
//   | OIEB (128 bytes)  | metadata block M  | payload ring S             |
//   +-------------------+-------------------+----------------------------+
//                        M = align64(metadata_size), S = align64(payload_size)
//
//   metadata block:  [u64 length L][L bytes]          (written once by the writer)
//   payload ring:    [FrameHeader 16][data n][FrameHeader 16][data n'] ...   frames are packed
//                    back to back at arbitrary byte offsets: read headers with memcpy.
//   wrap marker:     FrameHeader{payload_size = 0, sequence_number = 0}: "continue at offset 0".
//
// All integers are little-endian. Every OIEB field has exactly one writing side except
// payload_free_bytes, which the writer decreases and the reader increases with atomic
// read-modify-writes. The structs below hold plain integers; atomic access is done through
// a view type (src/core/oieb_view.h), never by the struct itself.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace zerobuffer::protocol {

static_assert(std::endian::native == std::endian::little,
              "ZeroBuffer v1 is little-endian; a big-endian port needs byte swapping at the accessors");

inline constexpr std::uint32_t kOiebSize = 128;        // value of Oieb::oieb_size
inline constexpr std::uint64_t kBlockAlignment = 64;   // metadata and payload sizes are rounded up to this
inline constexpr std::uint64_t kFrameHeaderSize = 16;  // u64 payload_size + u64 sequence_number
inline constexpr std::uint64_t kMetadataPrefixSize = 8;// u64 length in front of the metadata bytes
inline constexpr std::uint8_t kVersionMajor = 1;
inline constexpr std::uint8_t kVersionMinor = 0;
inline constexpr std::uint8_t kVersionPatch = 0;
inline constexpr std::uint64_t kFirstSequence = 1;     // every Writer object starts here

// Longest buffer name: glibc allows 251 characters in a semaphore name after its "sem." prefix,
// and "sem-w-" costs 6 more (docs/protocol.md §1).
inline constexpr std::size_t kMaxNameLength = 245;

// Extension used only between zerobuffer C++ writers and readers, never towards a foreign peer:
// a wrap marker published on its own (with its own sem-w post), with no frame behind it.
// Our writer emits it only when the reader holds the reader liveness lock below (only our
// reader takes it), so a foreign reader never sees one.
inline constexpr std::uint64_t kStandaloneWrapSequence = 0xFFFF'FFFF'FFFF'FFFFull;

// Local extension: liveness locks. A zerobuffer C++ reader (writer) holds an open-file-
// description lock (fcntl F_OFD_SETLK, F_WRLCK) on one byte of the segment's file at these
// offsets, far beyond any real segment size, for as long as it is attached. The kernel drops
// the lock when the process dies, whatever PID namespace it lives in, and a foreign peer never
// sees it: no byte of the segment changes. docs/protocol.md §8.
inline constexpr std::int64_t kReaderLockOffset = std::int64_t{1} << 62;
inline constexpr std::int64_t kWriterLockOffset = kReaderLockOffset + 1;

struct ProtocolVersion {
    std::uint8_t major;
    std::uint8_t minor;
    std::uint8_t patch;
    std::uint8_t reserved;
};

// Operation Info Exchange Block: the first 128 bytes of the segment.
struct Oieb {
    std::uint32_t oieb_size;               // 0x00 always 128; stored last at creation (release)
    ProtocolVersion version;               // 0x04 01 00 00 00
    std::uint64_t metadata_size;           // 0x08 M, aligned
    std::uint64_t metadata_free_bytes;     // 0x10 M - (8 + L) once written
    std::uint64_t metadata_written_bytes;  // 0x18 8 + L once written, else 0
    std::uint64_t payload_size;            // 0x20 S, aligned
    std::uint64_t payload_free_bytes;      // 0x28 writer subtracts, reader adds (atomic RMW)
    std::uint64_t payload_write_pos;       // 0x30 writer only, in [0, S] (S from Python writers)
    std::uint64_t payload_read_pos;        // 0x38 reader only, in [0, S)
    std::uint64_t payload_written_count;   // 0x40 writer only: frames + wrap markers
    std::uint64_t payload_read_count;      // 0x48 reader only: frames + consumed markers
    std::uint64_t writer_pid;              // 0x50 0 when no writer
    std::uint64_t reader_pid;              // 0x58 0 when the reader has closed
    std::uint64_t reserved[4];             // 0x60 never touched
};

struct FrameHeader {
    std::uint64_t payload_size;     // data length n > 0; 0 means wrap marker
    std::uint64_t sequence_number;  // 1, 2, 3 ... per writer; 0 on a wrap marker
};

static_assert(sizeof(ProtocolVersion) == 4);
static_assert(sizeof(Oieb) == kOiebSize);
static_assert(alignof(Oieb) == 8);
static_assert(offsetof(Oieb, oieb_size) == 0x00);
static_assert(offsetof(Oieb, version) == 0x04);
static_assert(offsetof(Oieb, metadata_size) == 0x08);
static_assert(offsetof(Oieb, metadata_free_bytes) == 0x10);
static_assert(offsetof(Oieb, metadata_written_bytes) == 0x18);
static_assert(offsetof(Oieb, payload_size) == 0x20);
static_assert(offsetof(Oieb, payload_free_bytes) == 0x28);
static_assert(offsetof(Oieb, payload_write_pos) == 0x30);
static_assert(offsetof(Oieb, payload_read_pos) == 0x38);
static_assert(offsetof(Oieb, payload_written_count) == 0x40);
static_assert(offsetof(Oieb, payload_read_count) == 0x48);
static_assert(offsetof(Oieb, writer_pid) == 0x50);
static_assert(offsetof(Oieb, reader_pid) == 0x58);
static_assert(offsetof(Oieb, reserved) == 0x60);
static_assert(sizeof(FrameHeader) == kFrameHeaderSize);
static_assert(std::is_standard_layout_v<Oieb> && std::is_trivially_copyable_v<Oieb>);
static_assert(std::is_standard_layout_v<FrameHeader> && std::is_trivially_copyable_v<FrameHeader>);
static_assert(std::is_standard_layout_v<ProtocolVersion> && std::is_trivially_copyable_v<ProtocolVersion>);
static_assert(offsetof(FrameHeader, payload_size) == 0);
static_assert(offsetof(FrameHeader, sequence_number) == 8);

// Every shared OIEB field is accessed through std::atomic_ref (src/core/oieb_view.h), which must
// be lock-free (a lock would live in one process only) and fit the fields' alignment.
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint8_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= alignof(Oieb));
static_assert(offsetof(Oieb, metadata_size) % std::atomic_ref<std::uint64_t>::required_alignment == 0);

// Rounds a block size up to the 64-byte block alignment. Callers bound x well below 2^63 first.
constexpr std::uint64_t align_block(std::uint64_t x) noexcept {
    return (x + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
}

// Offsets of the three regions for aligned sizes M and S.
struct Layout {
    std::uint64_t metadata_size;   // M
    std::uint64_t payload_size;    // S
    constexpr std::uint64_t metadata_offset() const noexcept { return kOiebSize; }
    constexpr std::uint64_t payload_offset() const noexcept { return kOiebSize + metadata_size; }
    constexpr std::uint64_t total_size() const noexcept { return kOiebSize + metadata_size + payload_size; }
};

static_assert(align_block(0) == 0 && align_block(1) == 64 && align_block(64) == 64 && align_block(65) == 128);
static_assert(Layout{128, 1024}.payload_offset() == 256 && Layout{128, 1024}.total_size() == 1280);

}  // namespace zerobuffer::protocol

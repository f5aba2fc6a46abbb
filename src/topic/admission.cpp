#include "topic/admission.h"

#include <system_error>

#include <fmt/format.h>

#include "core/names.h"
#include "platform/posix/filesystem.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

SegmentKey segment_key(const std::string& name) {
    try {
        const posix::FileInfo info = posix::inspect_path(segment_path(name));
        if (!info.exists) return {};
        return {info.dev, info.ino};
    } catch (const std::system_error&) {
        return {};
    }
}

std::optional<std::vector<std::byte>> written_metadata(const std::string& name, SegmentKey key) {
    try {
        auto shm = posix::SharedMemory::open(name, false);
        if (!shm) return std::nullopt;
        const posix::FileInfo info = shm->info();
        if (SegmentKey{info.dev, info.ino} != key) return std::nullopt;
        protocol::Oieb oieb{};
        if (shm->read_at(&oieb, sizeof oieb, 0) != sizeof oieb) return std::nullopt;
        const std::uint64_t written = oieb.metadata_written_bytes;
        if (written < protocol::kMetadataPrefixSize || written > oieb.metadata_size ||
            protocol::kOiebSize + oieb.metadata_size > info.size) {
            return std::nullopt;
        }
        std::uint64_t length = 0;
        if (shm->read_at(&length, sizeof length, protocol::kOiebSize) != sizeof length) return std::nullopt;
        if (length > written - protocol::kMetadataPrefixSize) return std::nullopt;
        std::vector<std::byte> bytes(static_cast<std::size_t>(length));
        const std::uint64_t at = protocol::kOiebSize + protocol::kMetadataPrefixSize;
        if (length != 0 && shm->read_at(bytes.data(), bytes.size(), at) != bytes.size()) return std::nullopt;
        return bytes;
    } catch (const std::system_error&) {
        return std::nullopt;
    }
}

Admission admit_subscriber(const std::string& name, std::string_view id, const WriterOptions& options, Roster& roster) {
    using Outcome = Admission::Outcome;
    Admission a;
    a.key = segment_key(name);
    if (a.key.empty()) return a;
    auto result = [&](Outcome outcome, std::string reason) {
        a.outcome = outcome;
        a.reason = std::move(reason);
        return a;
    };

    std::optional<Writer> writer;
    try {
        writer.emplace(name, options);
    } catch (const BufferNotFoundException& e) {
        return result(Outcome::retry, e.what());  // its semaphores are not made yet, or it just went
    } catch (const CorruptBufferException& e) {
        return result(Outcome::retry, e.what());  // its header may still be being written
    } catch (const ReaderDeadException& e) {
        return result(Outcome::reader_dead, e.what());
    } catch (const WriterAlreadyConnectedException& e) {
        return result(Outcome::busy, e.what());
    } catch (const ZeroBufferException& e) {
        return result(Outcome::invalid, e.what());  // not ours to open (EACCES), and the like
    }
    if (segment_key(name) != a.key) {
        writer->close();
        return result(Outcome::retry, "the buffer was replaced while the publisher attached to it");
    }
    try {
        a.reader_pid = writer->health().reader_pid;
    } catch (const ZeroBufferException&) {
        // for reports only
    }

    std::optional<std::vector<std::byte>> found;
    if (writer->metadata_written()) {
        found = written_metadata(name, a.key);
        if (!found) {
            writer->close();
            return result(Outcome::incompatible, "its metadata block holds an inconsistent length");
        }
    }
    auto link = std::make_shared<Link>(name, std::string(id), std::move(*writer), a.key, a.reader_pid);
    if (auto why = roster.admit(link, std::move(found))) {
        link->writer.close();
        return result(Outcome::incompatible, std::move(*why));
    }
    a.link = std::move(link);
    a.outcome = Outcome::attached;
    return a;
}

}  // namespace zerobuffer::detail

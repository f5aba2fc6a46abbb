#include "common.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace interop {

std::atomic<bool> g_stop{false};

namespace {
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
}

std::string exception_type(const std::exception& e) {
    using namespace zerobuffer;
    if (dynamic_cast<const SequenceError*>(&e)) return "SequenceError";
    if (dynamic_cast<const BufferNotFoundException*>(&e)) return "BufferNotFoundException";
    if (dynamic_cast<const ReaderAlreadyConnectedException*>(&e)) return "ReaderAlreadyConnectedException";
    if (dynamic_cast<const WriterAlreadyConnectedException*>(&e)) return "WriterAlreadyConnectedException";
    if (dynamic_cast<const ReaderDeadException*>(&e)) return "ReaderDeadException";
    if (dynamic_cast<const WriterDeadException*>(&e)) return "WriterDeadException";
    if (dynamic_cast<const BufferFullException*>(&e)) return "BufferFullException";
    if (dynamic_cast<const FrameTooLargeException*>(&e)) return "FrameTooLargeException";
    if (dynamic_cast<const InvalidFrameSizeException*>(&e)) return "InvalidFrameSizeException";
    if (dynamic_cast<const MetadataAlreadyWrittenException*>(&e)) return "MetadataAlreadyWrittenException";
    if (dynamic_cast<const MetadataTooLargeException*>(&e)) return "MetadataTooLargeException";
    if (dynamic_cast<const InvalidNameException*>(&e)) return "InvalidNameException";
    if (dynamic_cast<const InvalidArgumentException*>(&e)) return "InvalidArgumentException";
    if (dynamic_cast<const CorruptBufferException*>(&e)) return "CorruptBufferException";
    if (dynamic_cast<const ObjectClosedException*>(&e)) return "ObjectClosedException";
    if (dynamic_cast<const UsageException*>(&e)) return "UsageException";
    if (dynamic_cast<const ZeroBufferException*>(&e)) return "ZeroBufferException";
    return "std::exception";
}

std::string describe(const std::exception& e) { return exception_type(e) + ": " + e.what(); }

void add_output_options(ArgParser& p) {
    p.flag("", "json-output", "print the result as one JSON object (snake_case keys) on stdout");
    p.flag("v", "verbose", "progress and diagnostics on stderr");
    p.option("", "ready-file", "PATH", "once ready, write a small JSON file to PATH (atomically)");
}

void add_metadata_options(ArgParser& p, const std::string& verb) {
    p.option("m", "metadata", "TEXT", "metadata " + verb + ": UTF-8 text");
    p.option("", "metadata-file", "PATH", "metadata " + verb + ": the bytes of a file (-m wins)");
    p.option("", "metadata-bytes", "N", "metadata " + verb + ": N bytes, byte[i] = i mod 256");
    p.flag("", "empty-metadata", "metadata " + verb + ": zero-length metadata");
}

MetadataChoice metadata_from(const ArgParser& p) {
    MetadataChoice m;
    if (p.has("metadata")) {
        const std::string text = p.get("metadata");
        m.present = true;
        m.bytes.resize(text.size());
        for (std::size_t i = 0; i < text.size(); ++i) m.bytes[i] = static_cast<std::byte>(text[i]);
        m.source = "-m";
    } else if (p.has("metadata-file")) {
        m.present = true;
        try {
            m.bytes = read_file_bytes(p.get("metadata-file"));
        } catch (const std::exception& e) {
            throw UsageError(std::string("--metadata-file: ") + e.what());
        }
        m.source = "--metadata-file";
    } else if (p.has("metadata-bytes")) {
        m.present = true;
        const std::uint64_t n = p.get_size("metadata-bytes");
        m.bytes.resize(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < m.bytes.size(); ++i) m.bytes[i] = static_cast<std::byte>(i & 0xFF);
        m.source = "--metadata-bytes";
    } else if (p.has("empty-metadata")) {
        m.present = true;
        m.source = "--empty-metadata";
    }
    return m;
}

void add_buffer_options(ArgParser& p) {
    p.option("", "metadata-size", "N", "metadata block of the created buffer (K/M/G suffixes allowed)", "4096");
    p.option("", "payload-size", "N", "payload ring of the created buffer (K/M/G suffixes allowed)", "256M");
    p.flag("", "no-prefault", "do not commit and map every page at creation");
    p.flag("", "no-sequence-check", "accept any frame sequence (library and program checks off)");
}

zerobuffer::BufferConfig buffer_config_from(const ArgParser& p) {
    zerobuffer::BufferConfig c;
    c.metadata_size = static_cast<std::size_t>(p.get_size("metadata-size"));
    c.payload_size = static_cast<std::size_t>(p.get_size("payload-size"));
    return c;
}

zerobuffer::ReaderOptions reader_options_from(const ArgParser& p) {
    zerobuffer::ReaderOptions o;
    o.prefault = !p.has("no-prefault");
    o.verify_sequence = !p.has("no-sequence-check");
    return o;
}

void Run::log(const std::string& line) const {
    if (verbose) std::cerr << line << std::endl;
}

void Run::error(const std::string& line) {
    errors.push_back(line);
    if (verbose) std::cerr << "error: " << line << std::endl;
}

int Run::failed(const std::exception& e, std::string& exc_type) {
    exc_type = exception_type(e);
    error(describe(e));
    return kExitException;
}

void Run::emit(const Json& json_object, const std::string& human) const {
    if (json) {
        std::cout << json_object.str() << std::endl;
    } else {
        std::cout << human << std::endl;
        for (const auto& e : errors) std::cout << "  error: " << e << std::endl;
    }
}

void signal_ready(const ArgParser& p, const std::string& buffer_name) {
    if (!p.has("ready-file")) return;
    Json j;
    j.field("buffer_name", buffer_name).field("pid", static_cast<std::int64_t>(::getpid()));
    write_file_atomic(p.get("ready-file"), j.str() + "\n");
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double mib_per_second(std::uint64_t bytes, double seconds) {
    return seconds > 0 ? static_cast<double>(bytes) / seconds / (1024.0 * 1024.0) : 0.0;
}

Json health_json(const zerobuffer::BufferHealth& h) {
    Json j;
    j.field("payload_size", h.payload_size)
        .field("payload_free_bytes", h.payload_free_bytes)
        .field("write_pos", h.write_pos)
        .field("read_pos", h.read_pos)
        .field("written_count", h.written_count)
        .field("read_count", h.read_count)
        .field("metadata_written_bytes", h.metadata_written_bytes)
        .field("writer_pid", h.writer_pid)
        .field("reader_pid", h.reader_pid)
        .field("frames", h.frames)
        .field("frames_outstanding", h.frames_outstanding)
        .field("wraps", h.wraps)
        .field("blocked_waits", h.blocked_waits);
    return j;
}

}  // namespace interop

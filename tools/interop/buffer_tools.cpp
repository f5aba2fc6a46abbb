// create and dump-oieb commands.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <iostream>
#include <thread>
#include <unistd.h>

#include "common.h"

namespace interop {
namespace zb = zerobuffer;
using std::chrono::milliseconds;

int cmd_create(int argc, char** argv) {
    ArgParser p(kProgram, "create", "Create BUFFER as its reader and hold it (no frames are read) until SIGTERM/SIGINT or --hold-ms.");
    p.positional("BUFFER", "buffer name");
    p.option("", "hold-ms", "MS", "close after this long; 0 = only on SIGTERM/SIGINT", "0");
    add_buffer_options(p);
    add_output_options(p);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string name = p.arg(0);
    const auto hold = p.get_int("hold-ms", 0, INT32_MAX);
    const zb::BufferConfig config = buffer_config_from(p);
    Run run;
    run.json = p.has("json-output");
    run.verbose = p.has("verbose");
    install_stop_handlers();

    std::string exc_type, health;
    int code = kExitOk;
    try {
        zb::Reader reader(name, config, reader_options_from(p));
        signal_ready(p, name);
        run.log("holding '" + name + "'");
        const auto deadline = Clock::now() + milliseconds(hold);
        while (!g_stop && (hold == 0 || Clock::now() < deadline)) std::this_thread::sleep_for(milliseconds(20));
        health = health_json(reader.health()).str();
        reader.close();
    } catch (const std::exception& e) {
        code = run.failed(e, exc_type);
    }
    Json j;
    j.field("operation", "create")
        .field("buffer_name", name)
        .field("reader_pid", static_cast<std::int64_t>(::getpid()))
        .field("exception_type", exc_type)
        .raw("health", health.empty() ? "null" : health)
        .strings("errors", run.errors);
    run.emit(j, code == kExitOk ? "[CREATE] held and closed '" + name + "'" : "[CREATE] failed");
    return code;
}

namespace {
std::uint64_t u64_at(const unsigned char* b, std::size_t off) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | b[off + static_cast<std::size_t>(i)];
    return v;
}
}  // namespace

int cmd_dump_oieb(int argc, char** argv) {
    ArgParser p(kProgram, "dump-oieb", "Print the OIEB (first 128 bytes of /dev/shm/BUFFER) as JSON, read-only.");
    p.positional("BUFFER", "buffer name");
    p.flag("", "json-output", "accepted for symmetry; the output is always JSON");
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string name = p.arg(0);
    const std::string shm_name = "/" + name;
    const int fd = ::shm_open(shm_name.c_str(), O_RDONLY, 0);
    if (fd < 0) {
        const int err = errno;
        std::cout << Json().field("operation", "dump-oieb").field("buffer_name", name)
                         .strings("errors", {"shm_open(" + shm_name + "): " + std::strerror(err)}).str()
                  << std::endl;
        return kExitException;
    }
    struct stat st {};
    ::fstat(fd, &st);
    unsigned char b[zb::protocol::kOiebSize] = {};
    const ssize_t got = ::pread(fd, b, sizeof b, 0);
    ::close(fd);
    if (got != static_cast<ssize_t>(sizeof b)) {
        std::cout << Json().field("operation", "dump-oieb").field("buffer_name", name)
                         .field("segment_size", static_cast<std::uint64_t>(st.st_size))
                         .strings("errors", {"segment shorter than an OIEB"}).str()
                  << std::endl;
        return kExitException;
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : b) {
        hex.push_back(kDigits[c >> 4]);
        hex.push_back(kDigits[c & 15]);
    }
    std::uint32_t oieb_size = 0;
    std::memcpy(&oieb_size, b, 4);
    std::string version = "[";  // appended piece by piece: GCC 12 misreports operator+ chains (-Wrestrict)
    for (std::size_t i = 4; i < 8; ++i) version.append(std::to_string(b[i])).append(i < 7 ? ", " : "]");
    Json fields;
    fields.field("oieb_size", static_cast<std::uint64_t>(oieb_size))
        .raw("version", version)
        .field("metadata_size", u64_at(b, 0x08))
        .field("metadata_free_bytes", u64_at(b, 0x10))
        .field("metadata_written_bytes", u64_at(b, 0x18))
        .field("payload_size", u64_at(b, 0x20))
        .field("payload_free_bytes", u64_at(b, 0x28))
        .field("payload_write_pos", u64_at(b, 0x30))
        .field("payload_read_pos", u64_at(b, 0x38))
        .field("payload_written_count", u64_at(b, 0x40))
        .field("payload_read_count", u64_at(b, 0x48))
        .field("writer_pid", u64_at(b, 0x50))
        .field("reader_pid", u64_at(b, 0x58));
    std::cout << Json()
                     .field("operation", "dump-oieb")
                     .field("buffer_name", name)
                     .field("segment_size", static_cast<std::uint64_t>(st.st_size))
                     .field("oieb_hex", hex)
                     .raw("fields", fields.str())
                     .strings("errors", {})
                     .str()
              << std::endl;
    return kExitOk;
}

}  // namespace interop

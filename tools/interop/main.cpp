// zerobuffer-interop: command-line peer for cross-language tests (see tools/README.md).
// Mirrors the upstream cross-platform test programs (contract §10.3) and adds what the
// cross-language suite needs (reader-side buffer sizes, size schedules, readiness files,
// duplex roles, OIEB dumps).
#include <cstring>
#include <iostream>
#include <string>

#include "common.h"

namespace {

constexpr const char* kUsage =
    "usage: zerobuffer-interop <command> [options]   (zerobuffer-interop <command> --help for details)\n"
    "commands:\n"
    "  writer BUFFER          attach to BUFFER as its writer and write frames\n"
    "  reader BUFFER          create BUFFER as its reader and read (and verify) frames\n"
    "  relay IN OUT           create IN as reader, attach to OUT as writer, forward metadata and frames\n"
    "  create BUFFER          create BUFFER as reader and hold it until SIGTERM/SIGINT or --hold-ms\n"
    "  dump-oieb BUFFER       print the 128-byte OIEB of BUFFER as JSON (hex and decoded fields)\n"
    "  duplex-server CHANNEL  echo server on CHANNEL_request / CHANNEL_response\n"
    "  duplex-client CHANNEL  send requests to a duplex server and verify the echoed responses\n"
    "exit codes: 0 ok, 1 verification errors or errors while streaming, 2 exception, 3 bad arguments\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << kUsage;
        return interop::kExitUsage;
    }
    const std::string command = argv[1];
    if (command == "-h" || command == "--help" || command == "help") {
        std::cout << kUsage;
        return interop::kExitOk;
    }
    try {
        if (command == "writer") return interop::cmd_writer(argc, argv);
        if (command == "reader") return interop::cmd_reader(argc, argv);
        if (command == "relay") return interop::cmd_relay(argc, argv);
        if (command == "create") return interop::cmd_create(argc, argv);
        if (command == "dump-oieb") return interop::cmd_dump_oieb(argc, argv);
        if (command == "duplex-server") return interop::cmd_duplex_server(argc, argv);
        if (command == "duplex-client") return interop::cmd_duplex_client(argc, argv);
    } catch (const interop::UsageError& e) {
        std::cerr << "zerobuffer-interop " << command << ": " << e.what() << "\n(see zerobuffer-interop "
                  << command << " --help)\n";
        return interop::kExitUsage;
    } catch (const std::exception& e) {
        // Commands report their own exceptions; this is the last resort.
        std::cerr << "zerobuffer-interop " << command << ": " << interop::describe(e) << "\n";
        return interop::kExitException;
    }
    std::cerr << "zerobuffer-interop: unknown command '" << command << "'\n" << kUsage;
    return interop::kExitUsage;
}

// zerobuffer: list, inspect, watch and clean up the ZeroBuffer buffers of this host.
#include <iostream>
#include <string>

#include "commands.h"
#include "zerobuffer/admin.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/version.h"

#ifndef ZEROBUFFER_PROJECT_VERSION
#error "ZEROBUFFER_PROJECT_VERSION must be defined by the build (the CMake project version)"
#endif

namespace {

constexpr const char* kUsage =
    "usage: zerobuffer <command> [options]      (zerobuffer <command> --help for details)\n"
    "  ls [--json]                       every ZeroBuffer buffer on this host and the leftovers of dead ones\n"
    "  inspect NAME [--json]             everything about one buffer: header, metadata, peers, locks, objects\n"
    "  watch NAME... [--interval-ms N]   live frames/s, MiB/s, fill level and liveness, until Ctrl-C\n"
    "  cleanup [NAME...|--stale]         remove what dead processes left (never a live buffer)\n"
    "      [--dry-run] [--force] [--json]\n"
    "  --version                         print the version\n"
    "exit codes: 0 done, 1 refused/failed/not found, 2 bad usage or invalid name\n"
    "more: docs/operations.md, section \"Listing, watching and cleaning up\"\n";

}  // namespace

namespace zbcli {

void validate_names(const std::vector<std::string>& names) {
    for (const std::string& name : names) zerobuffer::admin::validate_buffer_name(name);
}

}  // namespace zbcli

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << kUsage;
        return zbcli::kExitUsage;
    }
    const std::string command = argv[1];
    if (command == "-h" || command == "--help" || command == "help") {
        std::cout << kUsage;
        return zbcli::kExitOk;
    }
    if (command == "--version" || command == "-V") {
        std::cout << "zerobuffer " << ZEROBUFFER_PROJECT_VERSION << " (library " << zerobuffer::kLibraryVersion
                  << ", protocol ZeroBuffer v1)\n";
        return zbcli::kExitOk;
    }
    try {
        if (command == "ls" || command == "list") return zbcli::cmd_ls(argc, argv);
        if (command == "inspect") return zbcli::cmd_inspect(argc, argv);
        if (command == "watch") return zbcli::cmd_watch(argc, argv);
        if (command == "cleanup") return zbcli::cmd_cleanup(argc, argv);
    } catch (const zbtool::UsageError& e) {
        std::cerr << "zerobuffer " << command << ": " << e.what() << "\n(see zerobuffer " << command << " --help)\n";
        return zbcli::kExitUsage;
    } catch (const zerobuffer::InvalidNameException& e) {
        std::cerr << "zerobuffer " << command << ": " << e.what() << "\n";
        return zbcli::kExitUsage;
    } catch (const zerobuffer::BufferNotFoundException& e) {
        std::cerr << "zerobuffer " << command << ": " << e.what() << "\n";
        return zbcli::kExitFailed;
    } catch (const std::exception& e) {
        std::cerr << "zerobuffer " << command << ": error: " << e.what() << "\n";
        return zbcli::kExitFailed;
    }
    std::cerr << "zerobuffer: unknown command '" << command << "'\n" << kUsage;
    return zbcli::kExitUsage;
}

// zerobuffer-bridge: a buffer leaves the host over ZeroMQ and arrives as a buffer on another.
#include <iostream>
#include <string>

#include "arg_parser.h"
#include "commands.h"
#include "zerobuffer/exceptions.h"

#ifndef ZEROBUFFER_PROJECT_VERSION
#error "ZEROBUFFER_PROJECT_VERSION must be defined by the build (the CMake project version)"
#endif

namespace {

constexpr const char* kUsage =
    "usage: zerobuffer-bridge <command> [options]   (zerobuffer-bridge <command> --help for details)\n"
    "  send --from buffer:NAME|topic:T --to tcp://HOST:PORT\n"
    "                                                 create NAME (as its reader) or subscribe to T; send every frame\n"
    "       [--listen tcp://*:PORT] [--policy block|drop] [--hwm N] [--copy] [--curve-key F --curve-server-key F]\n"
    "  recv --listen tcp://*:PORT --to buffer:NAME|topic:T\n"
    "                                                 write what arrives into NAME (as its writer) or publish on T\n"
    "       [--connect tcp://HOST:PORT] [--policy block|drop] [--hwm N] [--max-frame SIZE] [--curve-key F]\n"
    "  keygen BASE                                    CURVE key pair: BASE.key (secret) and BASE.pub\n"
    "  --version                                      print the version\n"
    "Figures once a second on standard error (--json, --quiet). Plain TCP is neither authenticated nor\n"
    "encrypted: use CURVE keys across networks you do not trust. More: docs/bridge.md\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << kUsage;
        return zbbridge::kExitUsage;
    }
    const std::string command = argv[1];
    if (command == "-h" || command == "--help" || command == "help") {
        std::cout << kUsage;
        return zbbridge::kExitOk;
    }
    if (command == "--version" || command == "-V") {
        std::cout << "zerobuffer-bridge " << ZEROBUFFER_PROJECT_VERSION << " (wire format v1)\n";
        return zbbridge::kExitOk;
    }
    try {
        if (command == "send") return zbbridge::cmd_send(argc, argv);
        if (command == "recv") return zbbridge::cmd_recv(argc, argv);
        if (command == "keygen") return zbbridge::cmd_keygen(argc, argv);
    } catch (const zbtool::UsageError& e) {
        std::cerr << "zerobuffer-bridge " << command << ": " << e.what() << "\n(see zerobuffer-bridge " << command
                  << " --help)\n";
        return zbbridge::kExitUsage;
    } catch (const zerobuffer::InvalidArgumentException& e) {
        std::cerr << "zerobuffer-bridge " << command << ": " << e.what() << "\n";
        return zbbridge::kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "zerobuffer-bridge " << command << ": error: " << e.what() << "\n";
        return zbbridge::kExitFailed;
    }
    std::cerr << "zerobuffer-bridge: unknown command '" << command << "'\n" << kUsage;
    return zbbridge::kExitUsage;
}

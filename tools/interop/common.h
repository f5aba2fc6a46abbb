// Shared helpers of the zerobuffer-interop commands.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "data.h"
#include "zerobuffer/zerobuffer.h"

namespace interop {

inline constexpr int kExitOk = 0;
inline constexpr int kExitErrors = 1;     // verification errors or errors recorded while streaming
inline constexpr int kExitException = 2;  // an exception ended the command
inline constexpr int kExitUsage = 3;      // bad command line

using Clock = std::chrono::steady_clock;

// Set by SIGTERM / SIGINT once install_stop_handlers() ran: loops finish and close gracefully.
extern std::atomic<bool> g_stop;
void install_stop_handlers();

// "SequenceError", "WriterDeadException", ... for zerobuffer exceptions; "std::exception" otherwise.
std::string exception_type(const std::exception& e);
std::string describe(const std::exception& e);  // "Type: what()"

// Options every command has: --json-output, -v/--verbose, --ready-file PATH.
void add_output_options(ArgParser& p);
void add_metadata_options(ArgParser& p, const std::string& verb);
MetadataChoice metadata_from(const ArgParser& p);
void add_buffer_options(ArgParser& p);
zerobuffer::BufferConfig buffer_config_from(const ArgParser& p);
zerobuffer::ReaderOptions reader_options_from(const ArgParser& p);

// Bookkeeping common to all commands: verbose logging, the result JSON and the exit code.
struct Run {
    bool json = false;
    bool verbose = false;
    std::vector<std::string> errors;
    void log(const std::string& line) const;  // stderr, only with -v
    void error(const std::string& line);      // recorded (and logged with -v)
    // For the exception that ended a command: records it as an error, names its type in
    // `exc_type` and returns kExitException.
    int failed(const std::exception& e, std::string& exc_type);
    // Prints `json_object` (when --json-output) or `human` (otherwise) on stdout.
    void emit(const Json& json_object, const std::string& human) const;
};

void signal_ready(const ArgParser& p, const std::string& buffer_name);  // --ready-file
double seconds_since(Clock::time_point t0);
double mib_per_second(std::uint64_t bytes, double seconds);
Json health_json(const zerobuffer::BufferHealth& h);

int cmd_writer(int argc, char** argv);
int cmd_reader(int argc, char** argv);
int cmd_relay(int argc, char** argv);
int cmd_create(int argc, char** argv);
int cmd_dump_oieb(int argc, char** argv);
int cmd_duplex_server(int argc, char** argv);
int cmd_duplex_client(int argc, char** argv);

}  // namespace interop

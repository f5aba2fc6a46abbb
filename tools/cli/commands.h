// The subcommands of `zerobuffer` (docs/operations.md, "Listing, watching and cleaning up").
#pragma once

#include <string>
#include <vector>

#include "arg_parser.h"

namespace zbcli {

inline constexpr const char* kProgram = "zerobuffer";

// Exit codes every subcommand keeps to.
inline constexpr int kExitOk = 0;      // done (including: nothing to do)
inline constexpr int kExitFailed = 1;  // something refused or failed, or a buffer not found
inline constexpr int kExitUsage = 2;   // bad command line or an invalid buffer name

inline constexpr const char* kExitCodesHelp =
    "exit codes: 0 done, 1 refused/failed/not found, 2 bad usage or invalid name";

// Each takes the whole argv; its own arguments start at argv[2]. They throw zbtool::UsageError
// and zerobuffer exceptions; main() turns those into messages and exit codes.
int cmd_ls(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_watch(int argc, char** argv);
int cmd_cleanup(int argc, char** argv);

// Throws zerobuffer::InvalidNameException for the first invalid name (main exits with 2).
void validate_names(const std::vector<std::string>& names);

}  // namespace zbcli

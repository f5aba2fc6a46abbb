// zerobuffer-bridge keygen BASE: a CURVE key pair in BASE.key (secret, 0600) and BASE.pub.
#include <cstdio>

#include "arg_parser.h"
#include "commands.h"
#include "zerobuffer/bridge.h"

namespace zbbridge {

int cmd_keygen(int argc, char** argv) {
    zbtool::ArgParser parser("zerobuffer-bridge", "keygen",
                             "Makes a CURVE key pair: BASE.key (both keys, mode 0600: keep it secret) and BASE.pub "
                             "(the public key, to give to the other side). Never overwrites a file.");
    parser.positional("BASE", "path and name of the key files, without extension");
    if (!parser.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string base = parser.arg(0);
    zerobuffer::bridge::write_curve_key_files(zerobuffer::bridge::generate_curve_keypair(), base);
    std::printf("wrote %s.key (secret) and %s.pub (public)\n", base.c_str(), base.c_str());
    return kExitOk;
}

}  // namespace zbbridge

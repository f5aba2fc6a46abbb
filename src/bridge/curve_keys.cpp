// CURVE key pairs and key files (docs/bridge.md, "Security").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <zmq.h>

#include "zerobuffer/bridge.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge {
namespace {

constexpr std::string_view kPublicLabel = "public-key = ";
constexpr std::string_view kSecretLabel = "secret-key = ";

void write_new_file(const std::string& path, const std::string& text, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) throw InvalidArgumentException(fmt::format("key file '{}' exists already; not overwriting it", path));
        throw SystemError(fmt::format("creating key file '{}'", path), std::error_code(errno, std::system_category()));
    }
    const ssize_t written = ::write(fd, text.data(), text.size());
    const int error = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(text.size())) {
        ::unlink(path.c_str());
        throw SystemError(fmt::format("writing key file '{}'", path), std::error_code(error, std::system_category()));
    }
}

void check_z85_key(const std::string& key, const std::string& path, int line) {
    std::uint8_t binary[32];
    if (key.size() != 40 || zmq_z85_decode(binary, key.c_str()) == nullptr) {
        throw InvalidArgumentException(fmt::format("key file '{}', line {}: not a 40-character Z85 key", path, line));
    }
}

}  // namespace

CurveKeyPair generate_curve_keypair() {
    char public_key[41] = {};
    char secret_key[41] = {};
    if (zmq_curve_keypair(public_key, secret_key) != 0) {
        throw InvalidArgumentException(fmt::format("cannot make a CURVE key pair: {}", zmq_strerror(zmq_errno())));
    }
    return CurveKeyPair{public_key, secret_key};
}

void write_curve_key_files(const CurveKeyPair& keys, const std::string& base_path) {
    const std::string secret_path = base_path + ".key";
    const std::string public_path = base_path + ".pub";
    if (::access(public_path.c_str(), F_OK) == 0) {
        throw InvalidArgumentException(fmt::format("key file '{}' exists already; not overwriting it", public_path));
    }
    write_new_file(secret_path,
                   "# zerobuffer-bridge CURVE key pair: keep this file secret\n" + std::string(kPublicLabel) +
                       keys.public_key + "\n" + std::string(kSecretLabel) + keys.secret_key + "\n",
                   0600);
    write_new_file(public_path, "# zerobuffer-bridge CURVE public key\n" + std::string(kPublicLabel) + keys.public_key + "\n",
                   0644);
}

CurveKeyPair read_curve_key_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw SystemError(fmt::format("cannot read key file '{}'", path), std::error_code(errno, std::system_category()));
    CurveKeyPair keys;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line.front() == '#') continue;
        if (line.starts_with(kPublicLabel)) {
            keys.public_key = line.substr(kPublicLabel.size());
            check_z85_key(keys.public_key, path, number);
        } else if (line.starts_with(kSecretLabel)) {
            keys.secret_key = line.substr(kSecretLabel.size());
            check_z85_key(keys.secret_key, path, number);
        } else {
            throw InvalidArgumentException(fmt::format("key file '{}', line {}: expected 'public-key = ...' or 'secret-key = ...'", path, number));
        }
    }
    if (keys.public_key.empty()) throw InvalidArgumentException(fmt::format("key file '{}': no public-key line", path));
    return keys;
}

}  // namespace zerobuffer::bridge

#include "bridge/zmq_handles.h"

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge::detail {

void throw_zmq_error(std::string_view what) {
    const int error = zmq_errno();
    throw SystemError(std::string(what) + ": " + zmq_strerror(error), std::error_code(error, std::system_category()));
}

Context::Context() : ctx_(zmq_ctx_new()) {
    if (ctx_ == nullptr) throw_zmq_error("zmq_ctx_new");
}

Context::~Context() {
    while (zmq_ctx_term(ctx_) != 0 && zmq_errno() == EINTR) {
    }
}

Socket::Socket(const Context& context, int type) : socket_(zmq_socket(context.get(), type)) {
    if (socket_ == nullptr) throw_zmq_error("zmq_socket");
}

Socket::~Socket() { close(); }

Socket::Socket(Socket&& other) noexcept : socket_(std::exchange(other.socket_, nullptr)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        close();
        socket_ = std::exchange(other.socket_, nullptr);
    }
    return *this;
}

void Socket::set(int option, int value, std::string_view what) {
    if (zmq_setsockopt(socket_, option, &value, sizeof value) != 0) throw_zmq_error(what);
}

void Socket::set(int option, std::string_view value, std::string_view what) {
    if (zmq_setsockopt(socket_, option, value.data(), value.size()) != 0) throw_zmq_error(what);
}

void Socket::close() noexcept {
    if (socket_ != nullptr) zmq_close(std::exchange(socket_, nullptr));
}

bool send_bytes(void* socket, std::span<const std::byte> bytes, int flags, std::string_view what) {
    while (zmq_send(socket, bytes.data(), bytes.size(), flags) < 0) {
        const int error = zmq_errno();
        if (error == EINTR) continue;
        if (error == EAGAIN || error == EHOSTUNREACH) return false;
        throw_zmq_error(what);
    }
    return true;
}

}  // namespace zerobuffer::bridge::detail

// Small RAII owners of ZeroMQ objects (context, socket, message) and the one way ZeroMQ errors
// become exceptions. Internal to the bridge.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <zmq.h>

namespace zerobuffer::bridge::detail {

// Throws SystemError with zmq_errno(): "<what>: <zmq_strerror>".
[[noreturn]] void throw_zmq_error(std::string_view what);

class Context {
public:
    Context();  // throws SystemError
    ~Context(); // zmq_ctx_term: waits for every socket's linger
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    [[nodiscard]] void* get() const noexcept { return ctx_; }

private:
    void* ctx_ = nullptr;
};

class Socket {
public:
    Socket() noexcept = default;
    Socket(const Context& context, int type);  // throws SystemError
    ~Socket();
    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    [[nodiscard]] void* get() const noexcept { return socket_; }
    void set(int option, int value, std::string_view what);
    void set(int option, std::string_view value, std::string_view what);
    void close() noexcept;

private:
    void* socket_ = nullptr;
};

// A zmq_msg_t that is always initialised and closed.
class Message {
public:
    Message() noexcept { zmq_msg_init(&msg_); }
    ~Message() { zmq_msg_close(&msg_); }
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;

    [[nodiscard]] zmq_msg_t* get() noexcept { return &msg_; }
    [[nodiscard]] std::span<const std::byte> bytes() noexcept {
        return {static_cast<const std::byte*>(zmq_msg_data(&msg_)), zmq_msg_size(&msg_)};
    }
    [[nodiscard]] bool more() const noexcept { return zmq_msg_more(&msg_) != 0; }
    // Closes the current content and starts again empty.
    void reset() noexcept {
        zmq_msg_close(&msg_);
        zmq_msg_init(&msg_);
    }

private:
    zmq_msg_t msg_;
};

// Sends `bytes` as one part (copied by ZeroMQ; no allocation up to 33 bytes). Returns false on
// EAGAIN or EHOSTUNREACH (errno tells which); throws SystemError on anything else.
bool send_bytes(void* socket, std::span<const std::byte> bytes, int flags, std::string_view what);

}  // namespace zerobuffer::bridge::detail

// What the bridge's process tests share: two "hosts" (network namespaces joined by a veth pair,
// or the loopback), zerobuffer-bridge processes, deterministic frame contents, a producer child
// and a verifying consumer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <sys/types.h>

#include "test_support.h"
#include "veth_pair.h"
#include "zerobuffer/reader.h"

namespace zbbridge_test {

using namespace std::chrono_literals;

// "zbbridge_<pid>_<n>_<base>": the prefix of every buffer these tests make.
std::string unique_buffer(const std::string& base);
// Everything /dev/shm or /tmp/zerobuffer holds of `name`.
std::vector<std::string> leftovers_of(const std::string& name);

// Two hosts on one machine. With namespaces, host A and host B are network namespaces joined by
// a veth pair (169.254.x.1 and .2, link-local, never routed); the cut() takes B's end down.
// Without (not root, no ip, no netns support), both are this namespace and B is 127.0.0.1; the
// reason is printed. Everything is deleted by the destructor, also when a test fails.
class Hosts {
public:
    Hosts();
    ~Hosts();
    Hosts(const Hosts&) = delete;
    Hosts& operator=(const Hosts&) = delete;

    [[nodiscard]] bool namespaces() const noexcept { return pair_ != nullptr; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    [[nodiscard]] std::string ns_a() const { return pair_ ? pair_->ns_a() : std::string(); }
    [[nodiscard]] std::string ns_b() const { return pair_ ? pair_->ns_b() : std::string(); }
    [[nodiscard]] const std::string& address_b() const noexcept { return address_b_; }
    // A port free on host B.
    [[nodiscard]] int port() const noexcept { return port_; }
    [[nodiscard]] std::string endpoint_b() const { return "tcp://" + address_b_ + ":" + std::to_string(port_); }
    // Takes B's end of the veth pair down (false) or up (true). Namespaces only.
    void set_link(bool up);

private:
    std::unique_ptr<zerobuffer::test::VethPair> pair_;
    std::string reason_;
    std::string address_b_ = "127.0.0.1";
    int port_ = 0;
};

// A zerobuffer-bridge process (its supervisor), or another `program`, in a namespace or not, with
// its standard output and error in a file. The destructor stops it (SIGTERM, then SIGKILL; a
// killed supervisor's worker stops too) and waits.
class BridgeProcess {
public:
    BridgeProcess(const std::vector<std::string>& args, const std::string& netns, const std::string& program = {});
    ~BridgeProcess();
    BridgeProcess(const BridgeProcess&) = delete;
    BridgeProcess& operator=(const BridgeProcess&) = delete;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // The supervisor's child, which does the work (0 if not found within 5 s).
    [[nodiscard]] pid_t worker_pid() const;
    void signal(int signal_number);
    // The exit code (128 + signal if killed), nullopt while it runs past `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout = 15s);
    [[nodiscard]] std::string output() const;
    // Waits until standard error contains `text`.
    bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout = 10s) const;
    // A number from the last JSON figures line (--json); nullopt if none has it.
    [[nodiscard]] std::optional<std::uint64_t> figure(const std::string& key) const;
    [[nodiscard]] std::optional<std::uint64_t> final_figure(const std::string& key) const;

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::string log_path_;
};

std::string bridge_binary();
// SIGTERM, and expects a clean exit (code 0) within 15 s.
void stop_cleanly(BridgeProcess& process);

// Frame contents: frame k has size frame_size(k) and bytes from a fixed table starting at k mod
// 251, with k in its first 8 bytes (little-endian) when it has 8 or more.
enum class Sizes {
    full,   // 1 B .. 3,110,400 B, log-uniform (k = 0: 3,110,400; k = 1: 1)
    small,  // 8 B .. 16 KiB, log-uniform
};
std::size_t frame_size(std::uint64_t k, Sizes sizes);
void fill_frame(std::uint64_t k, std::span<std::byte> out);
bool frame_matches(std::uint64_t k, std::span<const std::byte> data, Sizes sizes);
// The index in a frame of 8 bytes or more.
std::uint64_t index_in(std::span<const std::byte> data);

std::vector<std::byte> test_metadata(const std::string& tag);

struct ProducerPlan {
    std::string buffer;
    std::uint64_t first = 0;
    std::uint64_t count = 0;
    Sizes sizes = Sizes::small;
    std::vector<std::byte> metadata;
    std::chrono::microseconds gap{0};   // pause between frames
    bool survive_reader_loss = false;   // reattach (to a re-created buffer) and go on
};
// A forked child that attaches to the buffer (waiting up to 20 s for it) and writes the plan.
// Exit code 0 when every frame was written (or handed over before a reader loss).
zerobuffer::test::Child start_producer(const ProducerPlan& plan);

// Reads the buffer it created and verifies every frame: in order and whole (Sizes::full), or by
// the index inside (Sizes::small, where gaps are allowed and recorded).
class Consumer {
public:
    Consumer(const std::string& buffer, std::size_t ring, Sizes sizes, std::vector<std::byte> metadata);
    // Reads until `count` frames have been received in all or `timeout` passes.
    bool read_until(std::size_t count, std::chrono::milliseconds timeout);
    // Reads until the frame with index `last` has been received or `timeout` passes.
    bool read_until_last(std::uint64_t last, std::chrono::milliseconds timeout);
    // Reads until nothing has come for `quiet`.
    void drain(std::chrono::milliseconds quiet);
    [[nodiscard]] const std::vector<std::uint64_t>& indices() const noexcept { return indices_; }
    [[nodiscard]] std::uint64_t bad_frames() const noexcept { return bad_; }
    [[nodiscard]] std::uint64_t metadata_missing() const noexcept { return metadata_missing_; }
    [[nodiscard]] std::uint64_t writer_changes() const noexcept { return writer_changes_; }
    // Indices missing between the first and the last received (the gaps seen here).
    [[nodiscard]] std::uint64_t missing() const;
    zerobuffer::Reader& reader() noexcept { return reader_; }

private:
    bool read_while(const std::function<bool()>& more, std::chrono::milliseconds timeout, std::chrono::milliseconds quiet);

    zerobuffer::Reader reader_;
    bool writer_present_ = false;
    Sizes sizes_;
    std::vector<std::byte> metadata_;
    std::vector<std::uint64_t> indices_;
    std::uint64_t bad_ = 0;
    std::uint64_t metadata_missing_ = 0;
    std::uint64_t writer_changes_ = 0;
};

}  // namespace zbbridge_test

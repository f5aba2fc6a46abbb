// Hosts (network namespaces or loopback) and zerobuffer-bridge processes for the bridge tests.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bridge_harness.h"

namespace zbbridge_test {
namespace {

int free_local_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        port = ntohs(address.sin_port);
    }
    ::close(fd);
    return port;
}

}  // namespace

std::string unique_buffer(const std::string& base) {
    static std::atomic<int> counter{0};
    return "zbbridge_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1)) + "_" + base;
}

std::vector<std::string> leftovers_of(const std::string& name) {
    std::vector<std::string> found;
    for (const auto& path : zerobuffer::test::object_paths(name)) {
        if (std::filesystem::exists(path)) found.push_back(path);
    }
    return found;
}

Hosts::Hosts() {
    static std::atomic<int> counter{0};
    const std::string tag = "zbbridge_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
    try {
        pair_ = std::make_unique<zerobuffer::test::VethPair>(tag);
        address_b_ = pair_->address_b();
        port_ = 5555;  // host B is a namespace of its own: nothing else listens there
        return;
    } catch (const std::runtime_error& e) {
        reason_ = e.what();
    }
    port_ = free_local_port();
    std::cout << "[ bridge   ] network namespaces unavailable (" << reason_ << "): two hosts over loopback\n";
}

Hosts::~Hosts() = default;

void Hosts::set_link(bool up) {
    if (!pair_) throw std::logic_error("set_link needs network namespaces");
    pair_->set_link_b(up);
}

std::string bridge_binary() {
    const char* path = std::getenv("ZEROBUFFER_BRIDGE");
    if (path == nullptr) throw std::runtime_error("ZEROBUFFER_BRIDGE (path of zerobuffer-bridge) is not set");
    return path;
}

BridgeProcess::BridgeProcess(const std::vector<std::string>& args, const std::string& netns, const std::string& program) {
    static std::atomic<int> counter{0};
    log_path_ = "/tmp/zbbridge_log_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1)) + ".txt";
    const std::string binary = program.empty() ? bridge_binary() : program;
    std::vector<std::string> argv_strings{binary};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (!netns.empty() && !zerobuffer::test::enter_netns(netns)) ::_exit(120);
        const int out = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0) ::_exit(121);
        ::dup2(out, STDERR_FILENO);
        ::dup2(out, STDOUT_FILENO);
        std::vector<char*> argv;
        for (auto& s : argv_strings) argv.push_back(s.data());
        argv.push_back(nullptr);
        ::execv(binary.c_str(), argv.data());
        ::_exit(122);
    }
}

BridgeProcess::~BridgeProcess() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGTERM);  // passed on to the worker, which stops cleanly
        if (!wait(10s)) {
            ::kill(pid_, SIGKILL);
            (void)wait(10s);
        }
    }
    ::unlink(log_path_.c_str());
}

pid_t BridgeProcess::worker_pid() const {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream children("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) + "/children");
        pid_t child = 0;
        if (children >> child && child > 0) return child;
        std::this_thread::sleep_for(5ms);
    }
    return 0;
}

void BridgeProcess::signal(int signal_number) {
    if (!reaped_) ::kill(pid_, signal_number);
}

std::optional<int> BridgeProcess::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reaped_) {
        const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

std::string BridgeProcess::output() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void stop_cleanly(BridgeProcess& process) {
    process.signal(SIGTERM);
    EXPECT_EQ(process.wait(15s), 0) << process.output();
}

bool BridgeProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
    return zerobuffer::test::eventually([&] { return output().find(text) != std::string::npos; }, timeout);
}

namespace {
std::optional<std::uint64_t> figure_in(const std::string& output, const std::string& key, bool final_only) {
    std::optional<std::uint64_t> value;
    std::istringstream lines(output);
    std::string line;
    const std::string needle = "\"" + key + "\": ";
    while (std::getline(lines, line)) {
        if (line.rfind("{\"bridge\"", 0) != 0) continue;
        if (final_only && line.find("\"final\": true") == std::string::npos) continue;
        const auto at = line.find(needle);
        if (at == std::string::npos) continue;
        const std::string rest = line.substr(at + needle.size());
        if (rest.starts_with("true")) value = 1;
        else if (rest.starts_with("false")) value = 0;
        else value = std::strtoull(rest.c_str(), nullptr, 10);
    }
    return value;
}
}  // namespace

std::optional<std::uint64_t> BridgeProcess::figure(const std::string& key) const { return figure_in(output(), key, false); }
std::optional<std::uint64_t> BridgeProcess::final_figure(const std::string& key) const {
    return figure_in(output(), key, true);
}

}  // namespace zbbridge_test

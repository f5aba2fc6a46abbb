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

// Runs `ip ...` quietly; true on success.
bool ip(const std::string& args) {
    const std::string command = "ip " + args + " >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
}

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
    const std::string tag = std::to_string(::getpid() % 100000) + "_" + std::to_string(counter.fetch_add(1));
    ns_a_ = "zbbridge_" + tag + "_a";
    ns_b_ = "zbbridge_" + tag + "_b";
    const std::string short_tag = std::to_string((::getpid() * 7 + counter.load()) % 1000000);
    veth_a_ = "zbb" + short_tag + "a";
    veth_b_ = "zbb" + short_tag + "b";
    const std::string subnet = "169.254." + std::to_string(1 + (::getpid() + counter.load()) % 250) + ".";
    if (::geteuid() != 0) {
        reason_ = "not root";
    } else if (!ip("netns add " + ns_a_)) {
        reason_ = "'ip netns add' failed (no iproute2, or no permission to make network namespaces)";
    } else if (!ip("netns add " + ns_b_) ||
               !ip("link add " + veth_a_ + " type veth peer name " + veth_b_) ||
               !ip("link set " + veth_a_ + " netns " + ns_a_) || !ip("link set " + veth_b_ + " netns " + ns_b_) ||
               !ip("-n " + ns_a_ + " addr add " + subnet + "1/30 dev " + veth_a_) ||
               !ip("-n " + ns_b_ + " addr add " + subnet + "2/30 dev " + veth_b_) ||
               !ip("-n " + ns_a_ + " link set " + veth_a_ + " up") || !ip("-n " + ns_b_ + " link set " + veth_b_ + " up") ||
               !ip("-n " + ns_a_ + " link set lo up") || !ip("-n " + ns_b_ + " link set lo up")) {
        reason_ = "a veth pair between two namespaces could not be set up";
        ip("netns del " + ns_a_);
        ip("netns del " + ns_b_);
        ip("link del " + veth_a_);
    } else {
        namespaces_ = true;
        address_b_ = subnet + "2";
        port_ = 5555;  // host B is a namespace of its own: nothing else listens there
        return;
    }
    port_ = free_local_port();
    std::cout << "[ bridge   ] network namespaces unavailable (" << reason_ << "): two hosts over loopback\n";
}

Hosts::~Hosts() {
    if (!namespaces_) return;
    ip("netns del " + ns_a_);  // deleting a namespace deletes the veth end inside it, and so the pair
    ip("netns del " + ns_b_);
}

void Hosts::set_link(bool up) {
    if (!namespaces_) throw std::logic_error("set_link needs network namespaces");
    if (!ip("-n " + ns_b_ + " link set " + veth_b_ + (up ? " up" : " down"))) {
        throw std::runtime_error("ip link set " + veth_b_ + (up ? " up" : " down") + " failed");
    }
}

std::string bridge_binary() {
    const char* path = std::getenv("ZEROBUFFER_BRIDGE");
    if (path == nullptr) throw std::runtime_error("ZEROBUFFER_BRIDGE (path of zerobuffer-bridge) is not set");
    return path;
}

BridgeProcess::BridgeProcess(const std::vector<std::string>& args, const std::string& netns) {
    static std::atomic<int> counter{0};
    log_path_ = "/tmp/zbbridge_log_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1)) + ".txt";
    const std::string binary = bridge_binary();
    std::vector<std::string> argv_strings{binary};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (!netns.empty()) {
            const int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(120);
        }
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

#include "veth_pair.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>

namespace zerobuffer::test {
namespace {

bool ip(const std::string& args) {
    const std::string command = "ip " + args + " >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
}

}  // namespace

VethPair::VethPair(const std::string& tag) : ns_a_(tag + "_a"), ns_b_(tag + "_b") {
    const auto hash = std::hash<std::string>{}(tag);
    veth_a_ = "zbv" + std::to_string(hash % 10'000'000) + "a";  // interface names: at most 15 characters
    veth_b_ = "zbv" + std::to_string(hash % 10'000'000) + "b";
    const std::string subnet = "169.254." + std::to_string(1 + hash % 250) + ".";
    address_a_ = subnet + "1";
    address_b_ = subnet + "2";
    if (::geteuid() != 0) throw std::runtime_error("not root");
    if (!ip("netns add " + ns_a_)) throw std::runtime_error("'ip netns add' failed (no iproute2, or no namespace support)");
    const bool made = ip("netns add " + ns_b_) && ip("link add " + veth_a_ + " type veth peer name " + veth_b_) &&
                      ip("link set " + veth_a_ + " netns " + ns_a_) && ip("link set " + veth_b_ + " netns " + ns_b_) &&
                      ip("-n " + ns_a_ + " addr add " + address_a_ + "/30 dev " + veth_a_) &&
                      ip("-n " + ns_b_ + " addr add " + address_b_ + "/30 dev " + veth_b_) &&
                      ip("-n " + ns_a_ + " link set " + veth_a_ + " up") && ip("-n " + ns_b_ + " link set " + veth_b_ + " up") &&
                      ip("-n " + ns_a_ + " link set lo up") && ip("-n " + ns_b_ + " link set lo up");
    if (!made) {
        ip("netns del " + ns_a_);
        ip("netns del " + ns_b_);
        ip("link del " + veth_a_);
        throw std::runtime_error("a veth pair between two namespaces could not be set up");
    }
}

VethPair::~VethPair() {
    ip("netns del " + ns_a_);  // deleting a namespace deletes the veth end inside it, and so the pair
    ip("netns del " + ns_b_);
}

void VethPair::set_link_b(bool up) {
    if (!ip("-n " + ns_b_ + " link set " + veth_b_ + (up ? " up" : " down"))) {
        throw std::runtime_error("ip link set " + veth_b_ + (up ? " up" : " down") + " failed");
    }
}

bool enter_netns(const std::string& name) {
    const int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    return ok;
}

}  // namespace zerobuffer::test

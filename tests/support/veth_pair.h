// Two "hosts" on one machine for the bridge's tests and benchmark: network namespaces A and B
// joined by a veth pair with link-local addresses (169.254.N.1 and .2, never routed). Needs root
// and iproute2 (`ip netns`, `ip link`). Everything is deleted by the destructor.
#pragma once

#include <memory>
#include <string>

namespace zerobuffer::test {

class VethPair {
public:
    // Creates "<tag>_a", "<tag>_b" and the pair. Throws std::runtime_error naming what could not
    // be made (not root, no ip, no namespace support), having removed whatever it had made.
    explicit VethPair(const std::string& tag);
    ~VethPair();
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;

    [[nodiscard]] const std::string& ns_a() const noexcept { return ns_a_; }
    [[nodiscard]] const std::string& ns_b() const noexcept { return ns_b_; }
    [[nodiscard]] const std::string& address_a() const noexcept { return address_a_; }
    [[nodiscard]] const std::string& address_b() const noexcept { return address_b_; }
    // Takes B's end of the pair down (false) or up (true). Throws std::runtime_error.
    void set_link_b(bool up);

private:
    std::string ns_a_, ns_b_, veth_a_, veth_b_, address_a_, address_b_;
};

// Moves the calling process (or thread) into namespace NAME (/run/netns/NAME). False on failure.
bool enter_netns(const std::string& name);

}  // namespace zerobuffer::test

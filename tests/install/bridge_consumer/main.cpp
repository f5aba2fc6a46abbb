// Uses the installed bridge: parses an endpoint and makes a CURVE key pair; exits nonzero on
// anything unexpected.
#include <zerobuffer/bridge.h>
#include <zerobuffer/exceptions.h>

#include <cstdio>

int main() {
    const auto endpoint = zerobuffer::bridge::parse_endpoint("tcp://127.0.0.1:5555", false);
    if (endpoint.bind || endpoint.address != "tcp://127.0.0.1:5555") return 1;
    try {
        (void)zerobuffer::bridge::parse_endpoint("tcp://host", false);
        return 1;
    } catch (const zerobuffer::InvalidArgumentException&) {
    }
    const auto keys = zerobuffer::bridge::generate_curve_keypair();
    if (keys.public_key.size() != 40) return 1;
    std::printf("bridge consumer: %s, policy %s\n", endpoint.address.c_str(),
                zerobuffer::bridge::to_string(zerobuffer::bridge::Backpressure::block));
    return 0;
}

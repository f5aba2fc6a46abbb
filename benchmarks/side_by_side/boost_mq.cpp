// Boost.Interprocess message_queue as a channel of the side-by-side benchmark: a queue of
// ring_depth(frame) messages of `frame` bytes (the depth zerobuffer's ring has for that frame
// size), created by the receiver in /dev/shm. send() copies in, receive() copies out; there is
// no zero-copy API. A receiver that must stay awake polls try_receive; otherwise it blocks in
// receive() (a process-shared condition variable, so a futex underneath).
#include <boost/interprocess/ipc/message_queue.hpp>

#include <optional>
#include <string>
#include <vector>

#include "drivers.h"
#include "systems.h"

namespace sbs {
namespace {

namespace bip = boost::interprocess;

struct BoostQueueChannel {
    static constexpr bool kZeroCopy = false;
    static std::size_t arena_bytes(std::size_t) { return 0; }

    class Receiver {
    public:
        Receiver(Side&, const std::string& name, std::size_t frame) : name_(name), buffer_(frame) {
            bip::message_queue::remove(name_.c_str());
            queue_.emplace(bip::create_only, name_.c_str(), ring_depth(frame), frame);
        }
        ~Receiver() {
            queue_.reset();
            bip::message_queue::remove(name_.c_str());
        }
        Receiver(const Receiver&) = delete;
        Receiver& operator=(const Receiver&) = delete;

        template <class F>
        void receive(F&& consume, Wake wake) {
            bip::message_queue::size_type size = 0;
            unsigned priority = 0;
            if (wake == Wake::spin) {
                spin_until([&] { return queue_->try_receive(buffer_.data(), buffer_.size(), size, priority); },
                           "a Boost message");
            } else {
                queue_->receive(buffer_.data(), buffer_.size(), size, priority);
            }
            consume(buffer_.data(), static_cast<std::size_t>(size));
        }

    private:
        std::string name_;
        std::vector<std::byte> buffer_;
        std::optional<bip::message_queue> queue_;
    };

    class Sender {
    public:
        Sender(Side&, const std::string& name, std::size_t) : queue_(bip::open_only, name.c_str()) {}
        void send(const std::byte* data, std::size_t size) { queue_.send(data, size, 0); }

    private:
        bip::message_queue queue_;
    };
};

}  // namespace

Measurement measure_boost_mq(Row row, const Settings& settings) {
    return measure_row<BoostQueueChannel>(settings, row);
}

}  // namespace sbs

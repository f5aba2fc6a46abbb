// zerobuffer as a channel of the side-by-side benchmark. This is the only file that uses the
// library, through its public headers only: keep it that way so that API changes are cheap to
// follow.
//
//   System 1, zerobuffer C++<->C++:      Reader and Writer with their defaults.
//   System 2, zerobuffer foreign-peer:   the same, but each side behaving as it does towards a
//                                        non-zerobuffer (Python / C#) peer; the only difference
//                                        is options_for() below.
#include <zerobuffer/zerobuffer.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "drivers.h"
#include "systems.h"

namespace sbs {
namespace {

namespace zb = zerobuffer;

enum class PeerMode { cpp, foreign };

constexpr std::chrono::seconds kReadTimeout{10};

struct Options {
    zb::BufferConfig reader;  // becomes zerobuffer::ReaderOptions with the peer-mode rework
    zb::WriterOptions writer;
};

// The one place where system 2 differs from system 1: the options of both sides of a channel
// for frames of `frame` bytes.
Options options_for(PeerMode mode, std::size_t frame) {
    Options options;
    options.reader.payload_size = ring_bytes(frame);
    if (mode == PeerMode::foreign) {
        // TODO(peer-mode): select the foreign-peer behaviour in options.reader and options.writer
        // once zerobuffer::ReaderOptions / WriterOptions have the field for it. Until then
        // system 2 is identical to system 1.
    }
    return options;
}

template <PeerMode Mode>
struct ZeroBufferChannel {
    static constexpr bool kZeroCopy = true;
    static std::size_t arena_bytes(std::size_t) { return 0; }

    class Receiver {
    public:
        Receiver(Side&, const std::string& name, std::size_t frame) : reader_(name, options_for(Mode, frame).reader) {}

        template <class F>
        void receive(F&& consume, Wake) {  // read_frame spins briefly, then sleeps: either way
            const zb::Frame frame = reader_.read_frame(kReadTimeout);
            if (!frame) throw std::runtime_error("zerobuffer: no frame within 10 s");
            consume(frame.data().data(), frame.size());
        }  // the frame is released here

    private:
        zb::Reader reader_;
    };

    class Sender {
    public:
        Sender(Side&, const std::string& name, std::size_t frame) : writer_(name, options_for(Mode, frame).writer) {}

        void send(const std::byte* data, std::size_t size) { writer_.write_frame(data, size); }

        template <class F>
        void send_in_place(std::size_t size, F&& fill) {
            const std::span<std::byte> buffer = writer_.get_frame_buffer(size);
            fill(buffer.data(), buffer.size());
            writer_.commit_frame();
        }

    private:
        zb::Writer writer_;
    };
};

}  // namespace

Measurement measure_zerobuffer(Row row, const Settings& settings) {
    return measure_row<ZeroBufferChannel<PeerMode::cpp>>(settings, row);
}

Measurement measure_zerobuffer_foreign_peer(Row row, const Settings& settings) {
    return measure_row<ZeroBufferChannel<PeerMode::foreign>>(settings, row);
}

}  // namespace sbs

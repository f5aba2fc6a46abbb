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

enum class Peer { cpp, foreign };

constexpr std::chrono::seconds kReadTimeout{10};

struct Options {
    zb::BufferConfig buffer;
    zb::ReaderOptions reader;
    zb::WriterOptions writer;
};

// The one place where system 2 differs from system 1: the options of both sides of a channel
// for frames of `frame` bytes. System 2 is what each side does when its peer turns out not to be
// ours. The writer then uses no zerobuffer-only extension (PeerMode::foreign forces that). A
// reader has no such extension: in automatic mode it behaves the same whoever the writer is,
// so it keeps its defaults. (PeerMode::foreign on a reader is the protocol step by step, as the
// peers' own readers run it; the library never chooses it by itself.)
Options options_for(Peer peer, std::size_t frame) {
    Options options;
    options.buffer.payload_size = ring_bytes(frame);
    if (peer == Peer::foreign) {
        options.writer.peer_mode = zb::PeerMode::foreign;
    }
    return options;
}

template <Peer Mode>
struct ZeroBufferChannel {
    static constexpr bool kZeroCopy = true;
    static std::size_t arena_bytes(std::size_t) { return 0; }

    class Receiver {
    public:
        Receiver(Side&, const std::string& name, std::size_t frame)
            : reader_(name, options_for(Mode, frame).buffer, options_for(Mode, frame).reader) {}

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
            zb::FrameReservation frame = writer_.acquire_frame(size);
            fill(frame.data().data(), frame.data().size());
            frame.commit();
        }

    private:
        zb::Writer writer_;
    };
};

}  // namespace

Measurement measure_zerobuffer(Row row, const Settings& settings) {
    return measure_row<ZeroBufferChannel<Peer::cpp>>(settings, row);
}

Measurement measure_zerobuffer_foreign_peer(Row row, const Settings& settings) {
    return measure_row<ZeroBufferChannel<Peer::foreign>>(settings, row);
}

}  // namespace sbs

// The systems of the side-by-side benchmark and which rows each runs.
#pragma once

#include "common.h"

namespace sbs {

// zerobuffer_systems.cpp: our Reader and Writer, as towards a C++ peer or a foreign one.
Measurement measure_zerobuffer(Row row, const Settings& settings);
Measurement measure_zerobuffer_foreign_peer(Row row, const Settings& settings);

// boost_mq.cpp: boost::interprocess::message_queue (copies in and out, no zero-copy rows).
Measurement measure_boost_mq(Row row, const Settings& settings);

// floors.cpp: the machine's limits.
bool floor_is_measured(Row row);
Measurement measure_floor(Row row, const Settings& settings);

inline bool supports(System system, Row row) {
    switch (system) {
        case System::zerobuffer:
        case System::zerobuffer_foreign: return true;
        case System::boost_mq: return row_info(row).copy == Copy::copy;
        case System::floor: return floor_is_measured(row);
    }
    return false;
}

inline Measurement measure(System system, Row row, const Settings& settings) {
    switch (system) {
        case System::zerobuffer: return measure_zerobuffer(row, settings);
        case System::zerobuffer_foreign: return measure_zerobuffer_foreign_peer(row, settings);
        case System::boost_mq: return measure_boost_mq(row, settings);
        case System::floor: return measure_floor(row, settings);
    }
    return {};
}

}  // namespace sbs

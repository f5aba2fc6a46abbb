// Umbrella header: everything a zerobuffer user needs.
#pragma once

#include "zerobuffer/admin.h"
#include "zerobuffer/config.h"
#include "zerobuffer/duplex.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/frame.h"
#include "zerobuffer/health.h"
#include "zerobuffer/log.h"
#include "zerobuffer/protocol.h"
#include "zerobuffer/reader.h"
#include "zerobuffer/topic.h"
#include "zerobuffer/version.h"
#include "zerobuffer/writer.h"

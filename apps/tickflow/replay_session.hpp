// The CLI's name for libs/session's replay wiring (gateway and client in one
// process on a store, or a client alone on a NATS bus).
#pragma once

#include "bus_flags.hpp"
#include "tickflow/session/replay.hpp"

namespace tickflow::cli {

using session::ReplaySession;

}  // namespace tickflow::cli

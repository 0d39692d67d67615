// The --bus and --creds options of a command (libs/session connects).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common.hpp"
#include "tickflow/session/bus.hpp"

namespace tickflow::cli {

using BusFlags = session::BusSpec;
using session::ConnectNats;

// Adds --bus and --creds.
void AddBusOptions(CLI::App* cmd, BusFlags* flags);

}  // namespace tickflow::cli

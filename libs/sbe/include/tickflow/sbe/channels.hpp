// QD channel naming, shared by the gateway and the client: the gateway
// listens on a control channel; each client owns a data channel (stream
// frames) and an error channel (acknowledgements and errors).
#pragma once

#include <string>
#include <string_view>

#include "tickflow/core/ids.hpp"

namespace tickflow::sbe {

inline constexpr std::string_view kDefaultControlChannel = "qd.control";

inline std::string DataChannel(ClientId client) { return "qd.data." + std::to_string(client); }
inline std::string ErrorChannel(ClientId client) { return "qd.error." + std::to_string(client); }

}  // namespace tickflow::sbe

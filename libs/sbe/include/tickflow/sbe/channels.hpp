// QD channel naming, shared by the gateway and the client. Each client id
// owns three channels: it sends requests on `<control>.<id>` (the gateway
// listens on the pattern `<control>.*`, so the channel name tells it who is
// speaking, and a bus with permissions lets a client publish only on its
// own), it reads stream frames on `qd.data.<id>` (created and deleted by the
// gateway at login and logout) and acknowledgements and errors on
// `qd.error.<id>` (created by the client).
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "tickflow/core/ids.hpp"

namespace tickflow::sbe {

inline constexpr std::string_view kDefaultControlChannel = "qd.control";
inline constexpr std::string_view kDataChannelPrefix = "qd.data.";
inline constexpr std::string_view kErrorChannelPrefix = "qd.error.";

inline std::string DataChannel(ClientId client) { return std::string(kDataChannelPrefix) + std::to_string(client); }
inline std::string ErrorChannel(ClientId client) { return std::string(kErrorChannelPrefix) + std::to_string(client); }
inline std::string ControlChannel(std::string_view control, ClientId client) {
  return std::string(control) + "." + std::to_string(client);
}
inline std::string ControlPattern(std::string_view control) { return std::string(control) + ".*"; }
// After login a client talks to the gateway holding its session on
// `<control>.s.<gateway>.<client>` (several gateways share `<control>.*` in a
// queue group; only the session's gateway listens on its session channels).
inline std::string SessionPrefix(std::string_view control, std::uint16_t gateway) {
  return std::string(control) + ".s." + std::to_string(gateway);
}
inline std::string SessionChannel(std::string_view control, std::uint16_t gateway, ClientId client) {
  return SessionPrefix(control, gateway) + "." + std::to_string(client);
}
// Reply-inbox prefix of a client's bus connection: only that client may read it.
inline std::string InboxPrefix(ClientId client) { return "_INBOX_" + std::to_string(client); }

// The client id a control channel name speaks for ("qd.control.7" -> 7).
inline std::optional<ClientId> SenderOf(std::string_view control, std::string_view channel) {
  if (channel.size() <= control.size() + 1 || !channel.starts_with(control) || channel[control.size()] != '.') {
    return std::nullopt;
  }
  const std::string_view id = channel.substr(control.size() + 1);
  ClientId v = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (ec != std::errc() || end != id.data() + id.size()) return std::nullopt;
  return v;
}

}  // namespace tickflow::sbe

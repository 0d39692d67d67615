// Fuzz target: any byte string read as a bus frame of QD messages.
#include <cstddef>
#include <cstdint>

#include "tickflow/sbe/codec.hpp"

using namespace tickflow::sbe;  // NOLINT: a fuzz target's only namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(data), size);
  FrameReader reader(frame);
  MessageView view;
  while (!reader.done() && reader.Next(&view) == DecodeStatus::kOk) {
    switch (view.type()) {
      case MessageType::kStartData: { StartData m; (void)view.As(&m); break; }
      case MessageType::kTradeBar: { TradeBar m; (void)view.As(&m); break; }
      case MessageType::kDataBar: { DataBar m; (void)view.As(&m); break; }
      case MessageType::kDataError: { DataError m; (void)view.As(&m); break; }
      case MessageType::kClientError: { ClientError m; (void)view.As(&m); break; }
      case MessageType::kLastTradeBar: { LastTradeBar m; (void)view.As(&m); break; }
      case MessageType::kLastDataBar: { LastDataBar m; (void)view.As(&m); break; }
      case MessageType::kFirstDataBar: { FirstDataBar m; (void)view.As(&m); break; }
      default: { ClientLogin m; (void)view.As(&m); break; }
    }
  }
  // Single-message decoders straight on the input, too.
  TradeBar t;
  (void)Decode(frame, &t);
  StartData s;
  (void)Decode(frame, &s);
  MessageType type;
  (void)PeekType(frame, &type);
  return 0;
}

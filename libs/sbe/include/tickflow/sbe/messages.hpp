// The QD protocol messages as plain values. Layouts, ids and enum values are
// those of schema/qd.xml (the single source of truth); docs/protocol.md lists
// every field with its offset. Encoding and decoding live in codec.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tickflow/core/decimal.hpp"
#include "tickflow/core/ids.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/core/time.hpp"
#include "tickflow/core/wide_decimal.hpp"

namespace tickflow::sbe {

inline constexpr std::uint16_t kSchemaId = 1;
// 2 added resumeAfterHigh (StartData) and messageCountHigh (LastTradeBar,
// LastDataBar): 64-bit sequences and counts; and StartData's patterns group
// (globs the gateway expands) with DataErrorCode PatternMatchesNothing. Data messages carry the low 32
// bits of their sequence; the receiver extends them. Messages of version 1
// (shorter blocks) are still decoded, the added fields as 0.
inline constexpr std::uint16_t kSchemaVersion = 2;
inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::size_t kGroupHeaderSize = 4;
inline constexpr std::uint16_t kMaxSymbolsPerRequest = 1024;
inline constexpr std::uint16_t kMaxPatternsPerRequest = 64;
inline constexpr std::size_t kMaxPatternLength = 32;  // SymbolPattern: char[32], NUL-padded
// The fastest replay: x4,000,000 (SpeedPermille's null, 0xFFFFFFFF, lies above it).
inline constexpr std::uint32_t kMaxSpeedPermille = 4'000'000'000u;
inline constexpr SymbolId kNoSymbol = 0xFFFF;  // OptionalSymbolId null value

enum class MessageType : std::uint16_t {
  kClientLogin = 101,
  kClientLogout = 102,
  kClientLoginAck = 103,
  kClientLogoutAck = 104,
  kClientHeartbeat = 105,
  kClientHeartbeatAck = 106,
  kSessionKey = 107,
  kStartData = 201,
  kStopData = 202,
  kStopAllData = 203,
  kDataBar = 204,
  kFirstDataBar = 205,
  kLastDataBar = 206,
  kTradeBar = 207,
  kFirstTradeBar = 208,
  kLastTradeBar = 209,
  kStartDataAck = 210,
  kDataBatch = 211,
  kFrameTag = 212,
  kClientError = 801,
  kDataError = 802,
};

enum class DataType : std::uint8_t { kTrades = 1, kBars = 2 };

enum class ClientErrorCode : std::uint8_t {
  kUnknown = 0,
  kAlreadyLoggedIn = 1,
  kLoginError = 2,
  kNotLoggedIn = 3,
  kLogoutError = 4,
  kIdentityMismatch = 5,
  kMalformedMessage = 6,
  kBusUnavailable = 7,  // the gateway cannot make data channels now (its /healthz says why)
};

enum class DataErrorCode : std::uint8_t {
  kUnknown = 0,
  kDataTypeNotKnown = 1,
  kDataUnavailable = 2,
  kDataEncoding = 3,
  kSymbolNotFound = 4,
  kDataSend = 5,
  kDataChannel = 6,
  kResolutionNotKnown = 7,
  kInvalidTimeRange = 8,
  kUnknownRequest = 9,
  kDuplicateRequest = 10,
  kInvalidSpeed = 11,
  kTooManySymbols = 12,
  kDuplicateSymbol = 13,        // a symbol id twice in one request
  kTooManyStreams = 14,         // the client's own stream limit (the gateway's is DataUnavailable)
  kPatternMatchesNothing = 15,  // version 2; DataError.symbol_id is the pattern's index in the request
};

enum class StreamEndReason : std::uint8_t { kCompleted = 0, kStopped = 1, kFailed = 2 };

// --- session ---------------------------------------------------------------
struct ClientLogin {
  static constexpr MessageType kType = MessageType::kClientLogin;
  static constexpr std::uint16_t kBlockLength = 4;
  ClientId client_id = 0;
  friend bool operator==(const ClientLogin&, const ClientLogin&) = default;
};
struct ClientLogout {
  static constexpr MessageType kType = MessageType::kClientLogout;
  static constexpr std::uint16_t kBlockLength = 4;
  ClientId client_id = 0;
  friend bool operator==(const ClientLogout&, const ClientLogout&) = default;
};
struct ClientLoginAck {
  static constexpr MessageType kType = MessageType::kClientLoginAck;
  static constexpr std::uint16_t kBlockLength = 6;
  ClientId client_id = 0;
  std::uint16_t gateway_id = 0;  // send the session's further messages on SessionChannel(gateway_id, client_id)
  friend bool operator==(const ClientLoginAck&, const ClientLoginAck&) = default;
};
struct ClientLogoutAck {
  static constexpr MessageType kType = MessageType::kClientLogoutAck;
  static constexpr std::uint16_t kBlockLength = 4;
  ClientId client_id = 0;
  friend bool operator==(const ClientLogoutAck&, const ClientLogoutAck&) = default;
};
struct ClientHeartbeat {
  static constexpr MessageType kType = MessageType::kClientHeartbeat;
  static constexpr std::uint16_t kBlockLength = 4;
  ClientId client_id = 0;
  friend bool operator==(const ClientHeartbeat&, const ClientHeartbeat&) = default;
};
struct ClientHeartbeatAck {
  static constexpr MessageType kType = MessageType::kClientHeartbeatAck;
  static constexpr std::uint16_t kBlockLength = 4;
  ClientId client_id = 0;
  friend bool operator==(const ClientHeartbeatAck&, const ClientHeartbeatAck&) = default;
};

// Follows ClientLoginAck in the same frame: the key (AES-128) that tags every
// later frame of the session (FrameTag), so a client can tell the gateway's
// frames from anything another bus user manages to put on its subjects.
struct SessionKey {
  static constexpr MessageType kType = MessageType::kSessionKey;
  static constexpr std::uint16_t kBlockLength = 20;
  ClientId client_id = 0;
  std::uint64_t key_low = 0;   // key bytes 0..7, little endian
  std::uint64_t key_high = 0;  // key bytes 8..15
  friend bool operator==(const SessionKey&, const SessionKey&) = default;
};

// Closes a frame of an authenticated session: a 96-bit AES-GMAC tag over the
// channel name and every byte of the frame before this message, under the
// session key, with the nonce `counter` (never reused within a session).
struct FrameTag {
  static constexpr MessageType kType = MessageType::kFrameTag;
  static constexpr std::uint16_t kBlockLength = 22;
  std::uint64_t counter = 0;
  std::uint64_t tag_low = 0;   // tag bytes 0..7
  std::uint32_t tag_high = 0;  // tag bytes 8..11
  friend bool operator==(const FrameTag&, const FrameTag&) = default;
};

// --- requests --------------------------------------------------------------
// data_type and resolution are carried as raw wire values (not validated by the
// codec) so the gateway can answer an unknown one with the matching DataError.
struct StartData {
  static constexpr MessageType kType = MessageType::kStartData;
  static constexpr std::uint16_t kBlockLength = 38;
  static constexpr std::uint16_t kMinBlockLength = 34;  // version 1
  static constexpr std::uint16_t kSymbolBlockLength = 2;
  static constexpr std::uint16_t kPatternBlockLength = 32;
  ClientId client_id = 0;
  RequestId request_id = 0;
  DataType data_type = DataType::kTrades;
  TimeResolution resolution = TimeResolution::kNone;
  std::uint32_t speed_permille = 0;     // 0 = as fast as possible, 1000 = real time
  UnixNanos from = UnixNanos::Min();    // Min() = unbounded (the SBE null value)
  UnixNanos to = UnixNanos::Min();      // Min() = unbounded
  std::uint64_t resume_after = 0;       // skip the first N data messages (resume after sequence N)
  std::vector<SymbolId> symbols;
  std::vector<std::string> patterns;  // version 2: globs over symbol names, at most kMaxPatternLength bytes each
  friend bool operator==(const StartData&, const StartData&) = default;
};
struct StopData {
  static constexpr MessageType kType = MessageType::kStopData;
  static constexpr std::uint16_t kBlockLength = 8;
  ClientId client_id = 0;
  RequestId request_id = 0;
  friend bool operator==(const StopData&, const StopData&) = default;
};
struct StopAllData {
  static constexpr MessageType kType = MessageType::kStopAllData;
  static constexpr std::uint16_t kBlockLength = 4;
  ClientId client_id = 0;
  friend bool operator==(const StopAllData&, const StopAllData&) = default;
};
struct StartDataAck {
  static constexpr MessageType kType = MessageType::kStartDataAck;
  static constexpr std::uint16_t kBlockLength = 10;
  ClientId client_id = 0;
  RequestId request_id = 0;
  std::uint16_t symbol_count = 0;
  friend bool operator==(const StartDataAck&, const StartDataAck&) = default;
};

// --- data ------------------------------------------------------------------
// Opens a bus frame: the data messages after it in the frame belong to request_id.
struct DataBatch {
  static constexpr MessageType kType = MessageType::kDataBatch;
  static constexpr std::uint16_t kBlockLength = 8;
  RequestId request_id = 0;
  std::uint16_t message_count = 0;
  friend bool operator==(const DataBatch&, const DataBatch&) = default;
};
struct DataBar {
  static constexpr MessageType kType = MessageType::kDataBar;
  static constexpr std::uint16_t kBlockLength = 72;
  SymbolId symbol_id = 0;
  std::uint32_t sequence = 0;  // the low 32 bits of the stream's 64-bit sequence
  UnixNanos time;  // bucket start
  Decimal open, high, low, close;
  WideDecimal volume;  // wire: volume (bits 63..0) then, after tradeCount, volumeHigh (127..64)
  std::uint64_t trade_count = 0;
  friend bool operator==(const DataBar& a, const DataBar& b) {
    return a.symbol_id == b.symbol_id && a.sequence == b.sequence && a.time == b.time &&
           a.open.SameRepresentation(b.open) && a.high.SameRepresentation(b.high) &&
           a.low.SameRepresentation(b.low) && a.close.SameRepresentation(b.close) &&
           a.volume.SameRepresentation(b.volume) && a.trade_count == b.trade_count;
  }
};
struct FirstDataBar {
  static constexpr MessageType kType = MessageType::kFirstDataBar;
  static constexpr std::uint16_t kBlockLength = 7;
  RequestId request_id = 0;
  TimeResolution resolution = TimeResolution::kOneMinute;
  friend bool operator==(const FirstDataBar&, const FirstDataBar&) = default;
};
struct LastDataBar {
  static constexpr MessageType kType = MessageType::kLastDataBar;
  static constexpr std::uint16_t kBlockLength = 15;
  static constexpr std::uint16_t kMinBlockLength = 11;  // version 1
  RequestId request_id = 0;
  std::uint64_t message_count = 0;
  StreamEndReason reason = StreamEndReason::kCompleted;
  friend bool operator==(const LastDataBar&, const LastDataBar&) = default;
};
struct TradeBar {
  static constexpr MessageType kType = MessageType::kTradeBar;
  static constexpr std::uint16_t kBlockLength = 32;
  SymbolId symbol_id = 0;
  std::uint32_t sequence = 0;  // the low 32 bits of the stream's 64-bit sequence
  UnixNanos time;
  Decimal price;
  Decimal volume;
  friend bool operator==(const TradeBar& a, const TradeBar& b) {
    return a.symbol_id == b.symbol_id && a.sequence == b.sequence && a.time == b.time &&
           a.price.SameRepresentation(b.price) && a.volume.SameRepresentation(b.volume);
  }
};
struct FirstTradeBar {
  static constexpr MessageType kType = MessageType::kFirstTradeBar;
  static constexpr std::uint16_t kBlockLength = 6;
  RequestId request_id = 0;
  friend bool operator==(const FirstTradeBar&, const FirstTradeBar&) = default;
};
struct LastTradeBar {
  static constexpr MessageType kType = MessageType::kLastTradeBar;
  static constexpr std::uint16_t kBlockLength = 15;
  static constexpr std::uint16_t kMinBlockLength = 11;  // version 1
  RequestId request_id = 0;
  std::uint64_t message_count = 0;
  StreamEndReason reason = StreamEndReason::kCompleted;
  friend bool operator==(const LastTradeBar&, const LastTradeBar&) = default;
};

// --- errors ----------------------------------------------------------------
struct ClientError {
  static constexpr MessageType kType = MessageType::kClientError;
  static constexpr std::uint16_t kBlockLength = 5;
  ClientId client_id = 0;
  ClientErrorCode code = ClientErrorCode::kUnknown;
  friend bool operator==(const ClientError&, const ClientError&) = default;
};
struct DataError {
  static constexpr MessageType kType = MessageType::kDataError;
  static constexpr std::uint16_t kBlockLength = 11;
  ClientId client_id = 0;
  RequestId request_id = 0;
  DataErrorCode code = DataErrorCode::kUnknown;
  SymbolId symbol_id = kNoSymbol;
  friend bool operator==(const DataError&, const DataError&) = default;
};

const char* ToString(MessageType type);
const char* ToString(ClientErrorCode code);
const char* ToString(DataErrorCode code);
const char* ToString(StreamEndReason reason);

}  // namespace tickflow::sbe

// The QD wire codec (SBE 1.0, little endian).
//
//  - Encode(msg, out): writes header + body into `out`; returns the bytes
//    written, or 0 when `out` is too small. Never writes past `out`.
//  - Decode(in, &msg): bounds-checked; never reads outside `in`; returns a
//    DecodeStatus (error tier 2: no allocation except StartData's symbol list,
//    no exceptions). A message from a newer schema version with a longer block
//    is accepted: the extra bytes are skipped, as SBE prescribes.
//  - PeekType(in): the message type from the header alone, without the body.
//  - MessageView / FrameReader / FrameWriter: flyweights over a bus frame, a
//    buffer of many complete messages back to back (batch framing).
// Thread-safety: all functions are reentrant; views do not own their bytes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

#include "tickflow/sbe/messages.hpp"

namespace tickflow::sbe {

static_assert(std::endian::native == std::endian::little,
              "the codec copies little-endian wire values directly");

enum class [[nodiscard]] DecodeStatus : std::uint8_t {
  kOk,
  kTruncated,          // the buffer ends inside the header, body or a group
  kWrongSchema,        // schemaId is not ours
  kWrongTemplate,      // Decode<M> of a message with another templateId
  kUnknownTemplate,    // templateId not in the schema
  kBadBlockLength,     // blockLength smaller than this version's body
  kBadMessageType,     // body's messageType differs from the templateId
  kBadEnumValue,       // an enum field holds a value the schema does not define
  kTooManyEntries,     // a group larger than the protocol allows
  kBadGroupBlockLength,
};

const char* ToString(DecodeStatus status);

struct MessageHeader {
  std::uint16_t block_length = 0;
  std::uint16_t template_id = 0;
  std::uint16_t schema_id = 0;
  std::uint16_t version = 0;
};

namespace detail {

template <class T>
inline T Load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <class T>
inline void Store(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

class Writer {
 public:
  explicit Writer(std::byte* p) : p_(p) {}
  template <class T>
  Writer& Put(T v) {
    if constexpr (std::is_enum_v<T>) {
      Store(p_, static_cast<std::underlying_type_t<T>>(v));
      p_ += sizeof(std::underlying_type_t<T>);
    } else if constexpr (std::is_same_v<T, Decimal>) {
      Store(p_, v.raw());
      p_ += 8;
    } else if constexpr (std::is_same_v<T, UnixNanos>) {
      Store(p_, v.ns);
      p_ += 8;
    } else {
      Store(p_, v);
      p_ += sizeof(T);
    }
    return *this;
  }

 private:
  std::byte* p_;
};

class Reader {
 public:
  explicit Reader(const std::byte* p) : p_(p) {}
  template <class T>
  void Get(T* v) {
    if constexpr (std::is_enum_v<T>) {
      *v = static_cast<T>(Load<std::underlying_type_t<T>>(p_));
      p_ += sizeof(std::underlying_type_t<T>);
    } else if constexpr (std::is_same_v<T, Decimal>) {
      *v = Decimal::FromRaw(Load<std::int64_t>(p_));
      p_ += 8;
    } else if constexpr (std::is_same_v<T, UnixNanos>) {
      v->ns = Load<std::int64_t>(p_);
      p_ += 8;
    } else {
      *v = Load<T>(p_);
      p_ += sizeof(T);
    }
  }
  template <class T>
  T Get() {
    T v{};
    Get(&v);
    return v;
  }

 private:
  const std::byte* p_;
};

// Body codecs: the bytes after messageType, in schema order.
inline void EncodeFields(const ClientLogin& m, Writer& w) { w.Put(m.client_id); }
inline void EncodeFields(const ClientLogout& m, Writer& w) { w.Put(m.client_id); }
inline void EncodeFields(const ClientLoginAck& m, Writer& w) { w.Put(m.client_id).Put(m.gateway_id); }
inline void EncodeFields(const ClientLogoutAck& m, Writer& w) { w.Put(m.client_id); }
inline void EncodeFields(const ClientHeartbeat& m, Writer& w) { w.Put(m.client_id); }
inline void EncodeFields(const ClientHeartbeatAck& m, Writer& w) { w.Put(m.client_id); }
inline std::uint32_t Low32(std::uint64_t v) { return static_cast<std::uint32_t>(v); }
inline std::uint32_t High32(std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); }

inline void EncodeFields(const StartData& m, Writer& w) {
  w.Put(m.client_id)
      .Put(m.request_id)
      .Put(m.data_type)
      .Put(m.resolution)
      .Put(m.speed_permille)
      .Put(m.from)
      .Put(m.to)
      .Put(Low32(m.resume_after))
      .Put(High32(m.resume_after));
}
inline void EncodeFields(const StopData& m, Writer& w) { w.Put(m.client_id).Put(m.request_id); }
inline void EncodeFields(const StopAllData& m, Writer& w) { w.Put(m.client_id); }
inline void EncodeFields(const StartDataAck& m, Writer& w) {
  w.Put(m.client_id).Put(m.request_id).Put(m.symbol_count);
}
inline void EncodeFields(const DataBatch& m, Writer& w) { w.Put(m.request_id).Put(m.message_count); }
inline void EncodeFields(const SessionKey& m, Writer& w) { w.Put(m.client_id).Put(m.key_low).Put(m.key_high); }
inline void EncodeFields(const FrameTag& m, Writer& w) { w.Put(m.counter).Put(m.tag_low).Put(m.tag_high); }
inline void EncodeFields(const DataBar& m, Writer& w) {
  w.Put(m.symbol_id).Put(m.sequence).Put(m.time).Put(m.open).Put(m.high).Put(m.low).Put(m.close)
      .Put(m.volume.low()).Put(m.trade_count).Put(m.volume.high());
}
inline void EncodeFields(const FirstDataBar& m, Writer& w) { w.Put(m.request_id).Put(m.resolution); }
inline void EncodeFields(const LastDataBar& m, Writer& w) {
  w.Put(m.request_id).Put(Low32(m.message_count)).Put(m.reason).Put(High32(m.message_count));
}
inline void EncodeFields(const TradeBar& m, Writer& w) {
  w.Put(m.symbol_id).Put(m.sequence).Put(m.time).Put(m.price).Put(m.volume);
}
inline void EncodeFields(const FirstTradeBar& m, Writer& w) { w.Put(m.request_id); }
inline void EncodeFields(const LastTradeBar& m, Writer& w) {
  w.Put(m.request_id).Put(Low32(m.message_count)).Put(m.reason).Put(High32(m.message_count));
}
inline void EncodeFields(const ClientError& m, Writer& w) { w.Put(m.client_id).Put(m.code); }
inline void EncodeFields(const DataError& m, Writer& w) {
  w.Put(m.client_id).Put(m.request_id).Put(m.code).Put(m.symbol_id);
}

inline bool DecodeFields(Reader& r, ClientLogin* m) { r.Get(&m->client_id); return true; }
inline bool DecodeFields(Reader& r, ClientLogout* m) { r.Get(&m->client_id); return true; }
inline bool DecodeFields(Reader& r, ClientLoginAck* m) {
  r.Get(&m->client_id);
  r.Get(&m->gateway_id);
  return true;
}
inline bool DecodeFields(Reader& r, ClientLogoutAck* m) { r.Get(&m->client_id); return true; }
inline bool DecodeFields(Reader& r, ClientHeartbeat* m) { r.Get(&m->client_id); return true; }
inline bool DecodeFields(Reader& r, ClientHeartbeatAck* m) { r.Get(&m->client_id); return true; }
inline bool DecodeFields(Reader& r, StartData* m) {
  r.Get(&m->client_id);
  r.Get(&m->request_id);
  r.Get(&m->data_type);
  r.Get(&m->resolution);
  r.Get(&m->speed_permille);
  r.Get(&m->from);
  r.Get(&m->to);
  m->resume_after = r.Get<std::uint32_t>();  // the high half: DecodeExtensions
  return true;
}
inline bool DecodeFields(Reader& r, StopData* m) { r.Get(&m->client_id); r.Get(&m->request_id); return true; }
inline bool DecodeFields(Reader& r, StopAllData* m) { r.Get(&m->client_id); return true; }
inline bool DecodeFields(Reader& r, StartDataAck* m) {
  r.Get(&m->client_id);
  r.Get(&m->request_id);
  r.Get(&m->symbol_count);
  return true;
}
inline bool DecodeFields(Reader& r, DataBatch* m) { r.Get(&m->request_id); r.Get(&m->message_count); return true; }
inline bool DecodeFields(Reader& r, SessionKey* m) {
  r.Get(&m->client_id);
  r.Get(&m->key_low);
  r.Get(&m->key_high);
  return true;
}
inline bool DecodeFields(Reader& r, FrameTag* m) {
  r.Get(&m->counter);
  r.Get(&m->tag_low);
  r.Get(&m->tag_high);
  return true;
}
inline bool DecodeFields(Reader& r, DataBar* m) {
  r.Get(&m->symbol_id);
  r.Get(&m->sequence);
  r.Get(&m->time);
  r.Get(&m->open);
  r.Get(&m->high);
  r.Get(&m->low);
  r.Get(&m->close);
  const auto low = r.Get<std::uint64_t>();
  r.Get(&m->trade_count);
  m->volume = WideDecimal::FromHalves(low, r.Get<std::int64_t>());
  return true;
}
inline bool DecodeFields(Reader& r, FirstDataBar* m) {
  r.Get(&m->request_id);
  r.Get(&m->resolution);
  return Valid(m->resolution);
}
inline bool DecodeFields(Reader& r, LastDataBar* m) {
  r.Get(&m->request_id);
  m->message_count = r.Get<std::uint32_t>();
  r.Get(&m->reason);
  return Valid(m->reason);
}
inline bool DecodeFields(Reader& r, TradeBar* m) {
  r.Get(&m->symbol_id);
  r.Get(&m->sequence);
  r.Get(&m->time);
  r.Get(&m->price);
  r.Get(&m->volume);
  return true;
}
inline bool DecodeFields(Reader& r, FirstTradeBar* m) { r.Get(&m->request_id); return true; }
inline bool DecodeFields(Reader& r, LastTradeBar* m) {
  r.Get(&m->request_id);
  m->message_count = r.Get<std::uint32_t>();
  r.Get(&m->reason);
  return Valid(m->reason);
}
inline bool DecodeFields(Reader& r, ClientError* m) {
  r.Get(&m->client_id);
  r.Get(&m->code);
  return Valid(m->code);
}
inline bool DecodeFields(Reader& r, DataError* m) {
  r.Get(&m->client_id);
  r.Get(&m->request_id);
  r.Get(&m->code);
  r.Get(&m->symbol_id);
  return Valid(m->code);
}

// Fields added by a later schema version, at the end of the block: read when
// the block holds them (a version-1 block is shorter and they stay 0).
// `block` is the start of the message block (its messageType field).
// Version 2 appended one uint32 to each extended message: the high half of a
// 64-bit field whose low half is in the version-1 block.
inline void AddHigh32(const std::byte* block, std::uint16_t length, std::uint16_t v1_length, std::uint64_t* field) {
  if (length >= v1_length + 4) *field |= std::uint64_t{Load<std::uint32_t>(block + v1_length)} << 32;
}
template <class M>
inline void DecodeExtensions(const std::byte*, std::uint16_t, M*) {}
inline void DecodeExtensions(const std::byte* block, std::uint16_t length, StartData* m) {
  AddHigh32(block, length, StartData::kMinBlockLength, &m->resume_after);
}
inline void DecodeExtensions(const std::byte* block, std::uint16_t length, LastDataBar* m) {
  AddHigh32(block, length, LastDataBar::kMinBlockLength, &m->message_count);
}
inline void DecodeExtensions(const std::byte* block, std::uint16_t length, LastTradeBar* m) {
  AddHigh32(block, length, LastTradeBar::kMinBlockLength, &m->message_count);
}

// The shortest block of a message any schema version wrote: its block in version 1.
template <class M>
constexpr std::uint16_t MinBlockLength() {
  if constexpr (requires { M::kMinBlockLength; }) {
    return M::kMinBlockLength;
  } else {
    return M::kBlockLength;
  }
}

inline MessageHeader ReadHeader(const std::byte* p) {
  return {Load<std::uint16_t>(p), Load<std::uint16_t>(p + 2), Load<std::uint16_t>(p + 4),
          Load<std::uint16_t>(p + 6)};
}

// The shortest block accepted for a template known to this schema (its
// version-1 block), 0 if unknown.
inline std::uint16_t KnownBlockLength(std::uint16_t template_id) {
  switch (static_cast<MessageType>(template_id)) {
    case MessageType::kClientLogin:
      return MinBlockLength<ClientLogin>();
    case MessageType::kClientLogout:
      return MinBlockLength<ClientLogout>();
    case MessageType::kClientLoginAck:
      return MinBlockLength<ClientLoginAck>();
    case MessageType::kClientLogoutAck:
      return MinBlockLength<ClientLogoutAck>();
    case MessageType::kClientHeartbeat:
      return MinBlockLength<ClientHeartbeat>();
    case MessageType::kClientHeartbeatAck:
      return MinBlockLength<ClientHeartbeatAck>();
    case MessageType::kSessionKey:
      return MinBlockLength<SessionKey>();
    case MessageType::kStartData:
      return MinBlockLength<StartData>();
    case MessageType::kStopData:
      return MinBlockLength<StopData>();
    case MessageType::kStopAllData:
      return MinBlockLength<StopAllData>();
    case MessageType::kDataBar:
      return MinBlockLength<DataBar>();
    case MessageType::kFirstDataBar:
      return MinBlockLength<FirstDataBar>();
    case MessageType::kLastDataBar:
      return MinBlockLength<LastDataBar>();
    case MessageType::kTradeBar:
      return MinBlockLength<TradeBar>();
    case MessageType::kFirstTradeBar:
      return MinBlockLength<FirstTradeBar>();
    case MessageType::kLastTradeBar:
      return MinBlockLength<LastTradeBar>();
    case MessageType::kStartDataAck:
      return MinBlockLength<StartDataAck>();
    case MessageType::kDataBatch:
      return MinBlockLength<DataBatch>();
    case MessageType::kFrameTag:
      return MinBlockLength<FrameTag>();
    case MessageType::kClientError:
      return MinBlockLength<ClientError>();
    case MessageType::kDataError:
      return MinBlockLength<DataError>();
  }
  return 0;
}

}  // namespace detail

// Total encoded size of a message.
template <class M>
constexpr std::size_t EncodedSize(const M&) {
  return kHeaderSize + M::kBlockLength;
}
inline std::size_t EncodedSize(const StartData& m) {
  return kHeaderSize + StartData::kBlockLength + kGroupHeaderSize + StartData::kSymbolBlockLength * m.symbols.size() +
         kGroupHeaderSize + StartData::kPatternBlockLength * m.patterns.size();
}

template <class M>
inline std::size_t Encode(const M& m, std::span<std::byte> out) {
  const std::size_t size = EncodedSize(m);
  if (out.size() < size) return 0;
  detail::Writer w(out.data());
  w.Put(M::kBlockLength).Put(static_cast<std::uint16_t>(M::kType)).Put(kSchemaId).Put(kSchemaVersion);
  w.Put(M::kType);
  detail::EncodeFields(m, w);
  return size;
}

// Symbols beyond kMaxSymbolsPerRequest, patterns beyond kMaxPatternsPerRequest,
// and a pattern longer than kMaxPatternLength or holding a NUL byte are not
// encodable: returns 0.
inline std::size_t Encode(const StartData& m, std::span<std::byte> out) {
  const std::size_t size = EncodedSize(m);
  if (out.size() < size || m.symbols.size() > kMaxSymbolsPerRequest || m.patterns.size() > kMaxPatternsPerRequest) {
    return 0;
  }
  for (const std::string& p : m.patterns) {
    if (p.size() > kMaxPatternLength || p.find('\0') != std::string::npos) return 0;
  }
  detail::Writer w(out.data());
  w.Put(StartData::kBlockLength).Put(static_cast<std::uint16_t>(StartData::kType)).Put(kSchemaId)
      .Put(kSchemaVersion);
  w.Put(StartData::kType);
  detail::EncodeFields(m, w);
  w.Put(StartData::kSymbolBlockLength).Put(static_cast<std::uint16_t>(m.symbols.size()));
  for (SymbolId s : m.symbols) w.Put(s);
  w.Put(StartData::kPatternBlockLength).Put(static_cast<std::uint16_t>(m.patterns.size()));
  std::byte* p = out.data() + (size - StartData::kPatternBlockLength * m.patterns.size());
  for (const std::string& pattern : m.patterns) {
    std::memset(p, 0, StartData::kPatternBlockLength);
    std::memcpy(p, pattern.data(), pattern.size());
    p += StartData::kPatternBlockLength;
  }
  return size;
}

// Checks the header and block of the message at the start of `in`.
inline DecodeStatus CheckHeader(std::span<const std::byte> in, MessageHeader* h) {
  if (in.size() < kHeaderSize) return DecodeStatus::kTruncated;
  *h = detail::ReadHeader(in.data());
  if (h->schema_id != kSchemaId) return DecodeStatus::kWrongSchema;
  const std::uint16_t known = detail::KnownBlockLength(h->template_id);
  if (known == 0) return DecodeStatus::kUnknownTemplate;
  if (h->block_length < known) return DecodeStatus::kBadBlockLength;
  if (in.size() < kHeaderSize + h->block_length) return DecodeStatus::kTruncated;
  if (detail::Load<std::uint16_t>(in.data() + kHeaderSize) != h->template_id) {
    return DecodeStatus::kBadMessageType;
  }
  return DecodeStatus::kOk;
}

template <class M>
inline DecodeStatus Decode(std::span<const std::byte> in, M* m) {
  if (in.size() < kHeaderSize) return DecodeStatus::kTruncated;
  const MessageHeader h = detail::ReadHeader(in.data());
  if (h.template_id != static_cast<std::uint16_t>(M::kType)) {
    return detail::KnownBlockLength(h.template_id) == 0 ? DecodeStatus::kUnknownTemplate
                                                        : DecodeStatus::kWrongTemplate;
  }
  if (in.size() < kHeaderSize + detail::MinBlockLength<M>()) return DecodeStatus::kTruncated;
  // Fast path: the exact header of this version.
  if (h.block_length != M::kBlockLength || in.size() < kHeaderSize + M::kBlockLength || h.schema_id != kSchemaId ||
      detail::Load<std::uint16_t>(in.data() + kHeaderSize) != h.template_id) {
    MessageHeader checked;
    if (const DecodeStatus s = CheckHeader(in, &checked); s != DecodeStatus::kOk) return s;
  }
  detail::Reader r(in.data() + kHeaderSize + 2);
  if (!detail::DecodeFields(r, m)) return DecodeStatus::kBadEnumValue;
  detail::DecodeExtensions(in.data() + kHeaderSize, h.block_length, m);
  return DecodeStatus::kOk;
}

DecodeStatus Decode(std::span<const std::byte> in, StartData* m);

// The message type of the message at the start of `in`, from its header only.
inline DecodeStatus PeekType(std::span<const std::byte> in, MessageType* type) {
  if (in.size() < kHeaderSize) return DecodeStatus::kTruncated;
  const auto id = detail::Load<std::uint16_t>(in.data() + 2);
  if (detail::KnownBlockLength(id) == 0) return DecodeStatus::kUnknownTemplate;
  *type = static_cast<MessageType>(id);
  return DecodeStatus::kOk;
}

// Length of the complete message at the start of `in` (header, block, groups).
DecodeStatus MessageLength(std::span<const std::byte> in, std::size_t* length);

// A flyweight over one complete message inside a frame.
class MessageView {
 public:
  MessageView() = default;
  MessageView(std::span<const std::byte> bytes, MessageType type) : bytes_(bytes), type_(type) {}
  MessageType type() const { return type_; }
  std::span<const std::byte> bytes() const { return bytes_; }
  // A view from FrameReader was checked there (schema, template, block length,
  // messageType field, size): only the fields are decoded here, the header is
  // not checked twice. Any other view is decoded with every check.
  template <class M>
  DecodeStatus As(M* m) const {
    if constexpr (!std::is_same_v<M, StartData>) {  // no repeating group
      if (checked_ && type_ == M::kType) {
        detail::Reader r(bytes_.data() + kHeaderSize + 2);
        if (!detail::DecodeFields(r, m)) return DecodeStatus::kBadEnumValue;
        detail::DecodeExtensions(bytes_.data() + kHeaderSize, static_cast<std::uint16_t>(bytes_.size() - kHeaderSize),
                                 m);
        return DecodeStatus::kOk;
      }
    }
    return Decode(bytes_, m);
  }

 private:
  friend class FrameReader;
  std::span<const std::byte> bytes_;
  MessageType type_ = MessageType::kClientLogin;
  bool checked_ = false;  // by FrameReader
};

// Iterates the messages of a frame. Next() returns kOk with a view, or the
// reason the rest of the frame cannot be read; done() is true at the clean end.
class FrameReader {
 public:
  explicit FrameReader(std::span<const std::byte> frame) : frame_(frame) {}
  bool done() const { return offset_ == frame_.size(); }
  std::size_t offset() const { return offset_; }
  // Inline for the messages without a repeating group (every data message):
  // the header is checked once, here, and As() then decodes only the fields.
  DecodeStatus Next(MessageView* view) {
    const std::size_t left = frame_.size() - offset_;
    if (left >= kHeaderSize + 2) {
      const std::byte* p = frame_.data() + offset_;
      const MessageHeader h = detail::ReadHeader(p);
      const std::size_t n = kHeaderSize + h.block_length;
      // A trade (the common case) without the switch; any other message of a fixed size through it.
      const bool trade = h.template_id == static_cast<std::uint16_t>(MessageType::kTradeBar);
      const std::uint16_t known = trade ? TradeBar::kBlockLength : detail::KnownBlockLength(h.template_id);
      const bool fixed = trade || (known != 0 && h.template_id != static_cast<std::uint16_t>(MessageType::kStartData));
      if (fixed && h.schema_id == kSchemaId && h.block_length >= known && left >= n &&
          detail::Load<std::uint16_t>(p + kHeaderSize) == h.template_id) {
        *view = MessageView(frame_.subspan(offset_, n), static_cast<MessageType>(h.template_id));
        view->checked_ = true;
        offset_ += n;
        return DecodeStatus::kOk;
      }
    }
    return NextChecked(view);  // a group, or what is wrong
  }

 private:
  DecodeStatus NextChecked(MessageView* view);

  std::span<const std::byte> frame_;
  std::size_t offset_ = 0;
};

// Appends messages to a caller-owned buffer; Append returns false (and writes
// nothing) when the message does not fit.
class FrameWriter {
 public:
  explicit FrameWriter(std::span<std::byte> buffer) : buffer_(buffer) {}
  template <class M>
  bool Append(const M& m) {
    const std::size_t n = Encode(m, buffer_.subspan(size_));
    size_ += n;
    if (n != 0) ++count_;
    return n != 0;
  }
  std::span<const std::byte> frame() const { return buffer_.first(size_); }
  std::size_t size() const { return size_; }
  std::size_t count() const { return count_; }
  std::size_t remaining() const { return buffer_.size() - size_; }
  void Clear() { size_ = 0; count_ = 0; }

 private:
  std::span<std::byte> buffer_;
  std::size_t size_ = 0;
  std::size_t count_ = 0;
};

}  // namespace tickflow::sbe

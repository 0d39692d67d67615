#include "tickflow/sbe/codec.hpp"

#include <cstring>

namespace tickflow::sbe {
namespace detail {

}  // namespace detail

namespace {

// Reads the dimension of one of StartData's groups at `offset`.
DecodeStatus Group(std::span<const std::byte> in, std::size_t offset, std::uint16_t min_block, std::uint16_t max_count,
                   std::uint16_t* block, std::uint16_t* count) {
  if (in.size() < offset + kGroupHeaderSize) return DecodeStatus::kTruncated;
  *block = detail::Load<std::uint16_t>(in.data() + offset);
  *count = detail::Load<std::uint16_t>(in.data() + offset + 2);
  if (*block < min_block) return DecodeStatus::kBadGroupBlockLength;
  if (*count > max_count) return DecodeStatus::kTooManyEntries;
  if (in.size() < offset + kGroupHeaderSize + std::size_t{*block} * *count) return DecodeStatus::kTruncated;
  return DecodeStatus::kOk;
}
DecodeStatus SymbolsGroup(std::span<const std::byte> in, std::size_t offset, std::uint16_t* block,
                          std::uint16_t* count) {
  return Group(in, offset, StartData::kSymbolBlockLength, kMaxSymbolsPerRequest, block, count);
}
// The patterns group exists from version 2 on.
DecodeStatus PatternsGroup(std::span<const std::byte> in, std::size_t offset, std::uint16_t* block,
                           std::uint16_t* count) {
  return Group(in, offset, StartData::kPatternBlockLength, kMaxPatternsPerRequest, block, count);
}

}  // namespace

DecodeStatus Decode(std::span<const std::byte> in, StartData* m) {
  MessageHeader h;
  if (const DecodeStatus s = CheckHeader(in, &h); s != DecodeStatus::kOk) return s;
  if (h.template_id != static_cast<std::uint16_t>(MessageType::kStartData)) return DecodeStatus::kWrongTemplate;
  detail::Reader r(in.data() + kHeaderSize + 2);
  detail::DecodeFields(r, m);
  detail::DecodeExtensions(in.data() + kHeaderSize, h.block_length, m);
  const std::size_t group = kHeaderSize + h.block_length;
  std::uint16_t block = 0, count = 0;
  if (const DecodeStatus s = SymbolsGroup(in, group, &block, &count); s != DecodeStatus::kOk) return s;
  m->symbols.resize(count);
  for (std::uint16_t i = 0; i < count; ++i) {
    m->symbols[i] = detail::Load<SymbolId>(in.data() + group + kGroupHeaderSize + std::size_t{block} * i);
  }
  m->patterns.clear();
  if (h.version < 2) return DecodeStatus::kOk;
  const std::size_t patterns = group + kGroupHeaderSize + std::size_t{block} * count;
  if (const DecodeStatus s = PatternsGroup(in, patterns, &block, &count); s != DecodeStatus::kOk) return s;
  m->patterns.resize(count);
  for (std::uint16_t i = 0; i < count; ++i) {
    const auto* p = reinterpret_cast<const char*>(in.data() + patterns + kGroupHeaderSize + std::size_t{block} * i);
    m->patterns[i].assign(p, strnlen(p, kMaxPatternLength));
  }
  return DecodeStatus::kOk;
}

DecodeStatus MessageLength(std::span<const std::byte> in, std::size_t* length) {
  MessageHeader h;
  if (const DecodeStatus s = CheckHeader(in, &h); s != DecodeStatus::kOk) return s;
  std::size_t n = kHeaderSize + h.block_length;
  if (h.template_id == static_cast<std::uint16_t>(MessageType::kStartData)) {
    std::uint16_t block = 0, count = 0;
    if (const DecodeStatus s = SymbolsGroup(in, n, &block, &count); s != DecodeStatus::kOk) return s;
    n += kGroupHeaderSize + std::size_t{block} * count;
    if (h.version >= 2) {
      if (const DecodeStatus s = PatternsGroup(in, n, &block, &count); s != DecodeStatus::kOk) return s;
      n += kGroupHeaderSize + std::size_t{block} * count;
    }
  }
  *length = n;
  return DecodeStatus::kOk;
}

DecodeStatus FrameReader::NextChecked(MessageView* view) {
  const auto rest = frame_.subspan(offset_);
  if (rest.empty()) return DecodeStatus::kTruncated;
  std::size_t n = 0;
  if (const DecodeStatus s = MessageLength(rest, &n); s != DecodeStatus::kOk) return s;
  *view = MessageView(rest.first(n), static_cast<MessageType>(detail::Load<std::uint16_t>(rest.data() + 2)));
  view->checked_ = true;
  offset_ += n;
  return DecodeStatus::kOk;
}

const char* ToString(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kTruncated: return "truncated message";
    case DecodeStatus::kWrongSchema: return "wrong schema id";
    case DecodeStatus::kWrongTemplate: return "unexpected message type";
    case DecodeStatus::kUnknownTemplate: return "unknown template id";
    case DecodeStatus::kBadBlockLength: return "block length shorter than the schema's";
    case DecodeStatus::kBadMessageType: return "messageType field differs from the template id";
    case DecodeStatus::kBadEnumValue: return "enum field holds an undefined value";
    case DecodeStatus::kTooManyEntries: return "repeating group larger than allowed";
    case DecodeStatus::kBadGroupBlockLength: return "group block length shorter than the schema's";
  }
  return "unknown decode status";
}

}  // namespace tickflow::sbe

#include "tickflow/sbe/frame_auth.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>

#include "tickflow/core/check.hpp"
#include "tickflow/sbe/codec.hpp"

namespace tickflow::sbe {
namespace {

constexpr std::size_t kTagBytes = 12;

// One AES-128-GMAC computation at a time, reusing the OpenSSL objects.
class Gmac {
 public:
  Gmac() {
    mac_ = EVP_MAC_fetch(nullptr, "GMAC", nullptr);
    TICKFLOW_CHECK(mac_ != nullptr, "OpenSSL has no GMAC");
    ctx_ = EVP_MAC_CTX_new(mac_);
    TICKFLOW_CHECK(ctx_ != nullptr, "EVP_MAC_CTX_new failed");
  }
  ~Gmac() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  Gmac(const Gmac&) = delete;
  Gmac& operator=(const Gmac&) = delete;

  // The 96-bit tag of (u16 channel length, channel, bytes) under key and nonce.
  bool Tag(const SessionKeyBits& key, std::uint64_t counter, std::string_view channel,
           std::span<const std::byte> bytes, std::array<unsigned char, kTagBytes>* out) {
    unsigned char k[16];
    std::memcpy(k, &key.low, 8);
    std::memcpy(k + 8, &key.high, 8);
    unsigned char iv[12] = {};
    std::memcpy(iv, &counter, 8);
    char cipher[] = "AES-128-GCM";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, iv, sizeof iv),
        OSSL_PARAM_construct_end(),
    };
    const auto length = static_cast<std::uint16_t>(channel.size());
    unsigned char len[2];
    std::memcpy(len, &length, 2);
    unsigned char full[16];
    std::size_t n = 0;
    const bool ok = EVP_MAC_init(ctx_, k, sizeof k, params) == 1 && EVP_MAC_update(ctx_, len, 2) == 1 &&
                    EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(channel.data()), channel.size()) == 1 &&
                    EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) == 1 &&
                    EVP_MAC_final(ctx_, full, &n, sizeof full) == 1 && n == sizeof full;
    OPENSSL_cleanse(k, sizeof k);
    if (ok) std::memcpy(out->data(), full, kTagBytes);
    return ok;
  }

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace

SessionKeyBits NewSessionKey() {
  unsigned char bytes[16];
  TICKFLOW_CHECK(RAND_bytes(bytes, sizeof bytes) == 1, "no random source for a session key");
  SessionKeyBits k;
  std::memcpy(&k.low, bytes, 8);
  std::memcpy(&k.high, bytes + 8, 8);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return k;
}

struct FrameSigner::Mac : Gmac {};
struct FrameVerifier::Mac : Gmac {};

FrameSigner::FrameSigner(std::shared_ptr<SessionAuth> auth) : auth_(std::move(auth)), mac_(std::make_unique<Mac>()) {}
FrameSigner::~FrameSigner() = default;

std::size_t FrameSigner::Sign(std::string_view channel, std::span<std::byte> buffer, std::size_t size) {
  if (buffer.size() < size + kFrameTagSize) return 0;
  const std::uint64_t counter = auth_->counter.fetch_add(1, std::memory_order_relaxed);
  std::array<unsigned char, kTagBytes> tag{};
  if (!mac_->Tag(auth_->key, counter, channel, buffer.first(size), &tag)) return 0;
  FrameTag m;
  m.counter = counter;
  std::memcpy(&m.tag_low, tag.data(), 8);
  std::memcpy(&m.tag_high, tag.data() + 8, 4);
  const std::size_t n = Encode(m, buffer.subspan(size));
  return n == kFrameTagSize ? size + n : 0;
}

const char* ToString(VerifyStatus status) {
  switch (status) {
    case VerifyStatus::kOk: return "ok";
    case VerifyStatus::kNoTag: return "no FrameTag";
    case VerifyStatus::kBadTag: return "FrameTag does not match the session key and channel";
  }
  return "?";
}

FrameVerifier::FrameVerifier(SessionKeyBits key) : key_(key), mac_(std::make_unique<Mac>()) {}
FrameVerifier::~FrameVerifier() = default;

VerifyStatus FrameVerifier::Verify(std::string_view channel, std::span<const std::byte> frame,
                                   std::span<const std::byte>* payload) {
  if (frame.size() < kFrameTagSize) return VerifyStatus::kNoTag;
  const auto tail = frame.last(kFrameTagSize);
  FrameTag m;
  MessageHeader h;
  // The tag's own header is not covered by the MAC: accept only the exact one
  // (FrameTag is the same in every schema version so far).
  if (CheckHeader(tail, &h) != DecodeStatus::kOk || h.block_length != FrameTag::kBlockLength || h.version == 0 ||
      h.version > kSchemaVersion || Decode(tail, &m) != DecodeStatus::kOk) {
    return VerifyStatus::kNoTag;
  }
  const auto body = frame.first(frame.size() - kFrameTagSize);
  std::array<unsigned char, kTagBytes> expected{};
  if (!mac_->Tag(key_, m.counter, channel, body, &expected)) return VerifyStatus::kBadTag;
  unsigned char got[kTagBytes];
  std::memcpy(got, &m.tag_low, 8);
  std::memcpy(got + 8, &m.tag_high, 4);
  if (CRYPTO_memcmp(got, expected.data(), kTagBytes) != 0) return VerifyStatus::kBadTag;
  *payload = body;
  return VerifyStatus::kOk;
}

}  // namespace tickflow::sbe

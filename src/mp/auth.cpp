// multiprocessing's HMAC challenge and answer, as CPython 3.12+ speaks them
// and accepting CPython 3.11's legacy HMAC-MD5 form.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "weft/detail/python_repr.hpp"
#include "weft/mp/authentication.hpp"
#include "weft/mp/errors.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp {

namespace {

constexpr std::size_t kMessageLength = 40;  // random bytes in a challenge
constexpr std::size_t kMaxHandshakeMessage = 256;
constexpr std::string_view kChallenge = "#CHALLENGE#";
constexpr std::string_view kWelcome = "#WELCOME#";
constexpr std::string_view kFailure = "#FAILURE#";
// A legacy (CPython <= 3.11) challenge has this many random bytes, and a
// legacy answer is a bare HMAC-MD5 of this many bytes; no modern message has
// either length.
constexpr std::size_t kLegacyChallengeLength = 20;
constexpr std::size_t kMd5DigestLength = 16;

struct Digest {
  std::string_view name;
  const EVP_MD* (*md)();
};
constexpr std::array kAllowedDigests = {
    Digest{"md5", EVP_md5},           Digest{"sha256", EVP_sha256},
    Digest{"sha384", EVP_sha384},     Digest{"sha3_256", EVP_sha3_256},
    Digest{"sha3_384", EVP_sha3_384},
};
constexpr std::size_t kMaxDigestNameLength = 8;  // "sha3_256"

const Digest* find_digest(std::string_view name) {
  for (const Digest& digest : kAllowedDigests)
    if (digest.name == name) return &digest;
  return nullptr;
}

std::string hmac(const Digest& digest, std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  static const unsigned char kEmpty = 0;
  const auto* key_data = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (::HMAC(digest.md(), key_data, static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
             &size) == nullptr)
    throw AuthenticationError("response_digest='" + std::string(digest.name) + "' unsupported");
  return std::string(reinterpret_cast<const char*>(out), size);
}

// CPython's _get_digest_name_and_payload: the digest a message names and
// the rest of it; no digest (legacy HMAC-MD5) for a message of a legacy
// length.
std::pair<const Digest*, std::string_view> digest_and_payload(std::string_view message) {
  if (message.size() == kLegacyChallengeLength || message.size() == kMd5DigestLength)
    return {nullptr, message};
  if (message.starts_with('{')) {
    const std::size_t curly = message.substr(0, kMaxDigestNameLength + 2).find('}', 1);
    if (curly != std::string_view::npos) {
      if (const Digest* digest = find_digest(message.substr(1, curly - 1)))
        return {digest, message.substr(curly + 1)};
    }
  }
  throw AuthenticationError(
      "unsupported message length, missing digest prefix, or unsupported digest: message=" +
      weft::detail::bytes_repr(message));
}

// CPython's _create_response: "{name}" + HMAC, or a bare HMAC-MD5 for a
// legacy challenge.
std::string create_response(std::string_view authkey, std::string_view message) {
  const Digest* digest = digest_and_payload(message).first;
  if (digest == nullptr) return hmac(*find_digest("md5"), authkey, message);
  return "{" + std::string(digest->name) + "}" + hmac(*digest, authkey, message);
}

// CPython's _verify_challenge.
void verify_challenge(std::string_view authkey, std::string_view message,
                      std::string_view response) {
  auto [digest, mac] = digest_and_payload(response);
  if (digest == nullptr) digest = find_digest("md5");
  const std::string expected = hmac(*digest, authkey, message);
  if (expected.size() != mac.size())
    throw AuthenticationError("expected '" + std::string(digest->name) + "' of length " +
                              std::to_string(expected.size()) + " got " +
                              std::to_string(mac.size()));
  if (CRYPTO_memcmp(expected.data(), mac.data(), mac.size()) != 0)
    throw AuthenticationError("digest received was wrong");
}

}  // namespace

void deliver_challenge(Connection& conn, std::string_view authkey, std::string_view digest_name) {
  const Digest* digest = find_digest(digest_name);
  if (digest == nullptr) throw ValueError("unsupported digest: " + std::string(digest_name));
  unsigned char random[kMessageLength];
  if (::RAND_bytes(random, sizeof random) != 1)
    throw RuntimeError("no random bytes for the challenge");
  std::string message = "{" + std::string(digest->name) + "}";
  message.append(reinterpret_cast<const char*>(random), sizeof random);
  conn.send_bytes(std::string(kChallenge) + message);
  const std::string response = conn.recv_bytes(kMaxHandshakeMessage);
  try {
    verify_challenge(authkey, message, response);
  } catch (const AuthenticationError&) {
    // The peer may be gone already; its wrong answer is still the error to report.
    try {
      conn.send_bytes(kFailure);
    } catch (const net::OSError&) {
    }
    throw;
  }
  conn.send_bytes(kWelcome);
}

void answer_challenge(Connection& conn, std::string_view authkey) {
  const std::string received = conn.recv_bytes(kMaxHandshakeMessage);
  if (!std::string_view(received).starts_with(kChallenge))
    throw AuthenticationError("Protocol error, expected challenge: message=" +
                              weft::detail::bytes_repr(received));
  const std::string_view message = std::string_view(received).substr(kChallenge.size());
  if (message.size() < kLegacyChallengeLength)
    throw AuthenticationError("challenge too short: " + std::to_string(message.size()) +
                              " bytes");
  conn.send_bytes(create_response(authkey, message));
  if (conn.recv_bytes(kMaxHandshakeMessage) != kWelcome)
    throw AuthenticationError("digest sent was rejected");
}

}  // namespace weft::mp

// weft/mp/authentication.hpp — the HMAC challenge of Python's
// multiprocessing.connection (deliver_challenge, answer_challenge), with
// which a Listener and a Client prove to each other that they share an
// authentication key. Wire-compatible with CPython:
//
//   server: sends "#CHALLENGE#{sha256}<40 random bytes>"
//   client: answers "{sha256}" + HMAC-SHA256(authkey, "{sha256}<random>")
//   server: replies "#WELCOME#" or "#FAILURE#"
//
// each a message of Connection's framing; every received message is read
// with recv_bytes(256), so a peer cannot make either side read more. A
// CPython 3.11 (or older) peer speaks the legacy form, which both functions
// accept: its challenge is 20 random bytes without a digest prefix, and its
// answer is a bare 16-byte HMAC-MD5 of the whole challenge message. The
// digests allowed in a prefix are md5, sha256, sha384, sha3_256 and
// sha3_384, as in CPython. HMACs come from OpenSSL's libcrypto and are
// compared in constant time.
//
// Both functions block on the peer (a Listener bounds them with its
// handshake timeout). They throw AuthenticationError when the peer's
// answer is wrong or it does not speak the protocol, and whatever the
// Connection throws (EOFError when the peer closed, OSError("bad message
// length") for a message over 256 bytes). Thread-safety: as the
// Connection's own sends and receives.
#pragma once

#include <string_view>

#include "weft/mp/connection.hpp"

namespace weft::mp {

// The serving side: challenges the peer and checks its answer; sends
// "#WELCOME#" and returns, or sends "#FAILURE#" (if the peer is still
// there) and throws AuthenticationError("digest received was wrong", or what
// was wrong with the answer's form). `digest_name` is the HMAC digest the challenge asks
// for; ValueError if it is not one of the allowed ones.
void deliver_challenge(Connection& conn, std::string_view authkey,
                       std::string_view digest_name = "sha256");

// The answering side: reads the peer's challenge and answers it with the
// digest it asks for (HMAC-MD5 for a legacy challenge). Throws
// AuthenticationError("Protocol error, expected challenge: ...") for a
// message that is not a challenge, ("challenge too short: N bytes") for
// one under 20 bytes, for an unsupported digest, and ("digest sent was
// rejected") when the peer does not welcome the answer.
void answer_challenge(Connection& conn, std::string_view authkey);

}  // namespace weft::mp

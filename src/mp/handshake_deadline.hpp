// Bounds every read of a Connection while an authentication handshake runs,
// so that a peer that connects and then says nothing cannot stall the
// Listener: a read still waiting when the deadline passes throws
// weft::TimeoutError. Sends are not bounded: a handshake sends under 300
// bytes, which the socket buffer of a fresh connection always takes.
#pragma once

#include "weft/detail/deadline.hpp"
#include "weft/mp/connection.hpp"

namespace weft::mp::detail {

class HandshakeDeadline {
 public:
  HandshakeDeadline(Connection& conn, const weft::detail::Deadline& deadline) : conn_(conn) {
    conn_.io_deadline_ = deadline;
  }
  ~HandshakeDeadline() { conn_.io_deadline_.reset(); }
  HandshakeDeadline(const HandshakeDeadline&) = delete;
  HandshakeDeadline& operator=(const HandshakeDeadline&) = delete;

 private:
  Connection& conn_;
};

}  // namespace weft::mp::detail

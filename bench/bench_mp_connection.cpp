// bench_mp_connection — weft::mp::Connection between two processes against
// its peers, side by side.
//
// Measures, for 8-byte and 64 KiB messages, between a parent and a forked
// child over a duplex Pipe (a Unix socketpair):
//   roundtrip_<size>/...  the parent sends a message, the child sends it
//                         back; time per round trip;
//   oneway_<size>/...     the parent sends N messages, the child receives
//                         them and acknowledges the last; time per message.
// The clock starts after a first exchange has proved the child running.
//
// Peers, in the same run:
//   raw     the same exchange written in C style on a socketpair: write(2)
//           of the message's bytes, read(2) until that many arrived, into a
//           reused buffer — no framing, no allocation: what the kernel can do;
//   raw_framed  the same with Python's 4-byte length header on each message,
//           sent with it in one write(2) and read with a read(2) of its own
//           (the length must be known before the payload is read, and
//           reading ahead is not allowed: several processes may share the
//           reading end, taking whole messages in turns);
//   python  Python's multiprocessing.Pipe with a forked Process
//           (bench/python/mp_pipe.py), send_bytes/recv_bytes.
// weft runs twice: "weft" receives with recv_bytes_into() into a reused
// buffer, as raw does; "weft_recv_bytes" with recv_bytes(), which returns a
// new string per message, as Python's does (for 64 KiB messages that is an
// allocation, zero-filled, per message, on both sides).
//
// Target: a weft round trip within 1.2x of the raw one.
//
// Run: bench_mp_connection [--quick] [--benchmark_* flags];
// WEFT_BENCH_QUICK=1 is the same as --quick, WEFT_PYTHON picks the Python
// interpreter.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bench_fork.hpp"
#include "bench_support.hpp"
#include "weft/mp/connection.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using weft_bench::fork_child;

enum class Shape { round_trip, one_way };

// Waits for the child and throws unless it exited with status 0.
void reap(pid_t pid) {
  if (!weft_bench::child_succeeded(pid)) throw std::runtime_error("the child process failed");
}

// ------------------------------------------------------------------- weft

// How weft's side receives: into a reused buffer (recv_bytes_into, as raw
// does) or as a new string per message (recv_bytes, as Python does).
enum class Receive { into_buffer, new_string };

// Receives one message of at most `buffer.size()` bytes and returns its size.
std::size_t receive(weft::mp::Connection& conn, std::vector<char>& buffer, Receive how) {
  if (how == Receive::into_buffer) return conn.recv_bytes_into(std::span(buffer));
  return conn.recv_bytes().size();
}

double weft_run(std::int64_t n, std::size_t size, Shape shape, Receive how) {
  auto [parent, child] = weft::mp::Pipe();
  const pid_t pid = fork_child([&parent = parent, &child = child, n, size, shape, how] {
    parent.close();
    std::vector<char> buffer(size + 8);
    child.send_bytes(child.recv_bytes());
    for (std::int64_t i = 0; i < n; ++i) {
      if (how == Receive::into_buffer) {
        const std::size_t got = child.recv_bytes_into(std::span(buffer));
        if (shape == Shape::round_trip) child.send_bytes(std::string_view(buffer.data(), got));
      } else {
        std::string message = child.recv_bytes();
        if (shape == Shape::round_trip) child.send_bytes(message);
      }
    }
    if (shape == Shape::one_way) child.send_bytes("ack");
  });
  child.close();
  const std::string message(size, 'm');
  std::vector<char> buffer(size + 8);
  parent.send_bytes("ready?");
  parent.recv_bytes();
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    parent.send_bytes(message);
    if (shape == Shape::round_trip && receive(parent, buffer, how) != size)
      throw std::runtime_error("wrong reply");
  }
  if (shape == Shape::one_way) parent.recv_bytes();
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  reap(pid);
  return elapsed.count();
}

// -------------------------------------------------------------------- raw

void write_full(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = ::write(fd, data, size);
    if (sent <= 0) throw std::runtime_error("write failed");
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
}

void read_full(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::read(fd, data, size);
    if (got <= 0) throw std::runtime_error("read failed");
    data += got;
    size -= static_cast<std::size_t>(got);
  }
}

// The C-style loop; `framed` adds Python's 4-byte length header to each
// message (written with it in one write, read with one read of its own).
double raw_run(std::int64_t n, std::size_t size, Shape shape, bool framed) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error("socketpair failed");
  const std::size_t header = framed ? 4 : 0;
  const pid_t pid = fork_child([fds, n, size, shape, header] {
    ::close(fds[0]);
    std::vector<char> buffer(header + size + 1);
    read_full(fds[1], buffer.data(), 1);
    write_full(fds[1], buffer.data(), 1);
    for (std::int64_t i = 0; i < n; ++i) {
      if (header != 0) read_full(fds[1], buffer.data(), header);
      read_full(fds[1], buffer.data() + header, size);
      if (shape == Shape::round_trip) write_full(fds[1], buffer.data(), header + size);
    }
    if (shape == Shape::one_way) write_full(fds[1], buffer.data(), 1);
  });
  ::close(fds[1]);
  std::vector<char> message(header + size + 1, 'm');
  std::vector<char> reply(header + size + 1);
  write_full(fds[0], message.data(), 1);
  read_full(fds[0], reply.data(), 1);
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    write_full(fds[0], message.data(), header + size);
    if (shape == Shape::round_trip) {
      if (header != 0) read_full(fds[0], reply.data(), header);
      read_full(fds[0], reply.data() + header, size);
    }
  }
  if (shape == Shape::one_way) read_full(fds[0], reply.data(), 1);
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  ::close(fds[0]);
  reap(pid);
  return elapsed.count();
}

// ----------------------------------------------------------- registration

std::vector<weft_bench::Comparison> register_case(Shape shape, std::size_t size,
                                                  std::int64_t items) {
  const std::string size_name = size < 1024 ? std::to_string(size) + "B"
                                            : std::to_string(size / 1024) + "KiB";
  const std::string name =
      (shape == Shape::round_trip ? "roundtrip_" : "oneway_") + size_name + "/";
  weft_bench::add_batch(name + "weft", items, [=](std::int64_t n) {
    return weft_run(n, size, shape, Receive::into_buffer);
  });
  weft_bench::add_batch(name + "weft_recv_bytes", items, [=](std::int64_t n) {
    return weft_run(n, size, shape, Receive::new_string);
  });
  weft_bench::add_batch(name + "raw", items,
                        [=](std::int64_t n) { return raw_run(n, size, shape, false); });
  weft_bench::add_batch(name + "raw_framed", items,
                        [=](std::int64_t n) { return raw_run(n, size, shape, true); });
  weft_bench::add_python(name + "python", "mp_pipe.py", items,
                         {shape == Shape::round_trip ? "roundtrip" : "oneway",
                          std::to_string(size)});
  const bool round_trip = shape == Shape::round_trip;
  return {
      {name + "weft", name + "raw", round_trip ? 1.2 : 0, round_trip ? "<= 1.2x raw" : ""},
      {name + "weft", name + "raw_framed", 0, ""},
      {name + "weft_recv_bytes", name + "raw", 0, ""},
      {name + "weft_recv_bytes", name + "python", 0, ""},
  };
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);
  std::vector<weft_bench::Comparison> rows;
  const auto add = [&rows](std::vector<weft_bench::Comparison> more) {
    rows.insert(rows.end(), more.begin(), more.end());
  };
  add(register_case(Shape::round_trip, 8, weft_bench::items(20'000, 200)));
  add(register_case(Shape::round_trip, 64 << 10, weft_bench::items(4'000, 50)));
  add(register_case(Shape::one_way, 8, weft_bench::items(100'000, 500)));
  add(register_case(Shape::one_way, 64 << 10, weft_bench::items(10'000, 50)));
  return weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"two processes (fork) over a Unix socketpair; raw sends unframed bytes and reads them "
       "into a reused buffer; weft and python frame each message (one more read per message)"});
}

// Seed 003, 进程间通讯: Queues and Pipes. A child puts [42, None, 'hello']
// on a Queue, and another sends it through a Pipe and closes its end; the
// parent prints what it gets: "[42, None, 'hello']" both times.
//
// Shows the two message-passing IPCs. Python's heterogeneous list becomes a
// std::tuple; None is an empty std::optional.
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;

using Item = std::tuple<int, std::optional<int>, std::string>;

std::string repr(const Item& item) {
  const auto& [number, nothing, text] = item;
  return "[" + std::to_string(number) + ", " + (nothing ? std::to_string(*nothing) : "None") +
         ", '" + text + "']";
}

void to_queue(mp::Queue<Item> q) { q.put({42, std::nullopt, "hello"}); }

void to_pipe(mp::Connection conn) {
  conn.send(Item{42, std::nullopt, "hello"});
  conn.close();
}

int main() {
  mp::Queue<Item> q;
  mp::Process p(to_queue, q);
  p.start();
  const auto from_queue = repr(q.get());
  std::printf("%s\n", from_queue.c_str());  // prints "[42, None, 'hello']"
  p.join();

  auto [parent_conn, child_conn] = mp::Pipe();
  mp::Process p2(to_pipe, std::move(child_conn));
  p2.start();
  const auto from_pipe = repr(parent_conn.recv<Item>());
  std::printf("%s\n", from_pipe.c_str());  // prints "[42, None, 'hello']"
  p2.join();

  seed::check(from_queue == "[42, None, 'hello']" && from_pipe == from_queue,
              "both the Queue and the Pipe delivered [42, None, 'hello']");
  return seed::verdict();
}

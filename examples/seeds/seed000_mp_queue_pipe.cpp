// Seed 000, the first two multiprocessing programs: a child puts
// [1,'xixi',2] on a multiprocessing.Queue that the parent prints, then a
// child sends 'balabala' through one end of a Pipe, the parent prints it
// and answers 'babababa', which the child prints.
//
// Shows that processes share nothing but what they are given: the Queue
// and the Pipe end travel to the child as arguments ("the q is really a
// copy of the Queue instance"), and both still reach the parent. The twin
// runs each program twice, with the fork and the spawn start methods: with
// spawn the child is a fresh run of this executable, so the Queue and the
// Connection really are rebuilt from what was sent to it.
#include <cstdio>
#include <string>
#include <tuple>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;

using Item = std::tuple<int, std::string, int>;  // Python's [1, 'xixi', 2]

void thre(mp::Queue<Item> qq) { qq.put({1, "xixi", 2}); }

// The child's exit code says whether the answer was 'babababa' (an
// exception escaping a Process's target makes its exitcode 1).
void f(mp::Connection conn) {
  conn.send(std::string("balabala"));
  const auto answer = conn.recv<std::string>();
  std::printf("%s\n", answer.c_str());
  std::fflush(stdout);
  if (answer != "babababa") throw weft::ValueError("the child got '" + answer + "', not 'babababa'");
}

void queue_program(const mp::Context& context) {
  mp::Queue<Item> q;
  auto p = context.Process(thre, q);
  p.start();
  const auto [a, text, b] = q.get();
  std::printf("[%d, '%s', %d]\n", a, text.c_str(), b);
  p.join();
  seed::check(a == 1 && text == "xixi" && b == 2 && p.exitcode() == 0,
              "the parent got the child's [1, 'xixi', 2] through the Queue");
}

void pipe_program(const mp::Context& context) {
  auto [parent_conn, child_conn] = mp::Pipe();
  auto p = context.Process(f, std::move(child_conn));
  p.start();
  const auto got = parent_conn.recv<std::string>();
  std::printf("%s\n", got.c_str());
  std::fflush(stdout);
  parent_conn.send(std::string("babababa"));
  p.join();
  seed::check(got == "balabala" && p.exitcode() == 0,
              "the Pipe carried 'balabala' up and 'babababa' down (the child got it)");
}

int main() {
  for (const char* method : {"fork", "spawn"}) {
    std::printf("-- start method %s --\n", method);
    std::fflush(stdout);
    const auto context = mp::get_context(method);
    queue_program(context);
    pipe_program(context);
  }
  return seed::verdict();
}

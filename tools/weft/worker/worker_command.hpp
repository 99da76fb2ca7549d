// tools/weft/worker/worker_command.hpp — registers `weft worker`, which runs
// a program's weft::dist tasks: N processes of the program serving one
// queue of a Redis server, replaced when they die.
#pragma once

namespace CLI {
class App;
}

namespace weft::tool {

// Adds the `worker` subcommand. It checks that Redis answers, starts the
// workers (one line each on stdout, flushed: "worker 1234 started (queue
// jobs, redis://127.0.0.1:6379/0)"), replaces any that dies (a line saying
// why), and on SIGTERM or SIGINT lets every worker finish its task and
// exits 0 (a second signal kills them). Throws CLI::RuntimeError(2) for
// unusable options, (1) when Redis cannot be reached or the program
// cannot be started.
void add_worker_command(CLI::App& app);

}  // namespace weft::tool

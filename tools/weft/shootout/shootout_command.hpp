// tools/weft/shootout/shootout_command.hpp — registers `weft shootout`:
// every IO model and its peers under the same load, one table.
#pragma once

namespace CLI {
class App;
}

namespace weft::tool {

// Adds the `shootout` subcommand. It runs each server in turn (pinned to
// the first core this process may use, the load generator to the second;
// with only one, neither is pinned), shows progress on stderr,
// prints the table and the target ratios on stdout, and writes
// shootout.md and shootout.svg into --out. Throws CLI::RuntimeError(2),
// before any server starts, for settings the load generator would refuse,
// and CLI::RuntimeError(1) if no server could be measured.
void add_shootout_command(CLI::App& app);

}  // namespace weft::tool

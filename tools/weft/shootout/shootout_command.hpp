// tools/weft/shootout/shootout_command.hpp — registers `weft shootout`:
// every IO model and its peers under the same load, one table.
#pragma once

namespace CLI {
class App;
}

namespace weft::tool {

// Adds the `shootout` subcommand. It runs each server in turn (pinned to
// core 0, the load generator pinned to core 1), shows progress on stderr,
// prints the table and the target ratios on stdout, and writes
// shootout.md and shootout.svg into --out. Throws CLI::RuntimeError(1) if
// no server could be measured.
void add_shootout_command(CLI::App& app);

}  // namespace weft::tool

// tools/weft/load/load_command.hpp — registers `weft load`, the loopback
// load generator, on the weft tool's command line.
#pragma once

namespace CLI {
class App;
}

namespace weft::tool {

// Adds the `load` subcommand to `app`. When it runs it blocks for the whole
// load run and, on failure, throws CLI::RuntimeError with the exit status:
// 1 when the run had errors or completed no request, 2 for unusable options.
void add_load_command(CLI::App& app);

}  // namespace weft::tool

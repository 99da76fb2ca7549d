// tools/weft/serve/serve_command.hpp — registers `weft serve`, which runs
// one IO model as an echo or http server on loopback.
#pragma once

namespace CLI {
class App;
}

namespace weft::tool {

// Adds the `serve` subcommand. It prints "listening on HOST:PORT" once the
// server accepts (flushed, so a parent process can read the port), serves
// until SIGTERM or SIGINT, and exits 0; CLI::RuntimeError(2) for unusable
// options, (1) when the server cannot be set up (its reason printed on
// stderr first).
void add_serve_command(CLI::App& app);

}  // namespace weft::tool

// weft — the command-line tool: serve every IO model, load them, the
// shootout that compares them, and the workers of weft::dist. Each
// subcommand registers itself on the app; a subcommand that fails throws
// CLI::RuntimeError(exit status), which CLI11_PARSE turns into the
// process's exit status.
#include <CLI/CLI.hpp>

#include "weft/load/load_command.hpp"
#include "weft/serve/serve_command.hpp"
#include "weft/shootout/shootout_command.hpp"
#include "weft/worker/worker_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"weft: Python's concurrency toolkit in C++ — IO models, load, shootout and dist workers"};
  app.require_subcommand(1);
  weft::tool::add_serve_command(app);
  weft::tool::add_load_command(app);
  weft::tool::add_shootout_command(app);
  weft::tool::add_worker_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

//! The `wijksim` command: a thin layer over the library (arguments in, messages out).

mod cli;

fn main() {
    std::process::exit(cli::main());
}

//! The `wijksim` command: a thin layer over the library (arguments in, messages out).

mod cli;

fn main() {
    on_signals_clean_up();
    std::process::exit(cli::main());
}

/// On SIGINT, SIGTERM or SIGHUP: remove the staging folders and files of this process (putting back a
/// folder that was being replaced), say so, and end with 128 + the signal's number.
#[cfg(unix)]
fn on_signals_clean_up() {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            cli::print_notes();
            let done = wijksim::output::guard::clean_up_now();
            let name = match sig {
                SIGINT => "interrupted",
                SIGTERM => "terminated",
                _ => "hung up",
            };
            eprintln!(
                "\n{name}: stopped; {}",
                if done.is_empty() {
                    "nothing to clean up".to_string()
                } else {
                    format!("cleaned up ({})", done.join("; "))
                }
            );
            std::process::exit(128 + sig);
        }
    });
}

#[cfg(not(unix))]
fn on_signals_clean_up() {}

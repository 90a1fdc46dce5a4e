//! Time-left estimates for progress bars: a pure function of the work done and the time taken, so
//! that the binary only draws it and a test can check it.
//!
//! The work is counted in arm-runs (one arm of one run, the engine's unit), not in sweep points: a
//! point of a sweep is hundreds of arm-runs, and points run in parallel finish in bursts, so a rate
//! over points jumps from one point to the next. The rate is the work done over the time taken, both
//! weighted exponentially by their age (time constant [`Eta::TAU_SECONDS`]): a burst moves the
//! estimate little, a slow start (the first point compiles the scenario) is forgotten within some tens
//! of seconds, and work that stalls makes the estimate grow. [`Bar`] draws it: the one progress bar
//! of every command.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A smoothed estimate of the time left.
#[derive(Debug, Clone, Default)]
pub struct Eta {
    /// Seconds and work done at the last update.
    last: (f64, u64),
    /// Work and seconds, each weighted by `exp(-age / TAU_SECONDS)`.
    work: f64,
    time: f64,
}

impl Eta {
    /// Time constant of the smoothing, in seconds.
    pub const TAU_SECONDS: f64 = 20.0;

    /// Updates the estimate with `done` of `total` units of work finished `seconds` after the work
    /// started (work done before, e.g. by an earlier invocation of a resumed sweep, does not count)
    /// and returns the seconds left: `None` until some work is finished and at least half a second has
    /// passed, 0 when all is done.
    pub fn update(&mut self, seconds: f64, done: u64, total: u64) -> Option<f64> {
        if done >= total {
            return Some(0.0);
        }
        let (t0, d0) = self.last;
        if seconds.is_finite() && seconds > t0 {
            let dt = seconds - t0;
            let f = (-dt / Self::TAU_SECONDS).exp();
            self.work = self.work * f + done.saturating_sub(d0) as f64;
            self.time = self.time * f + dt;
            self.last = (seconds, done.max(d0));
        }
        if done == 0 || seconds < 0.5 || self.work <= 0.0 || self.time <= 0.0 {
            return None;
        }
        Some((total - done) as f64 * self.time / self.work)
    }
}

/// Seconds as a short duration: `45s`, `3m 05s`, `2h 07m`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, s % 3600 / 60)
    }
}

/// A progress bar on stderr (hidden when quiet or not a terminal) whose time left is
/// [`Eta`]'s: from the arm-runs finished, smoothed.
pub(super) struct Bar {
    pub(super) bar: ProgressBar,
    eta: std::sync::Mutex<Eta>,
    clock: std::time::Instant,
}

impl Bar {
    pub(super) fn new(quiet: bool, prefix: &'static str) -> Bar {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{prefix} [{bar:40}] {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            b.set_prefix(prefix);
            b
        };
        Bar {
            bar,
            eta: Default::default(),
            clock: std::time::Instant::now(),
        }
    }

    /// `done` of `total` units of work (arm-runs or runs), and what to say before the time left.
    pub(super) fn show(&self, done: u64, total: u64, what: &str) {
        if self.bar.is_hidden() {
            return;
        }
        let left = self.eta.lock().map_or(None, |mut e| {
            e.update(self.clock.elapsed().as_secs_f64(), done, total)
        });
        self.bar.set_length(total.max(1));
        self.bar.set_position(done);
        self.bar.set_message(match left {
            Some(s) => format!("{what}, {} left", duration(s)),
            None => what.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_work_gives_the_time_left() {
        let mut e = Eta::default();
        // 100 units a second, 10,000 in all.
        for t in 1..=20 {
            let left = e.update(f64::from(t), 100 * t as u64, 10_000).unwrap();
            assert!((left - (100.0 - f64::from(t))).abs() < 1e-9, "{t}: {left}");
        }
        assert_eq!(e.update(99.0, 10_000, 10_000), Some(0.0));
    }

    #[test]
    fn nothing_before_some_work_is_done() {
        let mut e = Eta::default();
        assert_eq!(e.update(0.2, 5, 100), None);
        assert_eq!(e.update(3.0, 0, 100), None);
        assert!(e.update(3.0, 10, 100).is_some());
    }

    #[test]
    fn bursts_move_the_estimate_little() {
        // Points finish in bursts: nothing for 4.9 s, then 500 arm-runs at once; the true rate is
        // 100 a second throughout. A rate over the last burst alone would swing from 0 to 5,000.
        let mut e = Eta::default();
        let total = 20_000;
        let mut lefts = Vec::new();
        for k in 1..=30u64 {
            let t = 5.0 * k as f64;
            // A burst, 0.1 s apart.
            e.update(t - 4.9, 500 * (k - 1) + 1, total);
            let left = e.update(t, 500 * k, total).unwrap();
            lefts.push((left, (total - 500 * k) as f64 / 100.0));
        }
        for (left, truth) in &lefts[3..] {
            assert!(
                (left - truth).abs() < 0.3 * truth,
                "{left} s left against {truth} s"
            );
        }
    }

    #[test]
    fn a_slow_start_does_not_leave_an_hour_estimate_behind() {
        // Regression: a sweep's first point is slow (it compiles the scenario, sizes budgets); an
        // estimate from the first point alone read "66m left" for a sweep that took 20 s.
        let mut e = Eta::default();
        let total = 4_000;
        // 40 arm-runs in the first 2 s, then 200 a second.
        assert!(e.update(2.0, 40, total).unwrap() > 150.0);
        let mut left = f64::INFINITY;
        let mut t = 2.0;
        let mut done = 40;
        while done + 200 < total {
            t += 1.0;
            done += 200;
            left = e.update(t, done, total).unwrap();
            if t >= 10.0 {
                let truth = (total - done) as f64 / 200.0;
                assert!(
                    left < 1.6 * truth + 1.0,
                    "at {t} s: {left} s left, truly {truth}"
                );
            }
        }
        assert!(left < 5.0, "{left}");
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(45.0), "45s");
        assert_eq!(duration(185.0), "3m 05s");
        assert_eq!(duration(7620.0), "2h 07m");
    }
}

//! The one home of the statistics over runs: mean, standard deviation, quantiles (R type 7) and the
//! Monte Carlo standard error. Console, report, CSVs, workbook and sweeps all take them from here.

/// Statistics of one reported number over runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one run).
    pub sd: f64,
    /// Quantiles 5, 25, 50, 75 and 95% (R type 7: linear interpolation).
    pub q: [f64; 5],
}

impl Stats {
    /// Monte Carlo standard error of the mean.
    pub fn mcse(&self, runs: usize) -> f64 {
        self.sd / (runs as f64).sqrt()
    }
}

/// The quantile levels reported.
pub const LEVELS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Type-7 quantile of sorted values.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Quantiles `levels` (type 7) of values in any order.
pub fn quantiles(values: &[f64], levels: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    levels.iter().map(|&p| quantile(&v, p)).collect()
}

/// Statistics of values given in run order (sorts `values`).
pub fn stats(values: &mut [f64]) -> Stats {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    values.sort_unstable_by(f64::total_cmp);
    Stats {
        mean,
        sd,
        q: LEVELS.map(|p| quantile(values, p)),
    }
}

//! Parameter uncertainty: distributions that any real-valued parameter of a scenario may have instead
//! of a number, for probabilistic sensitivity analysis (PSA).
//!
//! A run draws every uncertain parameter once, from a stream keyed by the run and the parameter's key
//! path in the scenario (`cost[1].tariff_per_hour`), so adding a distribution to one parameter leaves
//! the draws of every other parameter as they were. Without PSA (`--no-psa`, or the cohort engine) every
//! parameter takes its mean. Sampling uses `rand_distr` on the keyed streams of [`crate::rng`].

use crate::rng::{Key, Purpose, Stream};
use rand_distr::Distribution;

/// A validated distribution and its mean (exactly the mean given in the file, where one was given, so
/// that a model at its means equals the model written with those numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dist {
    /// The distribution.
    pub kind: Kind,
    mean: f64,
}

/// The kinds of distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Always this value.
    Fixed(f64),
    /// Uniform on `[lo, hi]`.
    Uniform(f64, f64),
    /// Triangular with minimum, mode and maximum.
    Triangular(f64, f64, f64),
    /// Normal with mean and sd, truncated to `[lo, hi]` (infinite bounds: not truncated).
    Normal {
        /// Mean before truncation.
        mean: f64,
        /// Standard deviation before truncation.
        sd: f64,
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Log-normal with log-scale `mu` and `sigma`.
    LogNormal(f64, f64),
    /// Beta with shape parameters `alpha`, `beta`.
    Beta(f64, f64),
    /// Gamma with shape and scale.
    Gamma(f64, f64),
}

/// The fields a distribution table in a scenario file may have.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `fixed`, `uniform`, `triangular`, `normal`, `lognormal`, `beta` or `gamma`.
    pub dist: String,
    /// `fixed`: the value.
    pub value: Option<f64>,
    /// Mean (`normal`, `lognormal`, `beta`, `gamma`).
    pub mean: Option<f64>,
    /// Standard deviation (same).
    pub sd: Option<f64>,
    /// Lower bound (`uniform`, `triangular`; truncation of `normal`).
    pub min: Option<f64>,
    /// Upper bound (same).
    pub max: Option<f64>,
    /// Mode (`triangular`).
    pub mode: Option<f64>,
    /// `beta`: first shape parameter (instead of mean and sd).
    pub alpha: Option<f64>,
    /// `beta`: second shape parameter.
    pub beta: Option<f64>,
    /// `gamma`: shape (instead of mean and sd).
    pub shape: Option<f64>,
    /// `gamma`: scale.
    pub scale: Option<f64>,
}

/// Why a distribution table is invalid, and how to fix it.
pub type SpecError = (String, String);

fn need(v: Option<f64>, name: &str, dist: &str) -> Result<f64, SpecError> {
    match v {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err((
            format!("a {dist} distribution needs `{name}`"),
            format!("add {name} = <number>"),
        )),
    }
}

/// A [`SpecError`] with its fix.
fn bad<T>(what: String, fix: &str) -> Result<T, SpecError> {
    Err((what, fix.to_string()))
}

/// A triangular distribution: min <= mode <= max, min < max.
fn triangular(s: &Spec) -> Result<Kind, SpecError> {
    let d = "triangular";
    let (lo, mode, hi) = (
        need(s.min, "min", d)?,
        need(s.mode, "mode", d)?,
        need(s.max, "max", d)?,
    );
    if lo <= mode && mode <= hi && lo < hi {
        Ok(Kind::Triangular(lo, mode, hi))
    } else {
        bad(
            format!("min {lo}, mode {mode}, max {hi} are not in order"),
            "give min <= mode <= max with min < max",
        )
    }
}

/// A normal distribution, truncated to `[min, max]` when given: the truncation must leave some
/// probability.
fn normal(s: &Spec) -> Result<Kind, SpecError> {
    let d = "normal";
    let (mean, sd) = (need(s.mean, "mean", d)?, need(s.sd, "sd", d)?);
    let (lo, hi) = (
        s.min.unwrap_or(f64::NEG_INFINITY),
        s.max.unwrap_or(f64::INFINITY),
    );
    if sd < 0.0 {
        return bad(format!("sd {sd} is negative"), "give sd >= 0");
    }
    if lo >= hi
        || (sd == 0.0 && !(lo..=hi).contains(&mean))
        || (sd > 0.0 && phi_range((lo - mean) / sd, (hi - mean) / sd) < 1e-9)
    {
        return bad(
            format!("the truncation [{lo}, {hi}] leaves no probability"),
            "widen min and max around the mean",
        );
    }
    Ok(Kind::Normal { mean, sd, lo, hi })
}

/// A beta distribution, from alpha and beta, or from its mean and sd.
fn beta(s: &Spec) -> Result<Kind, SpecError> {
    let d = "beta";
    let (a, b) = match (s.alpha, s.beta) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            let (m, sd) = (need(s.mean, "mean", d)?, need(s.sd, "sd", d)?);
            if !(m > 0.0 && m < 1.0 && sd > 0.0 && sd * sd < m * (1.0 - m)) {
                return bad(
                    format!("mean {m} and sd {sd} fit no beta distribution"),
                    "give 0 < mean < 1 and 0 < sd < sqrt(mean (1 - mean)), or alpha and beta",
                );
            }
            let k = m * (1.0 - m) / (sd * sd) - 1.0;
            (m * k, (1.0 - m) * k)
        }
    };
    if a > 0.0 && b > 0.0 {
        Ok(Kind::Beta(a, b))
    } else {
        bad(
            format!("alpha {a} and beta {b}"),
            "give alpha > 0 and beta > 0",
        )
    }
}

/// A gamma distribution, from shape and scale, or from its mean and sd.
fn gamma(s: &Spec) -> Result<Kind, SpecError> {
    let d = "gamma";
    let (k, th) = match (s.shape, s.scale) {
        (Some(k), Some(th)) => (k, th),
        _ => {
            let (m, sd) = (need(s.mean, "mean", d)?, need(s.sd, "sd", d)?);
            if !(m > 0.0 && sd > 0.0) {
                return bad(
                    format!("mean {m} and sd {sd}"),
                    "a gamma needs mean > 0 and sd > 0 (or shape and scale)",
                );
            }
            ((m / sd).powi(2), sd * sd / m)
        }
    };
    if k > 0.0 && th > 0.0 {
        Ok(Kind::Gamma(k, th))
    } else {
        bad(
            format!("shape {k} and scale {th}"),
            "give shape > 0 and scale > 0",
        )
    }
}

impl Dist {
    /// Validates a distribution table.
    pub fn from_spec(s: &Spec) -> Result<Dist, SpecError> {
        let kind = Kind::from_spec(s)?;
        let mean = match (kind, s.mean) {
            // A truncated normal's mean is not the mean given (that of the untruncated normal).
            (Kind::Normal { lo, hi, .. }, _) if lo.is_finite() || hi.is_finite() => kind.mean(),
            (_, Some(m)) => m,
            _ => kind.mean(),
        };
        Ok(Dist { kind, mean })
    }

    /// A distribution of a kind, with the kind's mean.
    pub fn of(kind: Kind) -> Dist {
        Dist {
            kind,
            mean: kind.mean(),
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Bounds of the support.
    pub fn support(&self) -> (f64, f64) {
        self.kind.support()
    }

    /// One draw.
    pub fn sample(&self, s: &mut Stream) -> f64 {
        self.kind.sample(s)
    }
}

impl Kind {
    /// Validates a distribution table.
    pub fn from_spec(s: &Spec) -> Result<Kind, SpecError> {
        let d = s.dist.as_str();
        match d {
            "fixed" => Ok(Kind::Fixed(need(s.value, "value", d)?)),
            "uniform" => {
                let (lo, hi) = (need(s.min, "min", d)?, need(s.max, "max", d)?);
                if lo < hi {
                    Ok(Kind::Uniform(lo, hi))
                } else {
                    bad(format!("min {lo} is not below max {hi}"), "give min < max")
                }
            }
            "triangular" => triangular(s),
            "normal" => normal(s),
            "lognormal" => {
                let (mean, sd) = (need(s.mean, "mean", d)?, need(s.sd, "sd", d)?);
                if mean <= 0.0 || sd < 0.0 {
                    return bad(
                        format!("mean {mean} and sd {sd}"),
                        "a log-normal needs mean > 0 and sd >= 0",
                    );
                }
                let s2 = (1.0 + (sd / mean).powi(2)).ln();
                Ok(Kind::LogNormal(mean.ln() - s2 / 2.0, s2.sqrt()))
            }
            "beta" => beta(s),
            "gamma" => gamma(s),
            other => bad(
                format!("unknown distribution `{other}`"),
                "use fixed, uniform, triangular, normal, lognormal, beta or gamma",
            ),
        }
    }

    /// The mean (of the truncated distribution for a truncated normal).
    pub fn mean(&self) -> f64 {
        match *self {
            Kind::Fixed(v) => v,
            Kind::Uniform(lo, hi) => (lo + hi) / 2.0,
            Kind::Triangular(lo, m, hi) => (lo + m + hi) / 3.0,
            Kind::Normal { mean, sd, lo, hi } => {
                if sd == 0.0 {
                    return mean;
                }
                let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
                mean + sd * (pdf(a) - pdf(b)) / phi_range(a, b)
            }
            Kind::LogNormal(mu, s) => (mu + s * s / 2.0).exp(),
            Kind::Beta(a, b) => a / (a + b),
            Kind::Gamma(k, th) => k * th,
        }
    }

    /// Bounds of the support (for checks against the parameter's valid range).
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Kind::Fixed(v) => (v, v),
            Kind::Uniform(lo, hi) | Kind::Triangular(lo, _, hi) => (lo, hi),
            Kind::Normal { lo, hi, sd, mean } => {
                if sd == 0.0 {
                    (mean, mean)
                } else {
                    (lo, hi)
                }
            }
            Kind::LogNormal(..) | Kind::Gamma(..) => (0.0, f64::INFINITY),
            Kind::Beta(..) => (0.0, 1.0),
        }
    }

    /// One draw.
    pub fn sample(&self, s: &mut Stream) -> f64 {
        match *self {
            Kind::Fixed(v) => v,
            Kind::Uniform(lo, hi) => lo + (hi - lo) * s.uniform(),
            Kind::Triangular(lo, m, hi) => {
                rand_distr::Triangular::new(lo, hi, m).map_or(m, |t| t.sample(s))
            }
            Kind::Normal { mean, sd, lo, hi } => {
                let Ok(n) = rand_distr::Normal::new(mean, sd) else {
                    return mean;
                };
                // Rejection; the construction guarantees the interval has probability >= 1e-9, and
                // after 10,000 rejections the draw is clamped (documented).
                for _ in 0..10_000 {
                    let x = n.sample(s);
                    if (lo..=hi).contains(&x) {
                        return x;
                    }
                }
                mean.clamp(lo, hi)
            }
            Kind::LogNormal(mu, sg) => {
                rand_distr::LogNormal::new(mu, sg).map_or(mu.exp(), |d| d.sample(s))
            }
            Kind::Beta(a, b) => rand_distr::Beta::new(a, b).map_or(a / (a + b), |d| d.sample(s)),
            Kind::Gamma(k, th) => rand_distr::Gamma::new(k, th).map_or(k * th, |d| d.sample(s)),
        }
    }
}

/// A Dirichlet draw with the given concentration parameters (all > 0), by normalised gamma draws.
pub fn dirichlet(alpha: &[f64], s: &mut Stream) -> Vec<f64> {
    let g: Vec<f64> = alpha
        .iter()
        .map(|&a| rand_distr::Gamma::new(a, 1.0).map_or(a, |d| d.sample(s)))
        .collect();
    let total: f64 = g.iter().sum();
    if total > 0.0 {
        g.iter().map(|x| x / total).collect()
    } else {
        alpha
            .iter()
            .map(|a| a / alpha.iter().sum::<f64>())
            .collect()
    }
}

/// The stream of the parameter at `path` in run `run`.
pub fn stream(seed: u64, run: u32, path: &str) -> Stream {
    // FNV-1a of the key path: stable across versions and platforms.
    let h = path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Key::root(seed)
        .child(u64::from(run))
        .purpose(Purpose::Parameter)
        .child(h)
        .stream()
}

fn pdf(x: f64) -> f64 {
    if x.is_infinite() {
        0.0
    } else {
        (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
    }
}

/// Standard normal CDF, by the complementary error function (Numerical Recipes' erfc, relative error
/// below 1.2e-7).
fn cdf(x: f64) -> f64 {
    if x == f64::INFINITY {
        return 1.0;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

fn phi_range(a: f64, b: f64) -> f64 {
    cdf(b) - cdf(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dist: &str) -> Spec {
        Spec {
            dist: dist.into(),
            ..Default::default()
        }
    }

    /// Mean within 4 standard errors and sd within 5% over 40,000 draws.
    fn moments(d: Dist, want_mean: f64, want_sd: f64) {
        let mut s = stream(7, 0, "test");
        let n = 40_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut s)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        assert!(
            (mean - want_mean).abs() < 4.0 * want_sd / (n as f64).sqrt() + 1e-12,
            "{d:?}: mean {mean} vs {want_mean}"
        );
        assert!(
            (sd - want_sd).abs() < 0.05 * want_sd + 1e-12,
            "{d:?}: sd {sd} vs {want_sd}"
        );
        assert!(
            (d.mean() - want_mean).abs() < 1e-6 * want_mean.abs().max(1.0),
            "{d:?}: mean() {}",
            d.mean()
        );
    }

    #[test]
    fn distributions_have_their_moments() {
        let mk = |f: &dyn Fn(&mut Spec)| {
            let mut s = spec("");
            f(&mut s);
            Dist::from_spec(&s).unwrap()
        };
        moments(
            mk(&|s| {
                s.dist = "uniform".into();
                s.min = Some(2.0);
                s.max = Some(5.0)
            }),
            3.5,
            3.0 / 12f64.sqrt(),
        );
        // Symmetric triangular on [6, 12]: variance (36 + 81 + 144 - 54 - 72 - 108) / 18 = 1.5.
        moments(
            mk(&|s| {
                s.dist = "triangular".into();
                s.min = Some(6.0);
                s.mode = Some(9.0);
                s.max = Some(12.0)
            }),
            9.0,
            1.5f64.sqrt(),
        );
        moments(
            mk(&|s| {
                s.dist = "normal".into();
                s.mean = Some(66.0);
                s.sd = Some(4.0)
            }),
            66.0,
            4.0,
        );
        moments(
            mk(&|s| {
                s.dist = "lognormal".into();
                s.mean = Some(1.5);
                s.sd = Some(0.3)
            }),
            1.5,
            0.3,
        );
        moments(
            mk(&|s| {
                s.dist = "beta".into();
                s.mean = Some(0.1);
                s.sd = Some(0.03)
            }),
            0.1,
            0.03,
        );
        moments(
            mk(&|s| {
                s.dist = "gamma".into();
                s.mean = Some(250.0);
                s.sd = Some(50.0)
            }),
            250.0,
            50.0,
        );
        moments(
            mk(&|s| {
                s.dist = "beta".into();
                s.alpha = Some(2.0);
                s.beta = Some(6.0)
            }),
            0.25,
            (12.0f64 / (64.0 * 9.0)).sqrt(),
        );
        assert_eq!(
            mk(&|s| {
                s.dist = "fixed".into();
                s.value = Some(3.0)
            })
            .sample(&mut stream(1, 1, "x")),
            3.0
        );
    }

    #[test]
    fn truncated_normal_stays_in_bounds_and_has_the_truncated_mean() {
        let d = Dist::from_spec(&Spec {
            dist: "normal".into(),
            mean: Some(0.0),
            sd: Some(1.0),
            min: Some(0.0),
            ..Default::default()
        })
        .unwrap();
        // Half-normal: mean sqrt(2/pi), sd sqrt(1 - 2/pi).
        moments(
            d,
            (2.0 / std::f64::consts::PI).sqrt(),
            (1.0 - 2.0 / std::f64::consts::PI).sqrt(),
        );
        let mut s = stream(3, 0, "t");
        assert!((0..10_000).all(|_| d.sample(&mut s) >= 0.0));
    }

    #[test]
    fn bad_tables_say_how_to_fix_them() {
        for (s, want) in [
            (
                Spec {
                    dist: "gama".into(),
                    ..Default::default()
                },
                "unknown distribution",
            ),
            (
                Spec {
                    dist: "normal".into(),
                    mean: Some(1.0),
                    sd: Some(-1.0),
                    ..Default::default()
                },
                "negative",
            ),
            (
                Spec {
                    dist: "beta".into(),
                    mean: Some(1.2),
                    sd: Some(0.1),
                    ..Default::default()
                },
                "fit no beta",
            ),
            (
                Spec {
                    dist: "uniform".into(),
                    min: Some(3.0),
                    max: Some(1.0),
                    ..Default::default()
                },
                "not below",
            ),
            (
                Spec {
                    dist: "gamma".into(),
                    mean: Some(1.0),
                    ..Default::default()
                },
                "needs `sd`",
            ),
        ] {
            let (what, fix) = Dist::from_spec(&s).unwrap_err();
            assert!(what.contains(want), "{what}");
            assert!(!fix.is_empty());
        }
    }

    #[test]
    fn dirichlet_rows_sum_to_one_with_the_right_means() {
        let alpha = [96.5, 0.4, 0.9, 0.6, 0.2, 1.4];
        let total: f64 = alpha.iter().sum();
        let mut s = stream(5, 0, "row");
        let n = 20_000;
        let mut sums = [0.0; 6];
        for _ in 0..n {
            let p = dirichlet(&alpha, &mut s);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (a, x) in sums.iter_mut().zip(&p) {
                *a += x;
            }
        }
        for (k, a) in alpha.iter().enumerate() {
            let m = a / total;
            let se = (m * (1.0 - m) / (total + 1.0) / n as f64).sqrt();
            assert!((sums[k] / n as f64 - m).abs() < 4.0 * se, "component {k}");
        }
    }

    #[test]
    fn streams_are_keyed_by_path_and_pinned() {
        let a = stream(1, 2, "cost[1].tariff_per_hour").uniform();
        assert_eq!(a, stream(1, 2, "cost[1].tariff_per_hour").uniform());
        assert_ne!(a, stream(1, 2, "cost[0].tariff_per_hour").uniform());
        assert_ne!(a, stream(1, 3, "cost[1].tariff_per_hour").uniform());
        let pinned = Kind::Gamma(4.0, 2.5).sample(&mut stream(20210101, 0, "p"));
        assert_eq!(format!("{pinned:.6}"), PINNED);
    }
    const PINNED: &str = "20.483410";
}

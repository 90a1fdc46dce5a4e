//! The fit report (`<fitted>.html`): what was read, the fitted rows against the template's, and
//! observed against fitted: a Kaplan–Meier survival curve per state against the fitted rows'
//! survival, and the monthly stock per state against the fitted scenario's expected caseload.
//! No client identifier appears in it.

use super::Fitted;
use super::estimate::RowFit;
use crate::model::Model;
use crate::model::YearMonth;
use crate::output::lang::Lang;
use crate::output::plot::{LinePanels, PanelAxis};
use crate::output::report::{CSS, esc, figure};
use std::fmt::Write;

pub use crate::output::plot::Curve;

/// Observed survival in a state by months in it (Kaplan–Meier with left truncation and right
/// censoring, from the draws the rows count): `(months, S)` from `(0, 1)`; and the fitted rows'
/// survival over the same months.
pub fn survival(fitted: &Fitted, s: usize) -> (Curve, Curve) {
    let first = fitted.estimates.window.0;
    let counts = &fitted.estimates.survival[s];
    // Up to the last month with at least 20 clients at risk: beyond it the curve is noise.
    let horizon = counts.iter().rposition(|c| c.0 >= 20).map_or(0, |k| k + 1);
    let mut observed = vec![(0.0, 1.0)];
    let mut fitted_curve = vec![(0.0, 1.0)];
    let (mut so, mut sf) = (1.0, 1.0);
    for (k, &(at_risk, ended)) in counts.iter().enumerate().take(horizon) {
        if at_risk > 0 {
            so *= 1.0 - ended as f64 / at_risk as f64;
        }
        // The fitted row for k + 1 months in the state (the first that applies at the start).
        let row = fitted
            .estimates
            .rows
            .iter()
            .find(|r| r.spec.applies(s, k as u32 + 1, first));
        if let Some(r) = row.filter(|r| r.at_risk > 0) {
            sf *= r.to[s] as f64 / r.at_risk as f64;
        }
        observed.push(((k + 1) as f64, so));
        fitted_curve.push(((k + 1) as f64, sf));
    }
    (observed, fitted_curve)
}

/// The report's HTML.
pub fn html(fitted: &Fitted, template_model: &Model, fitted_model: &Model, lang: Lang) -> String {
    let m = template_model;
    let est = &fitted.estimates;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        lang.t("nl", "en"),
        lang.t("Schatting uit episodes", "Fit to episodes")
    );
    intro(&mut h, fitted, lang);
    rows_table(&mut h, fitted, m, lang);
    // The states with a fitted row.
    let live: Vec<usize> = (0..m.n_states())
        .filter(|&s| !m.states[s].absorbing && Some(s) != m.waiting_state)
        .filter(|&s| est.rows.iter().any(|r| r.spec.from == s && r.at_risk > 0))
        .collect();
    survival_figure(&mut h, fitted, m, &live, lang);
    stock_figure(&mut h, fitted, m, fitted_model, &live, lang);
    h.push_str("</body></html>\n");
    h
}

/// The title and what was read: episodes, clients, populations and the months observed.
fn intro(h: &mut String, fitted: &Fitted, lang: Lang) {
    let (ep, est) = (&fitted.episodes, &fitted.estimates);
    let populations = if ep.populations > 1 {
        format!(
            " in {} {} (runs)",
            ep.populations,
            lang.t("populaties", "populations")
        )
    } else {
        String::new()
    };
    let _ = write!(
        h,
        "<h1>{}</h1><p>{}: {} {} {} {}{populations}, {} {} {} {}. {}</p>",
        lang.t("Schatting uit episodes", "Fit to episodes"),
        esc(&ep.file),
        lang.int(ep.list.len() as f64),
        lang.t("episodes van", "episodes of"),
        lang.int(ep.clients as f64),
        lang.t("cliënten", "clients"),
        lang.t("waargenomen", "observed"),
        YearMonth::from_index(est.window.0),
        lang.t("tot en met", "to"),
        YearMonth::from_index(est.window.1),
        lang.t(
            "Alleen waargenomen maanden tellen: een episode die aan het eind nog loopt telt haar maanden mee maar geen overgang (rechts gecensureerd), een episode die vóór de start begon telt vanaf de start (links afgekapt).",
            "Only observed months count: an episode still open at the end adds its months but no move (right-censored), an episode begun before the start counts from the start (left-truncated)."
        )
    );
}

/// The table of the fitted transition rows: per row its client-months, moves and chance to leave.
fn rows_table(h: &mut String, fitted: &Fitted, m: &Model, lang: Lang) {
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        lang.t("Overgangsrijen", "Transition rows"),
        lang.t("van", "from"),
        lang.t("maanden in toestand", "months in state"),
        lang.t("periode", "period"),
        lang.t("cliëntmaanden", "client-months"),
        lang.t("overgangen", "moves"),
        lang.t(
            "kans per maand om te vertrekken (95%)",
            "chance per month to leave (95%)"
        )
    );
    for r in &fitted.estimates.rows {
        let band = match r.spec.band {
            (lo, u32::MAX) => format!("{lo}+"),
            (lo, hi) if lo == hi => lo.to_string(),
            (lo, hi) => format!("{lo}-{hi}"),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{band}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.states[r.spec.from].code),
            row_period(r.spec.period, lang),
            lang.int(r.at_risk as f64),
            lang.int(r.moves() as f64),
            chance_to_leave(r, lang)
        );
    }
    h.push_str("</table>");
}

/// The months a row applies to, in words.
fn row_period(period: Option<(i64, i64)>, lang: Lang) -> String {
    let m = |i: i64| YearMonth::from_index(i).to_string();
    match period {
        None | Some((i64::MIN, i64::MAX)) => lang.t("alle", "all").to_string(),
        Some((i64::MIN, b)) => format!("{} {}", lang.t("t/m", "until"), m(b)),
        Some((a, i64::MAX)) => format!("{} {}", lang.t("vanaf", "from"), m(a)),
        Some((a, b)) => format!("{} {} {}", m(a), lang.t("t/m", "to"), m(b)),
    }
}

/// A row's chance per month to leave its state, with its 95% interval.
fn chance_to_leave(r: &RowFit, lang: Lang) -> String {
    if r.at_risk == 0 {
        return lang.t("niet geschat", "not fitted").into();
    }
    // Monthly chances are a few percent: one decimal, or every interval reads "4% (4%–4%)".
    let pct1 = |x: f64| format!("{}%", lang.number(100.0 * x, 1));
    let p = r.moves() as f64 / r.at_risk as f64;
    let se = (p * (1.0 - p) / r.at_risk as f64).sqrt();
    format!(
        "{} ({}–{})",
        pct1(p),
        pct1((p - 1.96 * se).max(0.0)),
        pct1((p + 1.96 * se).min(1.0))
    )
}

/// The figure of time in state per state in `live`: observed (Kaplan–Meier) and fitted.
fn survival_figure(h: &mut String, fitted: &Fitted, m: &Model, live: &[usize], lang: Lang) {
    let panels = live
        .iter()
        .map(|&s| {
            let (o, f) = survival(fitted, s);
            (m.states[s].code.clone(), vec![o, f])
        })
        .collect();
    figure(
        h,
        &LinePanels {
            title: lang
                .t(
                    "Verblijf in de toestand: waargenomen (Kaplan–Meier) en geschat",
                    "Time in state: observed (Kaplan–Meier) and fitted",
                )
                .into(),
            panels,
            x: PanelAxis::Plain(lang.t("maanden in de toestand", "months in the state").into()),
            series: vec![
                lang.t("waargenomen", "observed").into(),
                lang.t("geschatte rijen", "fitted rows").into(),
            ],
            shares: true,
            lang,
        },
        lang.t(
            "Aandeel cliënten dat na zoveel maanden nog in de toestand is (een verlenging beëindigt de episode), tot de laatste maand met minstens 20 cliënten.",
            "Share of clients still in the state after so many months (a renewal ends the episode), up to the last month with at least 20 clients at risk.",
        ),
    );
}

/// The figure of clients per month per state in `live`: observed and the fitted scenario's expected
/// caseload.
fn stock_figure(
    h: &mut String,
    fitted: &Fitted,
    m: &Model,
    fitted_model: &Model,
    live: &[usize],
    lang: Lang,
) {
    let (first, last) = fitted.estimates.window;
    let cycles = ((last - first + 1).max(1) as usize).min(fitted_model.cycles as usize);
    let stock = observed_stock(fitted, m.n_states(), cycles);
    let (sums, _) = crate::aggregate::expected::summarise(fitted_model);
    let panels = live
        .iter()
        .map(|&s| {
            let simulated: Vec<(f64, f64)> = sums
                .first()
                .map(|sm| {
                    (0..cycles)
                        .map(|c| {
                            let i = sm.layout.caseload(crate::model::scope::REGION, c, s);
                            (c as f64, sm.stats[i].mean)
                        })
                        .collect()
                })
                .unwrap_or_default();
            (m.states[s].code.clone(), vec![stock[s].clone(), simulated])
        })
        .collect();
    figure(
        h,
        &LinePanels {
            title: lang
                .t(
                    "Cliënten per maand: waargenomen en het geschatte scenario",
                    "Clients per month: observed and the fitted scenario",
                )
                .into(),
            panels,
            x: PanelAxis::Months(fitted_model, cycles),
            series: vec![
                lang.t("waargenomen", "observed").into(),
                lang.t("geschat scenario (verwachting)", "fitted scenario (expected)").into(),
            ],
            shares: false,
            lang,
        },
        lang.t(
            "Cliënten in de toestand per maand, alle gebieden samen (per populatie); het geschatte scenario met de verwachtingswaarde-engine, eerste variant.",
            "Clients in the state per month, all areas together (per population); the fitted scenario with the expected-value engine, first arm.",
        ),
    );
}

/// Clients per state (of `n`) and month observed (the first `cycles`), per population: `(month,
/// clients)` from month 0, in one pass over the episodes.
fn observed_stock(fitted: &Fitted, n: usize, cycles: usize) -> Vec<Curve> {
    let ep = &fitted.episodes;
    let first = fitted.estimates.window.0;
    let pops = ep.populations as f64;
    let mut stock = vec![vec![0u64; cycles]; n];
    for e in &ep.list {
        for c in (e.start - first).max(0)..=(e.end - first).min(cycles as i64 - 1) {
            stock[e.state][c as usize] += 1;
        }
    }
    stock
        .iter()
        .map(|by_month| {
            by_month
                .iter()
                .enumerate()
                .map(|(c, &k)| (c as f64, k as f64 / pops))
                .collect()
        })
        .collect()
}

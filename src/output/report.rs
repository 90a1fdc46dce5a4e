//! `report.html`: one self-contained page a strategist can read and mail (inline CSS and SVG, no
//! network), in Dutch (default) or English.
//!
//! First screen: the question (scenario and arms), the answer (cost per year P10/P50/P90 per arm, the
//! probability that each pilot costs less, KPIs met) and how sure (runs, Monte Carlo error). Then the
//! figures, the tables, every value the scenario labels as an assumption, the manifest and how to
//! reproduce the run.

use crate::aggregate::paired::Difference;
use crate::aggregate::{Account, KpiCell};
use crate::model::Model;
use crate::model::scope::REGION;
use crate::output::lang::{
    Lang, arm_label, by_state, every_area_under_a_regime, people, people_title, pilot_areas_phrase,
    scope_label,
};
use crate::output::manifest::Manifest;
use crate::output::plot::{
    self, BudgetUse, CostDifference, CostPerYear, DifferenceHistogram, Fan, KpiChart, Stacked,
};
use crate::output::tables::ArmTables;
use std::fmt::Write;

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The style of every page wijksim writes. Nothing is wider than the window: a table wider than the
/// text scrolls sideways in its own box (a block as wide as its content, at most the text's width),
/// a figure scales down, and a scenario line quoted in a table wraps.
/// An amount is kept on one line (`.nw`, see [`amount`]).
pub(crate) const CSS: &str = "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;max-width:1040px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #1f5ea8;padding-bottom:.2em}\
.answer{background:#f3f7fc;border-left:6px solid #1f5ea8;padding:.8em 1.2em;margin:1em 0}\
table{border-collapse:collapse;margin:.6em 0;font-size:.92em;display:block;width:max-content;max-width:100%;overflow-x:auto}th,td{border:1px solid #ccd;padding:.3em .6em;text-align:right}\
th{background:#e8eef7}td:first-child,th:first-child{text-align:left}td:not(:first-child){white-space:nowrap}td.line,th.line{white-space:normal;text-align:left;overflow-wrap:anywhere}figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}summary{cursor:pointer;font-weight:bold;margin:.5em 0}\
figcaption{font-size:.9em;color:#555}code{background:#f4f4f4;padding:.1em .3em}.small{font-size:.85em;color:#555}.nw{white-space:nowrap}";

/// Everything the report shows.
pub struct ReportInput<'a> {
    /// The model.
    pub model: &'a Model,
    /// The scenario text (for its assumptions).
    pub scenario_text: &'a str,
    /// Every arm's numbers as the tables hold them, baseline first.
    pub summaries: &'a [ArmTables],
    /// Paired differences.
    pub differences: &'a [Difference],
    /// The manifest of the folder.
    pub manifest: &'a Manifest,
    /// Which figures were drawn (the report shows the same).
    pub plots: plot::Plots,
    /// Budget sizing.
    pub sizing: &'a [crate::aggregate::sizing::Sizing],
}

/// Renders the report.
pub fn html(r: &ReportInput, lang: Lang) -> String {
    let mut h = String::new();
    let m = r.model;
    let title = if m.title.is_empty() {
        m.name.clone()
    } else {
        m.title.clone()
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        lang.t("nl", "en"),
        esc(&title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p class=\"small\">wijksim {} · {}</p>",
        esc(&title),
        esc(&r.manifest.provenance.wijksim_version),
        esc(&r.manifest.provenance.started_utc)
    );
    first_screen(&mut h, r, lang);
    budget_use(&mut h, r, lang);
    budget_sizing(&mut h, r, lang);
    figures(&mut h, r, lang);
    assumptions(&mut h, r, lang);
    let man = r.manifest;
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>wijksim</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr><tr><th>SHA-256</th><td><code>{}</code></td></tr><tr><th>seed</th><td>{}</td></tr><tr><th>runs</th><td>{}</td></tr><tr><th>engine</th><td>{}{}</td></tr></table><p>{} <code>{}</code></p>",
        lang.t(
            "Verantwoording en reproductie",
            "Manifest and how to reproduce"
        ),
        esc(&man.provenance.wijksim_version),
        lang.t("scenario", "scenario"),
        esc(&man.provenance.scenario_path),
        esc(&man.provenance.scenario_sha256),
        man.seed,
        man.runs,
        man.engine.name(),
        if man.psa { " + PSA" } else { "" },
        lang.t(
            "Dezelfde uitkomsten, tot op de bit, met:",
            "The same results, to the bit, with:"
        ),
        esc(&man.provenance.reproduce)
    );
    h.push_str("</body></html>\n");
    h
}

/// One scope's line of a pilot's answer outside the Wmo, where no budget is designed: the cost
/// difference with the baseline, `bij alle patiënten (1.000 bij de start): kosten +£ 8.746 [...]`.
fn cost_difference(
    lang: Lang,
    m: &Model,
    scope: &crate::model::scope::Scope,
    people: u64,
    spend: &Difference,
    band: &dyn Fn(&Difference) -> String,
) -> String {
    let who = esc(crate::output::lang::people(lang, m));
    let where_ = match scope.kind {
        crate::model::scope::ScopeKind::Region => {
            format!("{} {who}", lang.t("bij alle", "among all"))
        }
        crate::model::scope::ScopeKind::PilotAreas => pilot_areas_phrase(lang, m).to_string(),
        _ => esc(&scope_label(lang, m, scope)),
    };
    format!(
        "{where_} ({} {}): {} {}",
        lang.int(people as f64),
        lang.t("bij de start", "at the start"),
        lang.t("kosten", "cost"),
        band(spend)
    )
}

/// The first screen, in a box: the question, the answer (cost per year per arm, each pilot against
/// the baseline, the KPIs met) and how sure.
fn first_screen(h: &mut String, r: &ReportInput, lang: Lang) {
    let arms: Vec<String> = r
        .summaries
        .iter()
        .map(|s| esc(&arm_label(lang, r.model, &s.arm)))
        .collect();
    let _ = write!(
        h,
        "<div class=\"answer\"><p><b>{}</b> {}</p>",
        lang.t("Vraag:", "Question:"),
        question(lang, r.model, &arms)
    );
    cost_per_year_table(h, r, lang);
    for p in &r.summaries[1..] {
        pilot_answer(h, r, lang, p);
    }
    kpi_table(h, r, lang);
    evaluations_table(h, r, lang);
    how_sure(h, r, lang);
    h.push_str("</div>");
}

/// The cost (in a Wmo model the municipal spend) per year and arm in the region: P50 with P10–P90.
fn cost_per_year_table(h: &mut String, r: &ReportInput, lang: Lang) {
    let m = r.model;
    let lay = &r.summaries[0].layout;
    let _ = write!(
        h,
        "<p><b>{}</b></p><table><tr><th>{}</th>",
        if m.is_wmo() {
            lang.t(
                "Gemeentelijke uitgaven per jaar (P50, P10–P90)",
                "Municipal spend per year (P50, P10–P90)",
            )
        } else {
            lang.t(
                "Kosten per jaar (P50, P10–P90)",
                "Cost per year (P50, P10–P90)",
            )
        },
        lang.t("jaar", "year")
    );
    for sm in r.summaries {
        let _ = write!(h, "<th>{}</th>", esc(&arm_label(lang, r.model, &sm.arm)));
    }
    h.push_str("</tr>");
    for (y, year) in lay.years.iter().enumerate() {
        let _ = write!(h, "<tr><td>{year}</td>");
        for sm in r.summaries {
            let q = crate::aggregate::quantiles(
                sm.account_per_run(REGION, y, Account::MunicipalSpend),
                &[0.1, 0.5, 0.9],
            );
            let _ = write!(
                h,
                "<td>{} <span class=\"small\">({} – {})</span></td>",
                amount(lang, r.model, q[1]),
                amount(lang, r.model, q[0]),
                amount(lang, r.model, q[2])
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

/// An amount in the model's currency as the report shows it, `€ 1.234.567`, kept on one line: a
/// narrow window would otherwise end a line with the currency (or `+€`) and start the next with the
/// number. The CSV files and the console are not touched: they have no lines to wrap.
fn amount(lang: Lang, m: &Model, x: f64) -> String {
    unbroken(&esc(&lang.money(m.currency, x)))
}

/// The same with a sign: `+€ 19.994`, `−£ 421,721`, on one line.
fn signed_amount(lang: Lang, m: &Model, x: f64) -> String {
    unbroken(&esc(&lang.signed_money(m.currency, x)))
}

/// Text (already HTML) that a line never breaks inside (class `nw` of [`CSS`]).
fn unbroken(html: &str) -> String {
    format!("<span class=\"nw\">{html}</span>")
}

/// A paired difference as the answer gives it: the mean with its 90% interval,
/// `+€ 76.104 [P5–P95: −€ 13.367 tot +€ 144.354]`.
fn difference_band(lang: Lang, m: &Model, d: &Difference) -> String {
    format!(
        "{} [P5–P95: {} {} {}]",
        signed_amount(lang, m, d.mean),
        signed_amount(lang, m, d.q[0]),
        lang.t("tot", "to"),
        signed_amount(lang, m, d.q[2])
    )
}

/// A pilot arm's answer in a paragraph: per scope (the pilot areas first, the pilot's own effect,
/// then the region) the paired difference with the baseline, and the chance of overspending its
/// budget. Nothing when no scope has a difference.
fn pilot_answer(h: &mut String, r: &ReportInput, lang: Lang, p: &ArmTables) {
    let m = r.model;
    let lay = &r.summaries[0].layout;
    // Outside the Wmo, where every area is under a regime, the pilot areas and the region are one
    // and shown once.
    let parts: Vec<String> = lay
        .pilot_scope()
        .filter(|_| m.is_wmo() || !every_area_under_a_regime(m))
        .into_iter()
        .chain([REGION])
        .filter_map(|sc| scope_answer(r, lang, p, &lay.scopes[sc]))
        .collect();
    if parts.is_empty() {
        return;
    }
    let overspend = if !p.layout.pools.iter().any(|pool| plot::budgeted(m, pool)) {
        String::new()
    } else {
        format!(
            "; {} {}",
            lang.t("kans op overschrijding", "P(overspend)"),
            lang.pct(p.p_overspend())
        )
    };
    let _ = write!(
        h,
        "<p><b>{}</b>: {}{overspend}.</p>",
        esc(&arm_label(lang, r.model, &p.arm)),
        parts.join("; "),
    );
}

/// One scope's part of a pilot arm's answer: in a Wmo model the difference in care delivered (the
/// effect) and in municipal spend (the budget design), outside it the difference in cost; `None`
/// when the differences have no row for the scope.
fn scope_answer(
    r: &ReportInput,
    lang: Lang,
    p: &ArmTables,
    scope: &crate::model::scope::Scope,
) -> Option<String> {
    let m = r.model;
    let find = |k: Account| {
        crate::aggregate::paired::find(
            r.differences,
            &p.arm,
            scope.kind,
            k.into(),
            crate::aggregate::paired::Period::All,
            "",
        )
    };
    let (care, spend) = (find(Account::CareCost)?, find(Account::MunicipalSpend)?);
    let clients: u64 = scope
        .areas
        .iter()
        .flat_map(|&a| &m.areas[a].initial)
        .map(|&k| u64::from(k))
        .sum();
    let band = |d: &Difference| difference_band(lang, m, d);
    if !m.is_wmo() {
        return Some(cost_difference(lang, m, scope, clients, spend, &band));
    }
    let where_ = match scope.kind {
        crate::model::scope::ScopeKind::PilotAreas => lang
            .t("in de pilotgebieden", "in the pilot areas")
            .to_string(),
        crate::model::scope::ScopeKind::Region => {
            lang.t("in de regio", "in the region").to_string()
        }
        _ => esc(&scope_label(lang, m, scope)),
    };
    Some(format!(
        "{where_} ({} {} {}): {} {} ({}), {} {} ({})",
        lang.int(clients as f64),
        esc(people(lang, m)),
        lang.t("bij de start", "at the start"),
        lang.t("geleverde zorg", "care delivered"),
        band(care),
        lang.t("het effect", "the effect"),
        lang.t("gemeentelijke uitgaven", "municipal spend"),
        band(spend),
        lang.t("het ontwerp van het budget", "the budget design"),
    ))
}

/// The question the report answers, in a sentence: what happens to cost, the people (and KPIs, when
/// the scenario has them) over the horizon under each pilot arm compared with the baseline, each arm by
/// its label (`arms`, escaped, the baseline first). The baseline is called the current provider model
/// only in a Wmo model whose baseline has no label of its own to say so.
fn question(lang: Lang, m: &Model, arms: &[String]) -> String {
    let who = esc(people(lang, m));
    let topics = if m.kpis.is_empty() {
        format!("{} {who}", lang.t("kosten en", "cost and"))
    } else {
        format!(
            "{} {who} {}",
            lang.t("kosten,", "cost,"),
            lang.t("en KPI's", "and KPIs")
        )
    };
    let pilots: Vec<String> = arms[1..].iter().map(|a| format!("<i>{a}</i>")).collect();
    let pilots: Vec<&str> = pilots.iter().map(String::as_str).collect();
    let pilots = listed(&pilots, lang.t("en", "and"));
    let each = if arms.len() > 2 {
        lang.t("elk ", "each ")
    } else {
        ""
    };
    let unlabelled = m
        .arms
        .first()
        .is_some_and(|a| a.nl.is_empty() && a.en.is_empty());
    let explain = if m.is_wmo() && unlabelled {
        lang.t(
            " (het huidige aanbiedersmodel)",
            " (the current provider model)",
        )
    } else {
        ""
    };
    let (from, to) = (lang.month(m.start), lang.month(m.date(m.cycles).plus(-1)));
    if arms.len() < 2 {
        // One arm: nothing to compare with.
        return match lang {
            Lang::Nl => format!(
                "wat gebeurt er van {from} tot en met {to} met {topics} bij <i>{}</i>{explain}?",
                arms[0]
            ),
            Lang::En => format!(
                "what happens to {topics} from {from} to {to} under <i>{}</i>{explain}?",
                arms[0]
            ),
        };
    }
    match lang {
        Lang::Nl => format!(
            "wat gebeurt er van {from} tot en met {to} met {topics} bij {pilots}, {each}vergeleken met <i>{}</i>{explain}?",
            arms[0]
        ),
        Lang::En => format!(
            "what happens to {topics} from {from} to {to} under {pilots}, {each}compared with <i>{}</i>{explain}?",
            arms[0]
        ),
    }
}

/// "How sure": the runs and the Monte Carlo error of the mean, and which uncertainty the bands and
/// intervals hold: chance alone (Monte Carlo variation) or chance and the parameters (PSA).
fn how_sure(h: &mut String, r: &ReportInput, lang: Lang) {
    let _ = write!(h, "<p><b>{}</b> ", lang.t("Hoe zeker:", "How sure:"));
    if r.manifest.engine == crate::engine::Engine::Cohort {
        let _ = write!(
            h,
            "{}</p>",
            lang.t(
                "verwachte waarden van het cohortmodel: geen spreiding van run tot run en geen Monte Carlo-fout. Onzekerheid in de parameters is <b>niet</b> meegenomen: elke parameter staat op zijn gemiddelde.",
                "expected values of the cohort engine: no spread from run to run and no Monte Carlo error. Parameter uncertainty is <b>not</b> included: every parameter is at its mean."
            )
        );
        return;
    }
    let sm = &r.summaries[0];
    let total = sm.account_total_per_run(REGION, Account::MunicipalSpend);
    let mean = total.iter().sum::<f64>() / total.len() as f64;
    let sd = (total.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        / (total.len().max(2) - 1) as f64)
        .sqrt();
    let runs = r.manifest.runs;
    let _ = write!(
        h,
        "{runs} {}. {} {}. {}. ",
        if runs == 1 { "run" } else { "runs" },
        if r.model.is_wmo() {
            lang.t(
                "De Monte Carlo-fout van de gemiddelde gemeentelijke uitgaven van de basis is",
                "The Monte Carlo error of the baseline's mean municipal spend is",
            )
        } else {
            lang.t(
                "De Monte Carlo-fout van de gemiddelde kosten van de basis is",
                "The Monte Carlo error of the baseline's mean cost is",
            )
        },
        amount(lang, r.model, sd / (sm.runs as f64).sqrt()),
        lang.t(
            "De banden tonen de spreiding van run tot run: P5–P95 is het 90%-interval (van het 5e tot het 95e percentiel van de runs), P10–P90 het 80%-interval",
            "The bands show the spread from run to run: P5–P95 is the 90% interval (from the 5th to the 95th percentile of the runs), P10–P90 the 80% interval"
        ),
    );
    let what = if r.manifest.psa {
        lang.t(
            "De banden en intervallen bevatten <b>toeval én onzekerheid in de parameters</b>: de Monte Carlo-variatie (welke {who} instromen, overstappen en uitstromen) en de probabilistische gevoeligheidsanalyse (PSA: elke run trekt de parameters die in het scenario een verdeling hebben).",
            "The bands and intervals hold <b>chance and parameter uncertainty</b>: Monte Carlo variation (which {who} arrive, move and leave) and probabilistic sensitivity analysis (PSA: every run draws the parameters that have a distribution in the scenario).",
        )
    } else if r.model.uncertain {
        lang.t(
            "De banden en intervallen bevatten <b>alleen toeval</b> (Monte Carlo-variatie: welke {who} instromen, overstappen en uitstromen). Onzekerheid in de parameters is <b>niet</b> meegenomen: elke parameter met een verdeling staat op zijn gemiddelde (<code>--no-psa</code>); zonder die optie zijn de banden breder.",
            "The bands and intervals hold <b>chance only</b> (Monte Carlo variation: which {who} arrive, move and leave). Parameter uncertainty is <b>not</b> included: every parameter with a distribution is at its mean (<code>--no-psa</code>); without that option the bands are wider.",
        )
    } else {
        lang.t(
            "De banden en intervallen bevatten <b>alleen toeval</b> (Monte Carlo-variatie: welke {who} instromen, overstappen en uitstromen). Onzekerheid in de parameters is <b>niet</b> meegenomen: het scenario geeft geen enkele parameter een verdeling.",
            "The bands and intervals hold <b>chance only</b> (Monte Carlo variation: which {who} arrive, move and leave). Parameter uncertainty is <b>not</b> included: the scenario gives no parameter a distribution.",
        )
    };
    // In the words of the scenario: cliënten, patiënten, personen.
    let what = what.replace("{who}", people(lang, r.model));
    let _ = write!(h, "{what}</p>");
}

/// The KPIs: per scope (the pilot areas first) and KPI, the chance that the target is met in the last
/// contract year with a target, per arm, with the mean.
fn kpi_table(h: &mut String, r: &ReportInput, lang: Lang) {
    let m = r.model;
    if m.kpis.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<p><b>{}</b></p><table><tr><th>KPI</th><th>{}</th><th>{}</th>",
        lang.t(
            "KPI's: kans dat het doel wordt gehaald (laatste contractjaar met een doel)",
            "KPIs: probability that the target is met (last contract year with a target)"
        ),
        lang.t("jaar", "year"),
        lang.t("doel", "target")
    );
    for sm in r.summaries {
        let _ = write!(h, "<th>{}</th>", esc(&arm_label(lang, r.model, &sm.arm)));
    }
    h.push_str("</tr>");
    // One block of rows per scope, the pilot areas first.
    let lay = &r.summaries[0].layout;
    let mut order: Vec<usize> = lay.pilot_scope().into_iter().collect();
    order.extend((0..lay.scopes.len()).filter(|&sc| Some(sc) != lay.pilot_scope()));
    for sc in order {
        if !m
            .kpis
            .iter()
            .any(|k| k.scopes.contains(&sc) && !k.is_evaluations())
        {
            continue;
        }
        let _ = write!(
            h,
            "<tr><th colspan=\"{}\" class=\"scope\">{}</th></tr>",
            3 + r.summaries.len(),
            esc(&scope_label(lang, m, &lay.scopes[sc]))
        );
        for k in 0..m.kpis.len() {
            kpi_row(h, r, lang, k, sc);
        }
    }
    h.push_str("</table>");
}

/// The row of KPI `k` in scope `sc`, when the KPI is shown there: its name, contract year and
/// target, and per arm the chance that the target is met with the mean.
fn kpi_row(h: &mut String, r: &ReportInput, lang: Lang, k: usize, sc: usize) {
    let m = r.model;
    let kpi = &m.kpis[k];
    let Some((i, y)) = kpi.shown_in(sc) else {
        return;
    };
    let label = match lang {
        Lang::Nl if !kpi.nl.is_empty() => &kpi.nl,
        Lang::En if !kpi.en.is_empty() => &kpi.en,
        _ => &kpi.name,
    };
    // A count is a number of clients, the other kinds a share.
    let value = |x: f64, decimals: usize| {
        if !kpi.is_count() {
            lang.pct(x)
        } else if (x - x.round()).abs() < 1e-9 {
            lang.int(x)
        } else {
            lang.decimal(x, decimals)
        }
    };
    let _ = write!(
        h,
        "<tr><td>{}</td><td>{}</td><td>{}</td>",
        esc(label),
        y + 1,
        value(kpi.targets[y].unwrap_or(0.0), 1)
    );
    for sm in r.summaries {
        let met = kpi.p_met(y, sm.kpi_per_run(m, k, i, y));
        let _ = write!(
            h,
            "<td>{} <span class=\"small\">({} {})</span></td>",
            lang.pct(met),
            lang.t("gem.", "mean"),
            value(sm.kpi(m, k, i, y, KpiCell::Value).mean, 1)
        );
    }
    h.push_str("</tr>");
}

/// The evaluations of `evaluations` KPIs per contract year in their first scope (the region by
/// default): due, and held at the planned share (an assumption, not simulated); mean over runs per
/// arm. Their cost is on the KPI's cost line.
fn evaluations_table(h: &mut String, r: &ReportInput, lang: Lang) {
    use crate::model::kpi::KpiKind;
    let m = r.model;
    for (k, kpi) in m.kpis.iter().enumerate() {
        let KpiKind::Evaluations { planned, line, .. } = &kpi.kind else {
            continue;
        };
        let label = match lang {
            Lang::Nl if !kpi.nl.is_empty() => &kpi.nl,
            Lang::En if !kpi.en.is_empty() => &kpi.en,
            _ => &kpi.name,
        };
        let scope = &r.summaries[0].layout.scopes[kpi.scopes[0]];
        let _ = write!(
            h,
            "<p><b>{}</b> ({}): {} {} {}{}.</p><table><tr><th>{}</th>",
            esc(label),
            esc(&scope_label(lang, m, scope)),
            lang.t(
                "evaluaties die nodig zijn en die worden gehouden bij het geplande aandeel van",
                "evaluations due, and held at the planned share of"
            ),
            lang.pct(*planned),
            lang.t(
                "(een aanname: het model simuleert niet of ze plaatsvinden)",
                "(an assumption: the model does not simulate whether they take place)"
            ),
            match line {
                Some(l) => format!(
                    "; {} {}",
                    lang.t(
                        "de kosten staan op kostenpost",
                        "their cost is on cost line"
                    ),
                    esc(&m.lines[*l])
                ),
                None => String::new(),
            },
            lang.t("contractjaar", "contract year"),
        );
        for sm in r.summaries {
            let _ = write!(
                h,
                "<th>{} ({})</th><th>{} ({})</th>",
                lang.t("nodig", "due"),
                esc(&arm_label(lang, r.model, &sm.arm)),
                lang.t("gehouden", "held"),
                esc(&arm_label(lang, r.model, &sm.arm))
            );
        }
        h.push_str("</tr>");
        for y in 0..kpi.years() {
            let _ = write!(h, "<tr><td>{}</td>", y + 1);
            for sm in r.summaries {
                for cell in KpiCell::EVALUATION {
                    let st = sm.kpi(m, k, 0, y, cell);
                    let _ = write!(h, "<td>{}</td>", lang.decimal(st.mean, 0));
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }
}

/// A figure as inline SVG with its caption.
pub(crate) fn figure<F: plot::Figure>(h: &mut String, fig: &F, caption: &str) {
    if let Ok(svg) = plot::svg(fig) {
        let _ = write!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            svg.trim_start_matches(|c| c != '<'),
            esc(caption)
        );
    }
}

/// The pilot budgets as they went: per pilot arm, pool and year the budget, the spend, the chance of
/// overspending and how the year was settled (means over runs); then, where capacity limits make
/// clients wait, the waiting clients at year end per arm.
fn budget_use(h: &mut String, r: &ReportInput, lang: Lang) {
    let m = r.model;
    let with_pools: Vec<(usize, &ArmTables)> = r
        .summaries
        .iter()
        .enumerate()
        .filter(|(_, sm)| sm.layout.pools.iter().any(|pool| plot::budgeted(m, pool)))
        .collect();
    let waiting = m.waiting_state.filter(|_| !m.capacities.is_empty());
    if with_pools.is_empty() && waiting.is_none() {
        return;
    }
    let _ = write!(
        h,
        "<h2>{}</h2><p>{}</p>",
        lang.t("Budget in de pilot: gebruik en afrekening", "The pilot's budget: use and settlement"),
        lang.t(
            "Per budgethouder (pool) en jaar, gemiddeld over de runs. Een budget weigert nooit nodige zorg (zorgplicht): een overschrijding vult de gemeente aan (binnen een bandbreedte draagt de budgethouder die zelf), een overschot gaat terug, blijft als reserve bij de budgethouder of wordt geherinvesteerd in preventie. Aan het eind van de pilot gaat wat over is terug.",
            "Per budget holder (pool) and year, means over runs. A budget never refuses needed care (zorgplicht): the municipality tops up an overspend (within a bandbreedte the holder carries it), a surplus is returned, kept as the holder's reserve, or reinvested in prevention. At the end of the pilot what is left is returned."
        )
    );
    if !with_pools.is_empty() {
        budget_table(h, r, lang, &with_pools);
        budget_figures(h, r, lang, &with_pools);
    }
    if let Some(w) = waiting {
        waiting_table(h, r, lang, w);
    }
}

/// The budget table: per arm with budget pools (`with_pools`, by arm index), pool and year of its
/// plan, the budget, the spend with P5–P95, the chance of overspending and the settlement.
fn budget_table(h: &mut String, r: &ReportInput, lang: Lang, with_pools: &[(usize, &ArmTables)]) {
    let m = r.model;
    // The holder carries part of an overspend only under a bandbreedte.
    let banded = m.regimes.iter().any(|rg| rg.risk_sharing.is_some());
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>budget</th><th>{}</th><th>{}</th><th>{}</th>{}<th>{}</th><th>{}</th></tr>",
        lang.t("budgethouder (variant)", "budget holder (arm)"),
        lang.t("jaar", "year"),
        lang.t("besteed (P5–P95)", "spent (P5–P95)"),
        lang.t("kans op overschrijding", "P(overspend)"),
        lang.t("aanvulling gemeente", "top-up"),
        if banded {
            format!(
                "<th>{}</th>",
                lang.t("draagt budgethouder", "holder carries")
            )
        } else {
            String::new()
        },
        lang.t("reserve meegenomen", "reserve carried over"),
        lang.t("terug / geherinvesteerd", "refunded / reinvested"),
    );
    for (a, sm) in with_pools {
        let lay = &sm.layout;
        for (i, pool) in lay.pools.iter().enumerate() {
            if !plot::budgeted(m, pool) {
                continue;
            }
            for y in m.plan_years(lay.pool_plan(m, *a, i)) {
                budget_row(h, r, lang, sm, i, y, banded);
            }
        }
    }
    h.push_str("</table>");
}

/// The budget table's row of pool `i` of arm `sm` in year index `y` (with the holder's share of an
/// overspend when some regime has a bandbreedte, `banded`).
fn budget_row(
    h: &mut String,
    r: &ReportInput,
    lang: Lang,
    sm: &ArmTables,
    i: usize,
    y: usize,
    banded: bool,
) {
    use crate::aggregate::BudgetMeasure as B;
    let lay = &sm.layout;
    let pool = &lay.pools[i];
    let st = |k: B| sm.budget(i, y, k);
    let carries = if banded {
        format!(
            "<td>{}</td>",
            amount(lang, r.model, st(B::HolderCarries).mean)
        )
    } else {
        String::new()
    };
    let _ = write!(
        h,
        "<tr><td>{}<br><span class=\"small\">{}</span></td><td>{}</td><td>{}</td><td>{}<br><span class=\"small\">{} – {}</span></td><td>{}</td><td>{}</td>{carries}<td>{}</td><td>{} / {}</td></tr>",
        esc(&pool.name),
        esc(&arm_label(lang, r.model, &sm.arm)),
        lay.years[y],
        amount(lang, r.model, st(B::Budget).mean),
        amount(lang, r.model, st(B::Spent).mean),
        amount(lang, r.model, st(B::Spent).q[0]),
        amount(lang, r.model, st(B::Spent).q[4]),
        lang.pct(st(B::Overspent).mean),
        amount(lang, r.model, st(B::TopUp).mean),
        amount(lang, r.model, st(B::CarriedOver).mean),
        amount(lang, r.model, st(B::Refund).mean),
        amount(lang, r.model, st(B::Reinvested).mean),
    );
}

/// A budget-use figure per budgeted pool of each drawn arm with budget pools.
fn budget_figures(h: &mut String, r: &ReportInput, lang: Lang, with_pools: &[(usize, &ArmTables)]) {
    let m = r.model;
    let drawn = r.plots.arms(r.summaries.len());
    for (_, sm) in with_pools.iter().filter(|(a, _)| *a < drawn) {
        for (i, pool) in sm.layout.pools.iter().enumerate() {
            if !plot::budgeted(m, pool) {
                continue;
            }
            figure(
                h,
                &BudgetUse {
                    model: m,
                    summary: sm,
                    pool: i,
                    lang,
                },
                &format!(
                    "{} {} ({}): {}",
                    lang.t("Budgetgebruik", "Budget use"),
                    pool.name,
                    arm_label(lang, m, &sm.arm),
                    lang.t(
                        "budget, besteed (mediaan, P5–P95), gemiddelde overschrijding en reserve per jaar; daaronder de kans op overschrijding per jaar tegen de aanvaarde kans α.",
                        "budget, spent (median, P5–P95), mean overspend and reserve per year; below, the chance of overspending per year against the accepted chance α."
                    )
                ),
            );
        }
    }
}

/// Where capacity limits make clients wait: the clients waiting in state `w` at the end of each year,
/// per arm (mean, P5–P95).
fn waiting_table(h: &mut String, r: &ReportInput, lang: Lang, w: usize) {
    let m = r.model;
    let names: Vec<String> = m.capacities.iter().map(|c| esc(&c.name)).collect();
    let _ = write!(
        h,
        "<p>{} ({}): {}</p><table><tr><th>{}</th>",
        lang.t("Capaciteit", "Capacity"),
        names.join(", "),
        lang.t(
            "cliënten die wachten op zorg omdat het team vol is, eind december (gemiddeld, P5–P95). Wachten is geen zelfredzaamheid: het telt met een eigen gewicht in de uitkomst.",
            "clients waiting for care because the team is full, at the end of December (mean, P5–P95). Waiting is not self-reliance: it counts with its own weight in the outcome."
        ),
        lang.t("variant", "arm"),
    );
    let lay = &r.summaries[0].layout;
    for year in &lay.years {
        let _ = write!(h, "<th>{year}</th>");
    }
    h.push_str("</tr>");
    for sm in r.summaries {
        let _ = write!(
            h,
            "<tr><td>{}</td>",
            esc(&arm_label(lang, r.model, &sm.arm))
        );
        for y in 0..sm.layout.years.len() {
            let last = (0..sm.layout.cycles)
                .rfind(|&c| m.year_index(c as u32) == y)
                .unwrap_or(0);
            let st = sm.caseload(REGION, last, w);
            let _ = write!(
                h,
                "<td>{} <span class=\"small\">({}–{})</span></td>",
                lang.number(st.mean, 1),
                lang.number(st.q[0], 0),
                lang.number(st.q[4], 0)
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

/// The budget planner's answer: per municipality's pilot areas (pooled) and year, the budget that keeps
/// P(overspend) at or below α, with a sentence for the first such year. Outside the Wmo only when some
/// regime has a budget: a treatment strategy has none to size.
fn budget_sizing(h: &mut String, r: &ReportInput, lang: Lang) {
    let m = r.model;
    if !m.is_wmo()
        && m.regimes
            .iter()
            .all(|rg| rg.budget == crate::model::regime::BudgetRule::Unlimited)
    {
        return;
    }
    let pools: Vec<&crate::aggregate::sizing::Sizing> = r
        .sizing
        .iter()
        .filter(|s| s.scope == "municipality")
        .collect();
    let Some(first) = pools.first() else {
        return;
    };
    let pct = |x: f64| lang.pct(x);
    let _ = write!(
        h,
        "<h2>{}</h2><p>{}</p>",
        lang.t(
            "Budget: hoe groot moet het zijn?",
            "Budget: how large must it be?"
        ),
        match lang {
            Lang::Nl => format!(
                "Om de kans op overschrijding in {} onder {} te houden, hebben de pilotgebieden in {} samen {} nodig, {} boven de verwachte uitgaven van {}. Berekend uit de runs van de basis: wat de budgethouder onder het aanbiedersmodel zou uitgeven (zorg op de gedekte regels tegen tarief, plus de vaste kosten).",
                first.year,
                pct(first.alpha),
                esc(&first.name),
                amount(lang, r.model, first.needed),
                pct(first.above_expected()),
                amount(lang, r.model, first.expected)
            ),
            Lang::En => format!(
                "To keep the chance of overspending in {} under {}, the pilot areas of {} together need {}, {} above their expected spend of {}. From the baseline's runs: what the budget holder would spend under the provider model (care on the covered lines at the tariffs, plus the fixed costs).",
                first.year,
                pct(first.alpha),
                esc(&first.name),
                amount(lang, r.model, first.needed),
                pct(first.above_expected()),
                amount(lang, r.model, first.expected)
            ),
        }
    );
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>P50</th><th>P90</th><th>P95</th><th>{}</th><th>{}</th></tr>",
        lang.t("gemeente", "municipality"),
        lang.t("jaar", "year"),
        lang.t("verwacht", "expected"),
        match lang {
            Lang::Nl => format!("nodig (kans op overschrijding {})", pct(first.alpha)),
            Lang::En => format!("needed (P(overspend) {})", pct(first.alpha)),
        },
        lang.t("budget in de pilot", "the pilot's budget"),
    );
    for s in pools {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} <span class=\"small\">(+{})</span></td><td>{}</td></tr>",
            esc(&s.name),
            s.year,
            amount(lang, r.model, s.expected),
            amount(lang, r.model, s.q[0]),
            amount(lang, r.model, s.q[1]),
            amount(lang, r.model, s.q[2]),
            amount(lang, r.model, s.needed),
            pct(s.above_expected()),
            s.pilot_budget
                .map_or("–".to_string(), |b| amount(lang, r.model, b)),
        );
    }
    h.push_str("</table>");
}

/// The figures: of the pilot areas first (when there are any), then of the region: the cost per
/// year, per pilot the paired differences, the KPIs and per arm the caseload by state.
fn figures(h: &mut String, r: &ReportInput, lang: Lang) {
    let m = r.model;
    let _ = write!(h, "<h2>{}</h2>", lang.t("Figuren", "Figures"));
    let drawn = &r.summaries[..r.plots.arms(r.summaries.len())];
    figures_note(h, lang, drawn.len(), r.summaries.len());
    if drawn.is_empty() {
        return;
    }
    let lay = &drawn[0].layout;
    // Which KPI charts show the pilot areas: those go with the pilot areas' figures.
    let (pilot_kpis, other_kpis): (Vec<usize>, Vec<usize>) = (0..m.kpis.len())
        .filter(|&k| !m.kpis[k].is_evaluations())
        .partition(|&k| {
            let i = plot::kpi_scope(m, k, lay);
            lay.pilot_scope().is_some() && m.kpis[k].scopes.get(i).copied() == lay.pilot_scope()
        });
    if let Some(sc) = lay.pilot_scope() {
        pilot_figures(h, r, lang, drawn, sc);
        for &k in &pilot_kpis {
            kpi_figure(h, m, lang, drawn, k);
        }
        let _ = write!(
            h,
            "<h3>{}</h3>",
            esc(&scope_label(lang, m, &lay.scopes[REGION]))
        );
    }
    cost_figures(h, m, lang, drawn);
    for &k in &other_kpis {
        kpi_figure(h, m, lang, drawn, k);
    }
    caseload_figures(h, m, lang, drawn);
}

/// Why the report has no figures (`--plots none`) or figures of only the first `drawn` of `all` arms.
fn figures_note(h: &mut String, lang: Lang, drawn: usize, all: usize) {
    if drawn == 0 {
        let _ = write!(
            h,
            "<p>{}</p>",
            lang.t(
                "Geen figuren: deze map is gemaakt met <code>--plots none</code>. Alle getallen staan in de tabellen; <code>wijksim report MAP --plots auto</code> tekent ze.",
                "No figures: this folder was made with <code>--plots none</code>. Every number is in the tables; <code>wijksim report FOLDER --plots auto</code> draws them."
            )
        );
    } else if drawn < all {
        let _ = write!(
            h,
            "<p>{}</p>",
            match lang {
                Lang::Nl => format!(
                    "Figuren voor {drawn} van de {all} varianten: de basis en de eerste {} pilots, in de volgorde van het scenario. De tabellen hierboven en de CSV-bestanden bevatten alle varianten; <code>--plots all</code> tekent ze allemaal.",
                    drawn - 1
                ),
                Lang::En => format!(
                    "Figures for {drawn} of the {all} arms: the baseline and the first {} pilots, in scenario order. The tables above and the CSV files hold every arm; <code>--plots all</code> draws them all.",
                    drawn - 1
                ),
            }
        );
    }
}

/// The chart of KPI `k` per contract year against its target, the drawn arms together, captioned
/// with the scope it shows.
fn kpi_figure(h: &mut String, m: &Model, lang: Lang, drawn: &[ArmTables], k: usize) {
    let lay = &drawn[0].layout;
    let i = plot::kpi_scope(m, k, lay);
    let scope = m.kpis[k]
        .scopes
        .get(i)
        .map_or(String::new(), |&sc| scope_label(lang, m, &lay.scopes[sc]));
    figure(
        h,
        &KpiChart {
            model: m,
            summaries: drawn,
            kpi: k,
            lang,
        },
        &format!(
            "{scope}: {}",
            lang.t(
                "KPI per contractjaar tegen het doel (zwart), gemiddelde en P5–P95 over de runs per variant.",
                "KPI per contract year against its target (black), mean and P5–P95 over runs per arm.",
            ),
        ),
    );
}

/// The region's cost figures: the cost (municipal spend) per year per arm, and per drawn pilot the
/// paired difference in care cost per year and its distribution over runs.
fn cost_figures(h: &mut String, m: &Model, lang: Lang, drawn: &[ArmTables]) {
    figure(
        h,
        &CostPerYear {
            model: m,
            summaries: drawn,
            lang,
        },
        if m.is_wmo() {
            lang.t(
                "Gemeentelijke uitgaven per jaar per variant (rekeningen, budgetten en aanvullingen, min terugbetalingen): mediaan en P10–P90 over de runs.",
                "Municipal spend per year per arm (bills, budgets and top-ups, less refunds): median and P10–P90 over runs.",
            )
        } else {
            lang.t(
                "Kosten per jaar per variant: mediaan en P10–P90 over de runs.",
                "Cost per year per arm: median and P10–P90 over runs.",
            )
        },
    );
    let Some((base, pilots)) = drawn.split_first() else {
        return;
    };
    for p in pilots {
        figure(
            h,
            &CostDifference {
                model: m,
                base,
                pilot: p,
                lang,
            },
            &if m.is_wmo() {
                lang.t(
                    "Verschil in geleverde zorg (tegen tarief) pilot − basis per jaar, gepaard per run: het effect van de pilot.",
                    "Difference in care delivered (at tariffs) pilot − baseline per year, paired by run: the pilot's effect.",
                )
                .to_string()
            } else {
                format!(
                    "{} {} − {} {}",
                    lang.t("Verschil in zorgkosten", "Difference in care cost"),
                    arm_label(lang, m, &p.arm),
                    arm_label(lang, m, &base.arm),
                    lang.t("per jaar, gepaard per run.", "per year, paired by run.")
                )
            },
        );
        figure(
            h,
            &DifferenceHistogram {
                model: m,
                base,
                pilot: p,
                lang,
            },
            if m.is_wmo() {
                lang.t(
                    "Verdeling van het totale verschil in geleverde zorg over de runs.",
                    "Distribution of the total difference in care delivered over runs.",
                )
            } else {
                lang.t(
                    "Verdeling van het totale verschil in zorgkosten over de runs.",
                    "Distribution of the total difference in care cost over runs.",
                )
            },
        );
    }
}

/// The region's caseload per drawn arm: stacked by state, and a fan chart per state that is not
/// absorbing.
fn caseload_figures(h: &mut String, m: &Model, lang: Lang, drawn: &[ArmTables]) {
    for sm in drawn {
        figure(
            h,
            &Stacked {
                model: m,
                summary: sm,
                scope: REGION,
                top: None,
                lang,
            },
            &format!("{} ({}).", by_state(lang, m), arm_label(lang, m, &sm.arm)),
        );
        for s in (0..m.n_states()).filter(|&s| !m.states[s].absorbing) {
            figure(
                h,
                &Fan {
                    model: m,
                    summary: sm,
                    state: s,
                    scope: REGION,
                    lang,
                },
                &format!(
                    "{}: {} ({})",
                    lang.t("Waaier", "Fan chart"),
                    state_name(lang, &m.states[s]),
                    arm_label(lang, m, &sm.arm)
                ),
            );
        }
    }
}

/// Names as a list in words: `a`, `a en b`, `a, b en c`.
fn listed(names: &[&str], and: &str) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

/// A state's name in the language, else its code.
fn state_name(lang: Lang, st: &crate::model::State) -> &str {
    match lang {
        Lang::Nl if !st.nl.is_empty() => &st.nl,
        Lang::En if !st.en.is_empty() => &st.en,
        _ => &st.code,
    }
}

/// The figures of the pilot areas together (scope `sc`): what they are, a fan chart per state with
/// the drawn arms overlaid, the stacked caseload per arm on one scale, and per pilot arm the paired
/// difference in caseload by state and year.
fn pilot_figures(h: &mut String, r: &ReportInput, lang: Lang, drawn: &[ArmTables], sc: usize) {
    let m = r.model;
    pilot_areas_intro(h, m, lang, &drawn[0].layout.scopes[sc]);
    pilot_fans(h, m, lang, drawn, sc);
    let top = plot::stacked_top(m, drawn, sc);
    for sm in drawn {
        figure(
            h,
            &Stacked {
                model: m,
                summary: sm,
                scope: sc,
                top: Some(top),
                lang,
            },
            &format!(
                "{} {} {}, {} ({}); {}",
                by_state(lang, m),
                lang.t("in", "in"),
                pilot_areas_phrase(lang, m),
                lang.t("gemiddeld over de runs", "mean over runs"),
                arm_label(lang, m, &sm.arm),
                lang.t(
                    "elke variant op dezelfde schaal.",
                    "every arm on the same scale."
                )
            ),
        );
    }
    caseload_difference_figures(h, r, lang, drawn, sc);
    per_pilot_area(h, r, lang, drawn);
}

/// The people at the start in `areas`, in the states that are not absorbing.
fn people_at_start(m: &Model, areas: impl Iterator<Item = usize>) -> u64 {
    areas
        .flat_map(|a| m.areas[a].initial.iter().zip(&m.states))
        .filter(|(_, st)| !st.absorbing)
        .map(|(&n, _)| u64::from(n))
        .sum()
}

/// The heading of the pilot areas' figures and what the areas are: their names and people at the
/// start, and why they have figures of their own.
fn pilot_areas_intro(h: &mut String, m: &Model, lang: Lang, scope: &crate::model::scope::Scope) {
    let here = people_at_start(m, scope.areas.iter().copied());
    let all = people_at_start(m, 0..m.areas.len());
    let names: Vec<String> = scope.areas.iter().map(|&a| esc(&m.areas[a].name)).collect();
    let _ = write!(
        h,
        "<h3>{}</h3><p>{}</p>",
        esc(&scope_label(lang, m, scope)),
        match lang {
            _ if !m.is_wmo() => regime_areas_text(lang, m, &names, here, all),
            Lang::Nl => format!(
                "De gebieden die een variant een budget geeft, samen: {} ({} van de {} {} bij de start). In de figuren van de hele regio verdwijnt hun verschil; hier staan de varianten over elkaar of op één schaal.",
                names.join(", "),
                lang.int(here as f64),
                lang.int(all as f64),
                esc(people(lang, m))
            ),
            Lang::En => format!(
                "The areas some arm gives a budget, together: {} ({} of the {} {} at the start). In the region's figures their difference disappears; here the arms are overlaid or on one scale.",
                names.join(", "),
                lang.int(here as f64),
                lang.int(all as f64),
                esc(people(lang, m))
            ),
        }
    );
}

/// A fan chart per state that is not absorbing in the pilot areas (scope `sc`), the drawn arms
/// overlaid.
fn pilot_fans(h: &mut String, m: &Model, lang: Lang, drawn: &[ArmTables], sc: usize) {
    let labels: Vec<String> = plot::overlaid(drawn)
        .iter()
        .map(|sm| arm_label(lang, m, &sm.arm))
        .collect();
    let arms: Vec<&str> = labels.iter().map(String::as_str).collect();
    for s in (0..m.n_states()).filter(|&s| !m.states[s].absorbing) {
        figure(
            h,
            &plot::FanArms {
                model: m,
                summaries: plot::overlaid(drawn),
                state: s,
                scope: sc,
                lang,
            },
            &match lang {
                Lang::Nl => format!(
                    "{} in {} in {}, {} over elkaar: mediaan (lijn) en P5–P95 (band) over de runs.",
                    people_title(lang, m),
                    state_name(lang, &m.states[s]),
                    pilot_areas_phrase(lang, m),
                    listed(&arms, "en")
                ),
                Lang::En => format!(
                    "{} in {} in {}, {} overlaid: median (line) and P5–P95 (band) over runs.",
                    people_title(lang, m),
                    state_name(lang, &m.states[s]),
                    pilot_areas_phrase(lang, m),
                    listed(&arms, "and")
                ),
            },
        );
    }
}

/// Per drawn pilot arm with caseload differences in the pilot areas (scope `sc`): the paired
/// difference in caseload with the baseline by state and calendar year.
fn caseload_difference_figures(
    h: &mut String,
    r: &ReportInput,
    lang: Lang,
    drawn: &[ArmTables],
    sc: usize,
) {
    let m = r.model;
    let lay = &drawn[0].layout;
    let Some((base, pilots)) = drawn.split_first() else {
        return;
    };
    for p in pilots {
        if plot::caseload_differences(m, r.differences, &p.arm, &lay.scopes[sc], &lay.years)
            .is_empty()
        {
            continue;
        }
        figure(
            h,
            &plot::CaseloadDifference {
                model: m,
                base,
                pilot: p,
                differences: r.differences,
                scope: sc,
                lang,
            },
            &caseload_difference_caption(lang, m, base, p),
        );
    }
}

/// The caption of a pilot's caseload difference with the baseline in the pilot areas.
fn caseload_difference_caption(lang: Lang, m: &Model, base: &ArmTables, p: &ArmTables) -> String {
    match lang {
        Lang::Nl => format!(
            "Verschil in {who} {} − {} in {where_}, per toestand en kalenderjaar{months}, gepaard per run: gemiddelde en P5–P95. Onder nul heeft {pilot} minder {who} in die toestand.",
            arm_label(lang, m, &p.arm),
            arm_label(lang, m, &base.arm),
            who = people(lang, m),
            where_ = pilot_areas_phrase(lang, m),
            pilot = if m.is_wmo() {
                "de pilot".to_string()
            } else {
                arm_label(lang, m, &p.arm)
            },
            months = if m.cycle_months < 12 {
                " (gemiddelde over de maanden van het jaar)"
            } else {
                ""
            }
        ),
        Lang::En => format!(
            "Difference in {who} {} − {} in {where_}, per state and calendar year{months}, paired by run: mean and P5–P95. Below zero {pilot} has fewer {who} in that state.",
            arm_label(lang, m, &p.arm),
            arm_label(lang, m, &base.arm),
            who = people(lang, m),
            where_ = pilot_areas_phrase(lang, m),
            pilot = if m.is_wmo() {
                "the pilot".to_string()
            } else {
                arm_label(lang, m, &p.arm)
            },
            months = if m.cycle_months < 12 {
                " (mean over the year's months)"
            } else {
                ""
            }
        ),
    }
}

/// What the areas under a regime are outside the Wmo, where no arm is a pilot with a budget: their
/// names and people at the start, and (when they are not every area) why they have figures of their
/// own.
fn regime_areas_text(lang: Lang, m: &Model, names: &[String], here: u64, all: u64) -> String {
    let who = esc(people(lang, m));
    let why = if every_area_under_a_regime(m) {
        lang.t(
            "Hier staan de varianten over elkaar of op één schaal.",
            "Here the arms are overlaid or on one scale.",
        )
        .to_string()
    } else {
        format!(
            "{} {who} {}",
            lang.t("In de figuren van alle", "In the figures of all"),
            lang.t(
                "verdwijnt hun verschil; hier staan de varianten over elkaar of op één schaal.",
                "their difference disappears; here the arms are overlaid or on one scale."
            )
        )
    };
    format!(
        "{}: {} ({} {} {} {who} {}). {why}",
        lang.t(
            "De gebieden waar een variant een regime toepast, samen",
            "The areas where some arm applies a regime, together"
        ),
        names.join(", "),
        lang.int(here as f64),
        lang.t("van de", "of the"),
        lang.int(all as f64),
        lang.t("bij de start", "at the start"),
    )
}

/// Each pilot area on its own (when there are several): its caseload per state with the arms
/// overlaid, and its stacked caseload per arm, folded under the area's name.
fn per_pilot_area(h: &mut String, r: &ReportInput, lang: Lang, drawn: &[ArmTables]) {
    let m = r.model;
    let lay = &drawn[0].layout;
    let areas = lay.pilot_area_scopes();
    if areas.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h3>{}</h3><p>{}</p>",
        if m.is_wmo() {
            lang.t("Per pilotgebied", "Per pilot area")
        } else {
            lang.t("Per gebied", "Per area")
        },
        if m.is_wmo() {
            lang.t(
                "Elk pilotgebied apart (klik om te openen). In een klein gebied zijn de aantallen klein en de banden breed: een verschil tussen de varianten zegt per gebied weinig, samen meer.",
                "Each pilot area on its own (click to open). In a small area the counts are small and the bands wide: a difference between the arms says little per area, more together."
            )
        } else {
            lang.t(
                "Elk gebied met een regime apart (klik om te openen). In een klein gebied zijn de aantallen klein en de banden breed: een verschil tussen de varianten zegt per gebied weinig, samen meer.",
                "Each area under a regime on its own (click to open). In a small area the counts are small and the bands wide: a difference between the arms says little per area, more together."
            )
        }
    );
    for sc in areas {
        pilot_area_details(h, m, lang, drawn, sc);
    }
}

/// One pilot area (scope `sc`), folded under its name and people at the start: its caseload per
/// state with the arms overlaid, and its stacked caseload per arm.
fn pilot_area_details(h: &mut String, m: &Model, lang: Lang, drawn: &[ArmTables], sc: usize) {
    let arms = plot::overlaid(drawn);
    let scope = &drawn[0].layout.scopes[sc];
    let clients = people_at_start(m, scope.areas.iter().copied());
    let _ = write!(
        h,
        "<details><summary>{} ({} {} {})</summary>",
        esc(&scope_label(lang, m, scope)),
        lang.int(clients as f64),
        esc(people(lang, m)),
        lang.t("bij de start", "at the start")
    );
    figure(
        h,
        &plot::AreaFans {
            model: m,
            summaries: arms,
            scope: sc,
            lang,
        },
        &format!(
            "{} {}",
            people_title(lang, m),
            lang.t(
                "per toestand, de varianten over elkaar: mediaan (lijn) en P5–P95 (band) over de runs; elke toestand op een eigen schaal.",
                "per state, the arms overlaid: median (line) and P5–P95 (band) over runs; each state on its own scale.",
            )
        ),
    );
    figure(
        h,
        &plot::AreaStacked {
            model: m,
            summaries: arms,
            scope: sc,
            lang,
        },
        &format!(
            "{}, {}",
            by_state(lang, m),
            lang.t(
                "gemiddeld over de runs, elke variant op dezelfde schaal.",
                "mean over runs, every arm on the same scale."
            )
        ),
    );
    h.push_str("</details>");
}

fn assumptions(h: &mut String, r: &ReportInput, lang: Lang) {
    if !r.scenario_text.contains("ASSUMPTION") {
        let _ = write!(
            h,
            "<h2>{}</h2><p>{}</p>",
            lang.t("Aannames", "Assumptions"),
            lang.t(
                "Het scenario markeert geen waarde als aanname (ASSUMPTION): elke waarde staat in het scenariobestand met haar bron.",
                "The scenario labels no value as an ASSUMPTION: every value carries its source in the scenario file."
            )
        );
        return;
    }
    let _ = write!(
        h,
        "<h2>{}</h2><p>{}</p><table><tr><th>{}</th><th class=\"line\">{}</th></tr>",
        lang.t("Aannames", "Assumptions"),
        lang.t("Elke waarde die het scenario als aanname (ASSUMPTION) markeert, met de regel in het scenariobestand. Waarden met een bron staan daar met hun bron.", "Every value the scenario labels as an ASSUMPTION, with its line in the scenario file. Values with a source carry it there."),
        lang.t("regel", "line"),
        lang.t("scenario", "scenario")
    );
    for (i, line) in r.scenario_text.lines().enumerate() {
        if line.contains("ASSUMPTION") {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"line\"><code>{}</code></td></tr>",
                i + 1,
                esc(line.trim())
            );
        }
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::{CSS, Lang};

    /// No page is wider than the window: a table is its own sideways-scrolling box no wider than the
    /// text, a figure scales down to the text's width, and a quoted scenario line wraps (the report's
    /// assumptions once made the page 1,180 pixels wide in a 1,000-pixel window).
    #[test]
    fn wide_tables_scroll_in_their_own_box_and_figures_scale() {
        let rule = |selector: &str| {
            CSS.split('}')
                .map(|r| r.rsplit_once('{').map_or(("", ""), |(s, b)| (s, b)))
                .find(|(s, _)| s.split(',').any(|x| x.trim() == selector))
                .map_or(String::new(), |(_, body)| body.to_string())
        };
        let table = rule("table");
        for decl in ["display:block", "max-width:100%", "overflow-x:auto"] {
            assert!(table.contains(decl), "table{{{table}}} lacks {decl}");
        }
        assert!(rule("figure svg").contains("max-width:100%"));
        assert!(rule("td.line").contains("white-space:normal"));
        assert!(rule("td.line").contains("overflow-wrap:anywhere"));
        // An amount never breaks between its sign or currency and its digits.
        assert!(rule(".nw").contains("white-space:nowrap"));
        assert_eq!(
            super::signed_amount(
                Lang::En,
                &crate::scenario::default_scenario().model,
                -1234.0
            ),
            "<span class=\"nw\">−€ 1,234</span>"
        );
    }
}

//! `report.html`: self-contained, in Dutch and English, and rendered by a real browser.

use super::wijksim;
use std::fs;
use std::path::{Path, PathBuf};

/// Figures in the default report: the budget use of the pilot's pool, cost per year, cost difference
/// and its histogram, 7 KPIs (the evaluations are a table, not a chart), per arm the stacked caseload and 6 fan charts (5 states and the waiting
/// status); and for the pilot areas together 6 fan charts with both arms, 2 stacked and the paired
/// caseload difference; per pilot village (6) its fan charts and its stacked caseload.
const FIGURES: usize = 1 + 3 + 7 + 2 * 7 + 6 + 2 + 1 + 6 * 2;

fn report(dir: &Path, lang: &str) -> String {
    let out = dir.join(lang);
    wijksim()
        .args(["run", "--runs", "40", "--quiet", "--lang", lang, "--out"])
        .arg(&out)
        .assert()
        .success();
    fs::read_to_string(out.join("report.html")).unwrap()
}

#[test]
fn the_report_is_self_contained_in_dutch_and_english() {
    let dir = tempfile::tempdir().unwrap();
    let (nl, en) = (report(dir.path(), "nl"), report(dir.path(), "en"));
    assert!(
        nl.contains("<html lang=\"nl\">")
            && nl.contains("Vraag:")
            && nl.contains("geleverde zorg <span class=\"nw\">−€ ")
            && nl.contains("(het effect), gemeentelijke uitgaven ")
            && nl.contains("kans op overschrijding")
    );
    assert!(
        en.contains("<html lang=\"en\">")
            && en.contains("Question:")
            && en.contains("care delivered <span class=\"nw\">−€ ")
            && en.contains("(the budget design); P(overspend) ")
    );
    // The question names each arm once, by its label, over the horizon's months.
    assert!(nl.contains(
        "<b>Vraag:</b> wat gebeurt er van jan 2021 tot en met dec 2025 met kosten, cliënten en KPI's bij <i>Dorpsbudget Noord-Beveland</i>, vergeleken met <i>Aanbiedersmodel (basis)</i>?</p>"
    ));
    assert!(en.contains(
        "<b>Question:</b> what happens to cost, clients and KPIs from Jan 2021 to Dec 2025 under <i>Village budget Noord-Beveland</i>, compared with <i>Provider model (baseline)</i>?</p>"
    ));
    // Dutch number format in the text: € 12.345.678; English: € 12,345,678.
    let text_nl = nl.split("<h2>Figuren</h2>").next().unwrap();
    let text_en = en.split("<h2>Figures</h2>").next().unwrap();
    assert!(
        text_nl.contains("€ 12.") && !text_nl.contains("€ 12,0"),
        "Dutch thousands separators"
    );
    assert!(
        text_en.contains("€ 12,") && !text_en.contains("€ 12.0"),
        "English thousands separators"
    );
    for html in [&nl, &en] {
        assert_eq!(html.matches("<svg").count(), FIGURES);
        // Nothing is fetched: no external scripts, styles, images or fonts.
        for external in ["<script src", "<link", "<img", "@import", "url(http"] {
            assert!(!html.contains(external), "{external}");
        }
        // Every value the scenario labels as an assumption is listed.
        let labelled = super::default_text()
            .lines()
            .filter(|l| l.contains("ASSUMPTION"))
            .count();
        assert!(labelled > 20);
        assert!(html.matches("<tr><td>").count() >= labelled);
        assert!(
            html.contains("wijksim run --runs 40 --seed 20210101"),
            "how to reproduce"
        );
    }
}

/// The classes of a page's style whose rule keeps text on one line (`.nw{white-space:nowrap}`).
fn nowrap_classes(html: &str) -> Vec<String> {
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|s| s.split("</style>").next())
        .unwrap_or("");
    style
        .split('}')
        .filter_map(|rule| rule.split_once('{'))
        .filter(|(_, body)| body.contains("white-space:nowrap"))
        .flat_map(|(selectors, _)| selectors.split(','))
        .filter_map(|s| s.trim().strip_prefix('.'))
        .filter(|c| {
            c.chars()
                .all(|x| x.is_alphanumeric() || x == '-' || x == '_')
        })
        .map(str::to_string)
        .collect()
}

/// `html` without the elements `tag` (`<svg ...>...</svg>`).
fn without(html: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        out.push_str(&rest[..i]);
        rest = rest[i..]
            .find(&close)
            .map_or("", |j| &rest[i + j + close.len()..]);
    }
    out.push_str(rest);
    out
}

/// The amounts in `symbol` of a report's text (not its figures, nor the scenario lines it quotes in
/// `<code>`), each with whether a line can break inside it: an amount is its sign, the symbol, a
/// space and the digits, and it is kept whole only inside a span whose class keeps text on one line.
fn amounts(html: &str, symbol: &str) -> Vec<(String, bool)> {
    let classes = nowrap_classes(html);
    let body = without(&without(html, "svg"), "code");
    let mut out = Vec::new();
    for (i, _) in body.match_indices(symbol) {
        let after = &body[i + symbol.len()..];
        let digits = after.strip_prefix(' ').or(after.strip_prefix('\u{a0}'));
        if !digits.is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit())) {
            continue; // not an amount: a symbol in words
        }
        let before = &body[..i];
        let start = before.trim_end_matches(['+', '−', '-']);
        let number_len = digits
            .unwrap()
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(0);
        let end = i + (after.len() - digits.unwrap().len()) + symbol.len() + number_len;
        let text = body[start.len()..end].to_string();
        let whole = body[end..].starts_with("</span>")
            && classes
                .iter()
                .any(|c| start.ends_with(&format!("<span class=\"{c}\">")));
        out.push((text, whole));
    }
    out
}

/// Issue 14: in a narrow window a line broke an amount between its sign and currency and its digits
/// ("+£" at the end of a line, "8,653,993" on the next). Every amount the report writes, in euros
/// and in pounds, in Dutch and in English, signed or not, is kept on one line.
#[test]
fn no_amount_in_the_report_breaks_between_its_currency_and_its_digits() {
    let dir = tempfile::tempdir().unwrap();
    let hiv = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hiv_combination.toml");
    for (name, scenario, symbol) in [("default", None, "€"), ("hiv", Some(&hiv), "£")] {
        let out = dir.path().join(name);
        let mut run = wijksim();
        run.args(["run", "--runs", "20", "--plots", "none", "--quiet", "--out"])
            .arg(&out);
        if let Some(s) = scenario {
            run.arg(s);
        }
        run.assert().success();
        wijksim()
            .args(["report", "--lang", "en", "--plots", "none"])
            .arg(&out)
            .assert()
            .success();
        for file in ["report.html", "report.en.html"] {
            let html = fs::read_to_string(out.join(file)).unwrap();
            let found = amounts(&html, symbol);
            let signed = found
                .iter()
                .filter(|(t, _)| t.starts_with(['+', '−']))
                .count();
            assert!(
                found.len() > 20 && signed >= 3,
                "{name} {file}: {} amounts, {signed} signed: the check found too few to mean anything",
                found.len()
            );
            let broken: Vec<&String> = found.iter().filter(|(_, w)| !w).map(|(t, _)| t).collect();
            assert!(
                broken.is_empty(),
                "{name} {file}: amounts a line can break inside: {broken:?}"
            );
        }
    }
}

#[test]
fn the_pilot_areas_come_before_the_region_and_a_count_is_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let (nl, en) = (report(dir.path(), "nl"), report(dir.path(), "en"));
    // The answer: the pilot's differences in the pilot areas first, then in the region.
    for (html, pilot, region) in [
        (
            &nl,
            "in de pilotgebieden (78 cliënten bij de start): geleverde zorg ",
            "; in de regio (1.646 cliënten bij de start): geleverde zorg ",
        ),
        (
            &en,
            "in the pilot areas (78 clients at the start): care delivered ",
            "; in the region (1,646 clients at the start): care delivered ",
        ),
    ] {
        let (p, r) = (html.find(pilot), html.find(region));
        assert!(p.is_some() && r.is_some() && p < r, "{pilot} / {region}");
    }
    // The evaluations due are thousands: with the language's separator (regression: "2334").
    let evals = |html: &str, head: &str| -> String {
        let t = html.split(head).nth(1).unwrap();
        t[..t.find("</table>").unwrap()].to_string()
    };
    let cells = |t: &str| -> Vec<String> {
        t.split("<td>")
            .skip(1)
            .map(|c| c[..c.find("</td>").unwrap()].to_string())
            .collect()
    };
    for (html, head, sep) in [
        (&nl, "Jaarlijks evaluatiegesprek", '.'),
        (
            &en,
            "evaluations due, and held at the planned share of",
            ',',
        ),
    ] {
        let e = cells(&evals(html, head));
        let big: Vec<&String> = e.iter().filter(|c| c.len() > 3).collect();
        assert!(!big.is_empty(), "thousands of evaluations: {e:?}");
        for c in big {
            assert_eq!(c.chars().nth(c.len() - 4), Some(sep), "{c} in {e:?}");
        }
    }
    // The pilot areas' figures first, then the region's: the region hides 78 of 1,646 clients.
    let figures = en.split("<h2>Figures</h2>").nth(1).unwrap();
    let pilot = figures.find("<h3>Pilot areas together</h3>").unwrap();
    let region = figures
        .find("<h3>Region (all municipalities)</h3>")
        .unwrap();
    assert!(pilot < region);
    let section = &figures[pilot..region];
    assert!(
        section.contains("(78 of the 1,646 clients at the start)")
            && section.contains("Kamperland")
            && section
                .contains("Provider model (baseline) and Village budget Noord-Beveland overlaid")
            && section.contains(
                "Difference in clients Village budget Noord-Beveland − Provider model (baseline)"
            ),
        "the pilot areas named, the arms overlaid, the paired difference"
    );
    assert!(
        nl.contains("<h3>Pilotgebieden samen</h3><p>De gebieden die een variant een budget geeft")
    );
    // clienten_waakvlam counts clients (target 165): its row and its chart show numbers, not percent.
    for (html, label, mean) in [
        (&nl, "Cliënten in de waakvlam", "(gem. "),
        (&en, "Clients in Waakvlam", "(mean "),
    ] {
        let rows: Vec<&str> = html
            .split("<tr>")
            .filter(|r| r.starts_with(&format!("<td>{label}</td>")))
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "the region only: the factsheet's count is the region's"
        );
        for row in rows {
            assert!(row.contains("<td>165</td>"), "{row}");
            let means: Vec<&str> = row.split(mean).skip(1).collect();
            assert_eq!(means.len(), 2, "{row}");
            for m in means {
                let number = m.split(')').next().unwrap();
                assert!(
                    !number.contains('%') && number.chars().any(|c| c.is_ascii_digit()),
                    "{row}"
                );
            }
        }
    }
    let chart = fs::read_to_string(dir.path().join("en/plots/kpi_clienten_waakvlam.svg")).unwrap();
    let texts: Vec<&str> = chart
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split_once("</text>")))
        .map(|(t, _)| t.trim())
        .collect();
    assert!(texts.contains(&"clients") && texts.contains(&"Region (all municipalities)"));
    let percent: Vec<&&str> = texts.iter().filter(|t| t.contains('%')).collect();
    assert!(
        percent
            .iter()
            .all(|t| t.contains("P(met)") || t.contains("% interval")),
        "only the probabilities (and the name of the interval) are percentages: {percent:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.parse::<u32>().is_ok_and(|n| n >= 165)),
        "the axis counts clients, up to the target: {texts:?}"
    );
    // A share keeps its percentages.
    let share = fs::read_to_string(dir.path().join("en/plots/kpi_aandeel_waakvlam.svg")).unwrap();
    assert!(share.contains("\n10%\n") && share.contains("\nshare\n"));
}

/// Names under which Chromium is found on `PATH`, in the order tried (as `.ci/run` does).
const BROWSERS: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The browser: `CHROMIUM`, or the first of [`BROWSERS`] on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    BROWSERS.iter().find_map(|name| {
        std::env::split_paths(&path).find_map(|dir| {
            let p = dir.join(name);
            use std::os::unix::fs::PermissionsExt;
            let executable =
                fs::metadata(&p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            executable.then_some(p)
        })
    })
}

fn headless(browser: &Path, profile: &Path, width: u32) -> std::process::Command {
    let mut c = std::process::Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]);
    c.arg(format!("--window-size={width},1400"));
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Needs a browser, so it runs only when asked (`cargo test --release --test integration report:: --
/// --ignored`, as `.ci/run` does), and then fails rather than passing when no browser is found.
#[test]
#[ignore = "needs Chromium; run with: cargo test --release --test integration report:: -- --ignored"]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        panic!(
            "no browser: this test opens report.html in Chromium, found on PATH as {} or named by \
             the CHROMIUM variable; install it (Debian: apt-get install chromium) or set CHROMIUM",
            BROWSERS.join(", ")
        );
    };
    let dir = tempfile::tempdir().unwrap();
    // A copy of the report with a check: every figure is laid out with a visible size, no script
    // error occurred, nothing is wider than the window (the page does not scroll sideways: a wide
    // table scrolls in its own box), and no amount is broken over two lines (issue 14: "+£" at the
    // end of a line, the digits on the next); the verdict goes into the title, which --dump-dom
    // prints.
    let check = r#"<script>var errs=0;window.onerror=function(){errs++};window.addEventListener('load',function(){var s=document.querySelectorAll('figure svg'),v=0;s.forEach(function(e){var r=e.getBoundingClientRect();if(r.width>100&&r.height>50&&getComputedStyle(e).visibility!=='hidden')v++});var d=document.documentElement;var b=0,n=document.querySelectorAll('span.nw');n.forEach(function(e){if(e.getClientRects().length>1)b++});document.title='CHECK svgs='+s.length+' visible='+v+' errors='+errs+' overflow='+Math.max(0,d.scrollWidth-d.clientWidth)+' broken='+b+' amounts='+n.length})</script>"#;
    for lang in ["nl", "en"] {
        let html = report(dir.path(), lang);
        let page = dir.path().join(format!("check-{lang}.html"));
        fs::write(&page, html.replacen("<head>", &format!("<head>{check}"), 1)).unwrap();
        // A desktop, a small laptop and a phone.
        for width in [1300, 1000, 420] {
            let out = headless(&browser, &dir.path().join("profile"), width)
                .arg("--dump-dom")
                .arg(format!("file://{}", page.display()))
                .output()
                .unwrap();
            let dom = String::from_utf8_lossy(&out.stdout);
            let want = format!(
                "CHECK svgs={FIGURES} visible={FIGURES} errors=0 overflow=0 broken=0 amounts="
            );
            let amounts = dom
                .split(&want)
                .nth(1)
                .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<usize>().ok());
            assert!(
                amounts.is_some_and(|n| n > 20),
                "{lang}, {width} px wide: expected `{want}N`, N > 20, in the rendered page's title; got: {}",
                dom.lines()
                    .find(|l| l.contains("<title>"))
                    .unwrap_or("no title")
            );
        }
    }
    // A screenshot of the real report, to look at by eye.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let report_file = dir.path().join("nl/report.html");
    headless(&browser, &dir.path().join("profile2"), 1300)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report_file.display()))
        .output()
        .unwrap();
    let png = fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "screenshot {}",
        shot.display()
    );
    eprintln!("screenshot of the report: {}", shot.display());
}

#[test]
fn how_sure_says_whether_the_intervals_include_parameter_uncertainty() {
    // The "how sure" paragraph of the first screen, for the options of a run.
    let how_sure = |args: &[&str]| -> String {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        wijksim()
            .args(["run", "--quiet", "--plots", "none", "--out"])
            .arg(&out)
            .args(args)
            .assert()
            .success();
        let html = fs::read_to_string(out.join("report.html")).unwrap();
        let at = html
            .find("<b>Hoe zeker:</b>")
            .or_else(|| html.find("<b>How sure:</b>"))
            .expect("a how-sure paragraph");
        html[at..at + html[at..].find("</p>").unwrap()].to_string()
    };
    let psa = how_sure(&["--runs", "20"]);
    assert!(
        psa.contains("20 runs.") && psa.contains("toeval én onzekerheid in de parameters"),
        "{psa}"
    );
    let fixed = how_sure(&["--runs", "20", "--no-psa", "--lang", "en"]);
    assert!(
        fixed.contains("<b>chance only</b>")
            && fixed.contains("Parameter uncertainty is <b>not</b> included")
            && fixed.contains("--no-psa"),
        "{fixed}"
    );
    let fixed_model = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/two_state.toml");
    let none = how_sure(&[fixed_model, "--runs", "1"]);
    assert!(
        none.contains("1 run.")
            && none.contains("<b>alleen toeval</b>")
            && none.contains("geen enkele parameter een verdeling"),
        "{none}"
    );
    let cohort = how_sure(&["--engine", "cohort", "--lang", "en"]);
    assert!(
        cohort.contains("expected values") && cohort.contains("<b>not</b> included"),
        "{cohort}"
    );
}

/// The question of the report for a scenario's arms: each named once, the baseline not called the
/// provider model outside the Wmo (nor when its label says what it is), a model without KPIs not
/// asked about KPIs, and an unlabelled Wmo baseline explained.
#[test]
fn the_question_reads_naturally_for_every_kind_of_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let question = |scenario: PathBuf, lang: &str| -> String {
        let out = dir.path().join(format!(
            "{}-{lang}",
            scenario.file_stem().unwrap().to_string_lossy()
        ));
        wijksim()
            .arg("run")
            .arg(&scenario)
            .args([
                "--runs", "5", "--quiet", "--plots", "none", "--lang", lang, "--out",
            ])
            .arg(&out)
            .assert()
            .success();
        let html = fs::read_to_string(out.join("report.html")).unwrap();
        let at = html
            .find("<b>Vraag:</b>")
            .or(html.find("<b>Question:</b>"))
            .unwrap();
        html[at..].split("</p>").next().unwrap().to_string()
    };
    let hiv = root.join("scenarios/hiv_combination.toml");
    assert_eq!(
        question(hiv.clone(), "nl"),
        "<b>Vraag:</b> wat gebeurt er van jan 1995 tot en met dec 2014 met kosten en patiënten bij <i>Combinatietherapie</i>, vergeleken met <i>Zidovudine alleen</i>?"
    );
    assert_eq!(
        question(hiv, "en"),
        "<b>Question:</b> what happens to cost and patients from Jan 1995 to Dec 2014 under <i>Combination therapy</i>, compared with <i>Zidovudine alone</i>?"
    );
    assert_eq!(
        question(root.join("scenarios/sick_sicker.toml"), "en"),
        "<b>Question:</b> what happens to cost and people from Jan 2025 to Dec 2099 under <i>Strategy B</i>, compared with <i>Standard of care</i>?"
    );
    // A Wmo baseline without a label is explained as the provider model it is.
    let golden = question(root.join("tests/golden/pilot.toml"), "nl");
    assert!(
        golden.contains(", vergeleken met <i>baseline</i> (het huidige aanbiedersmodel)?"),
        "{golden}"
    );
    assert_eq!(golden.matches("aanbiedersmodel").count(), 1);
}

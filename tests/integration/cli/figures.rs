//! The figures as a budget planner reads them: large enough PNGs, the font an SVG asks for, legends
//! beside the data rather than on it, a time axis by calendar year, the arms' own names, Dutch
//! numbers with signs on differences, and the scenario's own words outside the Wmo.

use super::wijksim;
use std::fs;
use std::path::{Path, PathBuf};

/// A run of `scenario` (the default when `None`) with 30 runs into a new folder under `dir`.
fn run(dir: &Path, name: &str, scenario: Option<&str>, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut cmd = wijksim();
    cmd.arg("run");
    if let Some(s) = scenario {
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(s));
    }
    cmd.args(["--runs", "30", "--quiet", "--out"])
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

/// The files of `dir/plots` ending in `ext`, sorted.
fn plots(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// One element of an SVG: its tag and attributes, and the text it holds (for `<text>`).
struct Element {
    tag: String,
    attrs: Vec<(String, String)>,
    text: String,
}

impl Element {
    fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn num(&self, key: &str) -> f64 {
        self.get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("<{}> has a numeric {key}", self.tag))
    }
    /// The box it covers: x0, y0, x1, y1 (None for text and the root).
    fn bbox(&self) -> Option<[f64; 4]> {
        let pts = |s: &str| -> Vec<(f64, f64)> {
            s.split_whitespace()
                .filter_map(|p| p.split_once(','))
                .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
                .collect()
        };
        let of = |v: Vec<(f64, f64)>| -> Option<[f64; 4]> {
            let x0 = v.iter().map(|p| p.0).fold(f64::MAX, f64::min);
            let x1 = v.iter().map(|p| p.0).fold(f64::MIN, f64::max);
            let y0 = v.iter().map(|p| p.1).fold(f64::MAX, f64::min);
            let y1 = v.iter().map(|p| p.1).fold(f64::MIN, f64::max);
            (!v.is_empty()).then_some([x0, y0, x1, y1])
        };
        match self.tag.as_str() {
            "line" => of(vec![
                (self.num("x1"), self.num("y1")),
                (self.num("x2"), self.num("y2")),
            ]),
            "polyline" | "polygon" => of(pts(self.get("points").unwrap_or(""))),
            "circle" => {
                let (x, y, r) = (self.num("cx"), self.num("cy"), self.num("r"));
                Some([x - r, y - r, x + r, y + r])
            }
            "rect" => {
                let (x, y) = (self.num("x"), self.num("y"));
                Some([x, y, x + self.num("width"), y + self.num("height")])
            }
            _ => None,
        }
    }
}

/// The elements of an SVG as plotters writes it (one element a line, text on the line after).
fn elements(svg: &str) -> Vec<Element> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with('/') {
            continue;
        }
        let end = rest.find('>').expect("a closed tag");
        let head = &rest[..end];
        let tag: String = head.chars().take_while(|c| c.is_alphanumeric()).collect();
        let mut attrs = Vec::new();
        let mut a = &head[tag.len()..];
        while let Some(eq) = a.find("=\"") {
            let key = a[..eq].trim().to_string();
            let after = &a[eq + 2..];
            let close = after.find('"').expect("a closed attribute");
            attrs.push((key, after[..close].to_string()));
            a = &after[close + 1..];
        }
        let text = if tag == "text" {
            rest[end + 1..]
                .split("</text>")
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        } else {
            String::new()
        };
        out.push(Element { tag, attrs, text });
        rest = &rest[end + 1..];
    }
    out
}

fn texts(svg: &str) -> Vec<String> {
    elements(svg)
        .into_iter()
        .filter(|e| e.tag == "text")
        .map(|e| e.text)
        .collect()
}

fn overlap(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// The legend frame of an SVG (the one rectangle stroked in the legend's grey), if it has one.
fn legend_frame(svg: &[Element]) -> Option<[f64; 4]> {
    let frames: Vec<[f64; 4]> = svg
        .iter()
        .filter(|e| e.tag == "rect" && e.get("stroke") == Some("#969696"))
        .filter_map(Element::bbox)
        .collect();
    assert!(frames.len() <= 1, "one legend a figure");
    frames.first().copied()
}

/// Every element that overlaps the legend's frame and is not drawn inside it (the legend's own
/// swatches are): grid lines, axes, bands, lines and marks of the data.
fn on_the_legend(svg: &[Element], frame: [f64; 4]) -> Vec<String> {
    let inside = |b: [f64; 4]| {
        b[0] >= frame[0] - 0.5
            && b[1] >= frame[1] - 0.5
            && b[2] <= frame[2] + 0.5
            && b[3] <= frame[3] + 0.5
    };
    svg.iter()
        .filter(|e| e.get("fill") != Some("#FFFFFF") && e.get("stroke") != Some("#969696"))
        .filter_map(|e| e.bbox().map(|b| (e, b)))
        .filter(|&(_, b)| !inside(b) && overlap(b, frame))
        .map(|(e, b)| format!("<{}> at {b:?}", e.tag))
        .collect()
}

#[test]
fn every_png_of_a_default_run_is_at_least_1600_pixels_wide_and_every_svg_asks_for_dejavu_sans() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "o", None, &[]);
    let pngs = plots(&out, "png");
    assert_eq!(pngs.len(), 46);
    for p in &pngs {
        let b = fs::read(p).unwrap();
        // IHDR: width and height, big-endian, at bytes 16..24.
        let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
        assert!(w >= 1600, "{} is {w} px wide", p.display());
        assert!(h >= 540, "{} is {h} px high", p.display());
    }
    for p in plots(&out, "svg") {
        let svg = fs::read_to_string(&p).unwrap();
        for e in elements(&svg).iter().filter(|e| e.tag == "text") {
            assert_eq!(
                e.get("font-family"),
                Some("DejaVu Sans, Bitstream Vera Sans, sans-serif"),
                "{}: {:?}",
                p.display(),
                e.text
            );
        }
    }
}

#[test]
fn legends_sit_beside_the_data_not_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "o", None, &[]);
    let mut framed = 0;
    for p in plots(&out, "svg") {
        let svg = elements(&fs::read_to_string(&p).unwrap());
        let Some(frame) = legend_frame(&svg) else {
            continue;
        };
        framed += 1;
        let hits = on_the_legend(&svg, frame);
        assert!(
            hits.is_empty(),
            "{}: the legend at {frame:?} covers {hits:?}",
            p.display()
        );
    }
    // Every figure of the default run has a legend.
    assert_eq!(framed, 46);
    // The KPI figure the first users saw: the legend under the contract years, none of its targets
    // (the black bars) or intervals under it.
    let kpi = elements(&fs::read_to_string(out.join("plots/kpi_doelen_behaald.svg")).unwrap());
    let frame = legend_frame(&kpi).expect("the KPI figure has a legend");
    let lowest_mark = kpi
        .iter()
        .filter(|e| e.tag == "polyline" && e.get("stroke-width") == Some("3"))
        .filter_map(Element::bbox)
        .filter(|b| !overlap(*b, frame))
        .map(|b| b[3])
        .fold(f64::MIN, f64::max);
    assert!(
        lowest_mark < frame[1],
        "targets and intervals above the legend"
    );
    // A check that can fail: a frame drawn on the plot area is caught.
    let mut fake = kpi;
    fake.push(Element {
        tag: "rect".into(),
        attrs: [
            ("x", "100"),
            ("y", "100"),
            ("width", "300"),
            ("height", "60"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec(),
        text: String::new(),
    });
    assert!(!on_the_legend(&fake, [100.0, 100.0, 400.0, 160.0]).is_empty());
}

#[test]
fn the_time_axis_is_labelled_at_every_january() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "o", None, &[]);
    for name in [
        "fan_baseline_WV",
        "fan_pilot_areas_BT",
        "stacked_baseline",
        "fan_area_Kats",
    ] {
        let svg = elements(&fs::read_to_string(out.join(format!("plots/{name}.svg"))).unwrap());
        let ticks: Vec<(String, f64)> = svg
            .iter()
            .filter(|e| e.tag == "text")
            .filter(|e| {
                let w: Vec<&str> = e.text.split(' ').collect();
                w.len() == 2
                    && w[1].len() == 4
                    && w[1].chars().all(|c| c.is_ascii_digit())
                    && w[0].len() == 3
            })
            .map(|e| (e.text.clone(), e.num("x")))
            .collect();
        // A figure of small multiples has a time axis per panel: the first panel's.
        let first: Vec<&(String, f64)> = ticks.iter().take(5).collect();
        let labels: Vec<&str> = first.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(
            labels,
            ["jan 2021", "jan 2022", "jan 2023", "jan 2024", "jan 2025"],
            "{name}"
        );
        assert!(
            ticks.iter().all(|t| t.0.starts_with("jan ")),
            "{name}: only Januaries"
        );
        // Twelve months apart: equally spaced.
        let steps: Vec<f64> = first.windows(2).map(|w| w[1].1 - w[0].1).collect();
        assert!(
            steps
                .iter()
                .all(|s| (s - steps[0]).abs() <= 1.0 && *s > 0.0),
            "{name}: {steps:?}"
        );
    }
}

#[test]
fn figures_name_the_arms_by_their_labels_with_dutch_numbers_and_signed_differences() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "o", None, &[]);
    let all: Vec<(PathBuf, Vec<String>)> = plots(&out, "svg")
        .into_iter()
        .map(|p| {
            let t = texts(&fs::read_to_string(&p).unwrap());
            (p, t)
        })
        .collect();
    for (p, t) in &all {
        for s in t {
            assert!(
                !s.contains("dorpsbudget_noord_beveland") && !s.contains("baseline"),
                "{}: {s:?} names an arm by its identifier",
                p.display()
            );
            // Dutch: thousands with a point, decimals with a comma; a minus is a minus sign.
            assert!(
                !s.contains("€ -") && !s.contains("-€"),
                "{}: {s:?}",
                p.display()
            );
            let digits_comma_3 = s
                .split(|c: char| !c.is_ascii_digit() && c != ',')
                .any(|w| w.split(',').skip(1).any(|f| f.len() == 3) && w.contains(','));
            assert!(
                !digits_comma_3,
                "{}: {s:?} uses a comma for thousands",
                p.display()
            );
        }
    }
    let text = |name: &str| -> Vec<String> {
        all.iter()
            .find(|(p, _)| p.ends_with(format!("{name}.svg")))
            .unwrap()
            .1
            .clone()
    };
    // The report's tables and sentences name the arms as the figures beside them do (the figures'
    // file names keep the identifier).
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let mut visible = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => visible.push(c),
            _ => {}
        }
    }
    assert!(
        !visible.contains("dorpsbudget_noord_beveland"),
        "the report names an arm by its identifier"
    );
    assert!(visible.contains("Dorpsbudget Noord-Beveland"));
    let fan = text("fan_pilot_areas_WV");
    assert!(fan.iter().any(|s| s == "Dorpsbudget Noord-Beveland"));
    assert!(fan.iter().any(|s| s == "Aanbiedersmodel (basis)"));
    // Every euro difference carries its sign: the axis of the paired cost difference.
    let diff = text("care_cost_difference_dorpsbudget_noord_beveland");
    let euros: Vec<&String> = diff.iter().filter(|s| s.contains('€')).collect();
    assert!(euros.len() >= 4, "{euros:?}");
    assert!(
        euros
            .iter()
            .all(|s| s.as_str() == "€ 0" || s.starts_with("+€ ") || s.starts_with("−€ ")),
        "{euros:?}"
    );
    assert!(
        euros
            .iter()
            .any(|s| s.starts_with("−€ ") && s.contains('.'))
    );
    let hist = text("care_cost_difference_histogram_dorpsbudget_noord_beveland");
    assert!(hist.iter().any(|s| s.starts_with("−€ ")));
    // Counts of the paired caseload difference: signed too.
    let cases = text("caseload_difference_pilot_areas_dorpsbudget_noord_beveland");
    assert!(
        cases
            .iter()
            .any(|s| s.starts_with('−') || s.starts_with('+'))
    );
    // English keeps its own format and the English label.
    let en = run(dir.path(), "en", None, &["--lang", "en"]);
    let fan = texts(&fs::read_to_string(en.join("plots/fan_pilot_areas_WV.svg")).unwrap());
    assert!(fan.iter().any(|s| s == "Village budget Noord-Beveland"));
    let spend = texts(&fs::read_to_string(en.join("plots/municipal_spend_per_year.svg")).unwrap());
    assert!(spend.iter().any(|s| s.starts_with("€ ") && s.contains(',')));
}

#[test]
fn an_arm_without_a_label_is_named_by_its_name_and_a_bad_label_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = super::default_text().replace(
        "label = { nl = \"Dorpsbudget Noord-Beveland\", en = \"Village budget Noord-Beveland\" }\n",
        "",
    );
    let file = dir.path().join("s.toml");
    fs::write(&file, &text).unwrap();
    let out = dir.path().join("o");
    wijksim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "20", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let fan = texts(&fs::read_to_string(out.join("plots/fan_pilot_areas_WV.svg")).unwrap());
    assert!(fan.iter().any(|s| s == "dorpsbudget noord beveland"));
    let bad = text.replace(
        "name = \"dorpsbudget_noord_beveland\"\n",
        "name = \"dorpsbudget_noord_beveland\"\nlabel = { nl = \"\" }\n",
    );
    fs::write(&file, &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("label = { nl = \"\" }"))
        .unwrap()
        + 1;
    let err = wijksim().arg("check").arg(&file).assert().code(2);
    let msg = String::from_utf8(err.get_output().stderr.clone()).unwrap()
        + &String::from_utf8(err.get_output().stdout.clone()).unwrap();
    assert!(
        msg.contains(&format!("s.toml:{line}")) && msg.contains("arm[1].label.nl"),
        "{msg}"
    );
    let wrong = text.replace(
        "name = \"dorpsbudget_noord_beveland\"\n",
        "name = \"dorpsbudget_noord_beveland\"\nlabel = { fr = \"Budget\" }\n",
    );
    fs::write(&file, &wrong).unwrap();
    let err = wijksim().arg("check").arg(&file).assert().code(2);
    let msg = String::from_utf8(err.get_output().stderr.clone()).unwrap();
    assert!(
        msg.contains(&format!("s.toml:{line}")) && msg.contains("`fr`, expected `nl` or `en`"),
        "{msg}"
    );
}

/// Words of the Wmo pilot (lower case) that a model outside the Wmo must not use: the municipalities,
/// the clients, the month, the pilot and its areas, the provider model, the budget holder.
const WMO_WORDS: [&str; 20] = [
    "alle gemeenten",
    "all municipalities",
    "gemeente",
    "municipal",
    "cliënten",
    "clients",
    "per maand",
    "per month",
    "intensiteit",
    "pilotgebied",
    "pilot area",
    "pilot start",
    "aanbiedersmodel",
    "provider model",
    "budgethouder",
    "budget holder",
    "zorgplicht",
    "tarief",
    "tariff",
    "regio",
];

/// The text a reader sees on a page or in a figure: tags, the style sheet and attributes left out.
fn visible(text: &str) -> String {
    let text = match (text.find("<style>"), text.find("</style>")) {
        (Some(a), Some(b)) => format!("{}{}", &text[..a], &text[b..]),
        _ => text.to_string(),
    };
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&").to_lowercase()
}

#[test]
fn a_model_outside_the_wmo_speaks_of_its_own_people_in_figures_and_report() {
    let dir = tempfile::tempdir().unwrap();
    // (scenario, its people in nl and en, its currency's symbol and name on an axis in nl and en, the
    // label of the arm that starts a regime in nl and en)
    let models = [
        (
            "hiv_combination",
            ["patiënten", "patients"],
            "£",
            ["pond (nominaal)", "pounds (nominal)"],
            [
                "start combinatietherapie jan 1995",
                "start of combination therapy jan 1995",
            ],
        ),
        (
            "sick_sicker",
            ["personen", "people"],
            "$",
            ["dollar (nominaal)", "dollars (nominal)"],
            ["start strategie b jan 2025", "start of strategy b jan 2025"],
        ),
    ];
    for (name, people, symbol, axis, start) in models {
        for (l, lang) in ["nl", "en"].into_iter().enumerate() {
            let out = run(
                dir.path(),
                &format!("{name}-{lang}"),
                Some(&format!("scenarios/{name}.toml")),
                &["--lang", lang],
            );
            let svgs = plots(&out, "svg");
            assert!(svgs.len() > 10, "{name}: the figures are drawn");
            let mut figures = String::new();
            for f in &svgs {
                figures.push_str(&visible(&fs::read_to_string(f).unwrap()));
            }
            let report = visible(&fs::read_to_string(out.join("report.html")).unwrap());
            for (what, text) in [("figures", &figures), ("report", &report)] {
                for wmo in WMO_WORDS {
                    assert!(!text.contains(wmo), "{name} {lang} {what} say {wmo:?}");
                }
                assert!(
                    !text.contains('€') && !text.contains("euro"),
                    "{name} {lang} {what} show euros, not the scenario's currency"
                );
                assert!(text.contains(symbol), "{name} {lang} {what}: no {symbol}");
                assert!(
                    text.contains(people[l]),
                    "{name} {lang} {what}: no {}",
                    people[l]
                );
            }
            assert!(figures.contains(axis[l]), "{name} {lang}: money axis");
            assert!(figures.contains(start[l]), "{name} {lang}: the arm's start");
            // What the arms' regime covers is the whole cohort here: all areas together.
            assert!(figures.contains(["alle gebieden samen", "all areas together"][l]));
            // A treatment has no budget: no budget figure, and no budget section in the report.
            assert!(
                !svgs
                    .iter()
                    .any(|f| f.to_string_lossy().contains("/budget_"))
            );
            assert!(!report.contains("overschrijding") && !report.contains("overspend"));
            // A yearly model's time axis is in years.
            let fan = texts(&fs::read_to_string(out.join(&svgs[svgs.len() - 1])).unwrap());
            assert!(!fan.iter().any(|s| s == "maand" || s == "month"));
        }
    }
}

#[test]
fn the_default_keeps_its_wmo_words_and_euros() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "nl", None, &["--plots", "all"]);
    let fan = visible(&fs::read_to_string(out.join("plots/fan_pilot_areas_WV.svg")).unwrap());
    assert!(fan.contains("pilotgebieden samen") && fan.contains("pilot start jan 2022"));
    let spend =
        visible(&fs::read_to_string(out.join("plots/municipal_spend_per_year.svg")).unwrap());
    assert!(spend.contains("euro (nominaal)") && spend.contains("€ "));
    assert!(!spend.contains('£') && !spend.contains('$'));
    let report = visible(&fs::read_to_string(out.join("report.html")).unwrap());
    for words in [
        "gemeentelijke uitgaven per jaar",
        "in de pilotgebieden (78 cliënten bij de start)",
        "budget in de pilot",
        "budget: hoe groot moet het zijn?",
        "€ ",
    ] {
        assert!(
            report.contains(words),
            "the default's report says {words:?}"
        );
    }
}

#[test]
fn a_currency_is_named_by_its_code_and_a_wrong_one_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hiv_combination.toml"),
    )
    .unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("currency = \"GBP\""))
        .unwrap()
        + 1;
    let file = dir.path().join("c.toml");
    for (given, says) in [
        (
            "\"£\"",
            "write the code, not the symbol: currency = \"GBP\"",
        ),
        ("\"GPB\"", "one of EUR, GBP, USD"),
    ] {
        let bad = text.replacen("currency = \"GBP\"", &format!("currency = {given}"), 1);
        fs::write(&file, bad).unwrap();
        let err = wijksim().arg("check").arg(&file).assert().code(2);
        let msg = String::from_utf8(err.get_output().stderr.clone()).unwrap();
        assert!(
            msg.contains(&format!("c.toml:{line}"))
                && msg.contains("scenario.currency")
                && msg.contains(says),
            "{msg}"
        );
    }
    // Lower case is the same code; the workbook's money is in pounds.
    fs::write(
        &file,
        text.replacen("currency = \"GBP\"", "currency = \"gbp\"", 1),
    )
    .unwrap();
    let out = dir.path().join("o");
    wijksim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "5", "--quiet", "--plots", "none", "--out"])
        .arg(&out)
        .assert()
        .success();
    let mut zip = zip::ZipArchive::new(fs::File::open(out.join("results.xlsx")).unwrap()).unwrap();
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    assert!(styles.contains("formatCode=\"£ #,##0.00\""), "{styles}");
    assert!(!styles.contains('€'));
}

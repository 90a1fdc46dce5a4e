//! Writes `scenarios/targets_example.csv`: counts made by the model itself, NOT published figures.
//! The default scenario with BT's monthly outflow (`transition[BT].to.UIT`) at 0.018 instead of 0.014
//! and new clients (`inflow.per_1000_per_year`) at 2.8 instead of 3.2 gives the expected counts, rounded
//! to whole clients as CBS publishes them; `wijksim calibrate` should find values near these two.
//!
//! `cargo run --release --example make_targets > scenarios/targets_example.csv`
use wijksim::data::calibrate::{Problem, Vary, expected_values, read_targets};
use wijksim::sweep::keypath::KeyPath;

fn main() {
    let sc = wijksim::scenario::default_scenario();
    let mut rows = vec!["period,scope,scope_name,state,measure,value,se".to_string()];
    for half in [
        "2021-H2", "2022-H1", "2022-H2", "2023-H1", "2023-H2", "2024-H1",
    ] {
        for (state, measure) in [
            ("BT", "stock"),
            ("BT", "clients"),
            ("BT", "inflow"),
            ("BT", "outflow"),
            ("BTS", "stock"),
        ] {
            rows.push(format!("{half},region,regio,{state},{measure},0,"));
        }
    }
    for m in ["Goes", "Schouwen-Duiveland"] {
        rows.push(format!("2023,municipality,{m},BT,stock,0,"));
    }
    let template = rows.join("\n");
    let targets = read_targets("template", template.as_bytes(), &sc.model).expect("valid");
    let vary = |k: &str, lo, hi| Vary {
        key: KeyPath::parse(k).unwrap(),
        low: lo,
        high: hi,
    };
    let p = Problem::new(
        sc,
        vec![
            vary("transition[BT].to.UIT", 0.005, 0.05),
            vary("inflow.per_1000_per_year", 1.0, 6.0),
        ],
        None,
        targets,
    )
    .expect("valid");
    let model = p.scenario_at(&[0.018, 2.8]).expect("valid").model;
    let values = expected_values(&model, 0, &p.targets);
    println!("{}", rows[0]);
    for (row, v) in rows[1..].iter().zip(values) {
        let row = row.strip_suffix(",0,").unwrap();
        println!("{row},{:.0},", v);
    }
}

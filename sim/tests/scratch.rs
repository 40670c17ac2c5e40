use faultline_chaos::spec::load::{load_file, SpecDocument};
use faultline_sim::{run, RunOptions};
use std::path::Path;

#[test]
fn scratch() {
    let file = std::env::var("EXP").unwrap_or("instance-crash".into());
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../manifests/examples/{file}.yaml"));
    let loaded = load_file(&path).unwrap();
    let l = &loaded[0];
    let SpecDocument::Experiment(exp) = &l.spec else {
        panic!()
    };
    let t = std::time::Instant::now();
    let out = run(
        exp,
        &l.document,
        &RunOptions {
            seed: 1,
            scale: None,
            file: Some(path.clone()),
        },
        None,
    )
    .unwrap();
    println!(
        "wall {:?} events {} hash {:x} scale {:?}",
        t.elapsed(),
        out.events,
        out.trace_hash,
        out.scale
    );
    let r = &out.report;
    println!("verdict {:?} aborted {:?}", r.verdict, r.aborted);
    for c in &r.clauses {
        println!(
            "  {:?} {} [{:?}] observed {} {}",
            c.phase, c.clause, c.fault, c.observed, c.passed
        );
    }
    for c in &r.checks {
        println!(
            "  check {} {} viol {}",
            c.name,
            c.checked,
            c.violations.len()
        );
        for v in c.violations.iter().take(3) {
            println!("     {} {}", v.message, v.event);
        }
    }
    println!("summary {:?}", r.summary);
    for row in r.series.iter().step_by(5) {
        println!("  {:?}", row);
    }
    for b in r.breaker.iter().take(10) {
        println!("  {:?}", b);
    }
}

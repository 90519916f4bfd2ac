//! The report's derived figures and its Markdown tables, for the book.

use serde_json::{json, Value};

/// scratch ÷ concise tokens/s, per model, path and scratch thread count,
/// where both ran: `{"gru": {"fast, 1 thread": 1.2, ...}, ...}`.
pub fn ratios(models: &[Value]) -> Value {
    let mut out = serde_json::Map::new();
    let median = |m: &Value| m["tokens_per_sec"]["median"].as_f64();
    for m in models.iter().filter(|m| m["impl"] == "scratch") {
        let name = m["model"].as_str().unwrap_or_default();
        let concise = models
            .iter()
            .find(|c| c["impl"] == "concise" && c["model"] == name);
        if let (Some(s), Some(t)) = (median(m), concise.and_then(median)) {
            let entry =
                out.entry(name.to_string()).or_insert_with(|| json!({}));
            entry[setup_name(m)] = json!(s / t);
        }
    }
    Value::Object(out)
}

/// "fast, 2 threads": a scratch run's path and thread count, and how the
/// threads shared the minibatch when they shared its steps.
fn setup_name(m: &Value) -> String {
    let threads = m["threads"].as_u64().unwrap_or(0);
    format!(
        "{}, {threads} thread{}{}",
        m["path"].as_str().unwrap_or("?"),
        if threads == 1 { "" } else { "s" },
        split_name(m)
    )
}

/// ", steps shared" for a run whose threads shared each step.
pub fn split_name(m: &Value) -> &'static str {
    if m["split"] == "steps" {
        ", steps shared"
    } else {
        ""
    }
}

/// The CPU's name, its cores, and libtorch's threads where it is linked.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    #[cfg(feature = "torch")]
    let torch_threads = Some(tch::get_num_threads());
    #[cfg(not(feature = "torch"))]
    let torch_threads: Option<i32> = None;
    json!({"cpu": cpu, "cores": cores, "torch_threads": torch_threads})
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// "scratch, fast path" or "concise (libtorch)".
fn implementation(m: &Value) -> String {
    match m["path"].as_str() {
        Some(path) => format!("scratch, {path} path{}", split_name(m)),
        None if m["impl"] == "scratch" => "scratch, fast path".to_string(),
        None => "concise (libtorch)".to_string(),
    }
}

/// The report as Markdown tables, for the book.
pub fn markdown(report: &Value) -> String {
    let mut s = String::from(
        "| model | implementation | threads | tokens/s (median) | spread \
         (min–max) | GFLOP/s | % of peak | peak RSS of the process |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let empty = Vec::new();
    for m in report["models"].as_array().unwrap_or(&empty) {
        let t = &m["tokens_per_sec"];
        // With libtorch linked in, the process holds its few hundred MB
        // from the start, and freed memory stays resident from one model
        // to the next: a model's own footprint is best read from a
        // training run of its own (result.md).
        let rss = m["peak_rss_mb"]
            .as_f64()
            .map_or("n/a".to_string(), |r| format!("{r:.0} MB"));
        s += &format!(
            "| {} | {} | {} | {:.0} | {:.0}–{:.0} | {:.1} | {:.0}% | {} |\n",
            m["model"].as_str().unwrap_or_default(),
            implementation(m),
            m["threads"],
            num(&t["median"]),
            num(&t["min"]),
            num(&t["max"]),
            num(&m["gflops"]),
            100.0 * num(&m["fraction_of_peak"]),
            rss
        );
    }
    if let Some(ratios) = report["ratios"].as_object().filter(|r| !r.is_empty())
    {
        s += "\n| model | scratch setup | scratch ÷ libtorch (tokens/s) |\n\
              |---|---|---|\n";
        for (model, per_setup) in ratios {
            for (setup, r) in per_setup.as_object().into_iter().flatten() {
                s += &format!("| {model} | {setup} | {:.2} |\n", num(r));
            }
        }
    }
    s += "\n| matrix product (f32) | product | threads | measured at the \
          run's | GFLOP/s |\n|---|---|---|---|---|\n";
    for g in report["gemm_f32"].as_array().unwrap_or(&empty) {
        s += &format!(
            "| {} | {} | {} | {} | {:.1} |\n",
            g["shape"].as_str().unwrap_or_default().replace('x', " × "),
            g["product"].as_str().unwrap_or("ndarray"),
            g["threads"],
            g["when"].as_str().unwrap_or("start"),
            num(&g["gflops"])
        );
    }
    let splits = report["step_product_split"].as_array();
    if let Some(splits) =
        splits.filter(|s| s.iter().any(|r| r["rows"].is_f64()))
    {
        s += "\n| the step's product (kernel, f32) | one thread | cut by \
              rows (the batch) | cut by columns (the gates) |\n\
              |---|---|---|---|\n";
        for r in splits {
            s += &format!(
                "| {} | {:.1} | {:.1} | {:.1} |\n",
                r["shape"].as_str().unwrap_or_default().replace('x', " × "),
                num(&r["one_thread"]),
                num(&r["rows"]),
                num(&r["columns"])
            );
        }
    }
    s += &format!(
        "\nThe peak, the best rate of the square product on every core \
         at either end of the run: **{:.1} GFLOP/s**.\n",
        num(&report["peak_gflops"])
    );
    s
}

/// The sweep as one Markdown table: a row per model and point, a column
/// per implementation, each cell tokens/s · effective GFLOP/s (share of
/// the peak).
pub fn sweep_markdown(rows: &[Value], peak: f64) -> String {
    let mut columns: Vec<String> = Vec::new();
    for r in rows {
        if !columns.contains(&column(r)) {
            columns.push(column(r));
        }
    }
    let mut s = String::from("| model | hidden | batch |");
    let mut rule = String::from("|---|---|---|");
    for c in &columns {
        s += &format!(" {c} |");
        rule += "---|";
    }
    s += &format!("\n{rule}\n");
    let mut seen: Vec<(String, u64, u64)> = Vec::new();
    for r in rows {
        let model = r["model"].as_str().unwrap_or_default().to_string();
        let key = (model, as_u64(&r["hiddens"]), as_u64(&r["batch"]));
        if seen.contains(&key) {
            continue;
        }
        s += &format!("| {} | {} | {} |", key.0, key.1, key.2);
        for c in &columns {
            let cell = rows.iter().find(|r| {
                r["model"] == key.0.as_str()
                    && as_u64(&r["hiddens"]) == key.1
                    && as_u64(&r["batch"]) == key.2
                    && &column(r) == c
            });
            s += &match cell {
                Some(r) => format!(
                    " {:.0} · {:.1} ({:.0}%) |",
                    num(&r["tokens_per_sec"]),
                    num(&r["gflops"]),
                    100.0 * num(&r["fraction_of_peak"])
                ),
                None => " – |".to_string(),
            };
        }
        s += "\n";
        seen.push(key);
    }
    s += &format!(
        "\nEach cell: tokens/s · effective GFLOP/s (its share of the \
         machine's two-core GEMM peak in the same run, {peak:.1} GFLOP/s).\n"
    );
    s
}

/// A sweep row's column: "fast, 1 thread", "libtorch, 2 threads".
fn column(r: &Value) -> String {
    let threads = as_u64(&r["threads"]);
    let imp = if r["impl"] == "concise" {
        "libtorch"
    } else {
        "fast"
    };
    let s = if threads == 1 { "" } else { "s" };
    format!("{imp}, {threads} thread{s}{}", split_name(r))
}

fn as_u64(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

//! `ch_memory`: trains each model on the recall task at each length and
//! seed, and writes the table, the gradient figure and the numbers.

use crate::task::Recall;
use crate::train::{with_model, Kind, Outcome, Setting, HELD_OUT, SOLVED};
use anyhow::{ensure, Result};
use clap::Parser;
use d2l::io::outputs::{OutDir, MEMORY_FILES};
use plotters::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;
use std::path::PathBuf;

/// The long-memory problem: each sequence starts with one of 4 keys, then
/// noise; after the last token the model must name the key. Trains a
/// plain RNN, a GRU and an LSTM (forget-gate bias 0 and 1) at each length
/// and seed (and an LSTM whose forget bias starts at 3), and writes
/// result.md (updates to 90% held-out accuracy),
/// grads.svg (‖∂L/∂H_t‖ along the sequence, before and after training)
/// and results.json.
#[derive(Parser, Debug)]
#[command(name = "ch_memory")]
pub struct Args {
    /// Sequence lengths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "20,50,100")]
    pub lengths: Vec<usize>,
    /// Seeds of each setting, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    pub seeds: Vec<u64>,
    /// Updates at most per run (each on a fresh minibatch).
    #[arg(long, default_value_t = 1500)]
    pub budget: usize,
    /// Hidden units.
    #[arg(long, default_value_t = 32)]
    pub num_hiddens: usize,
    /// Sequences per minibatch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Updates between two measurements of the held-out accuracy.
    #[arg(long, default_value_t = 25)]
    pub every: usize,
    /// The length whose gradients grads.svg shows, one of --lengths
    /// [default: the middle one]. The figure's models are trained again,
    /// on the first seed.
    #[arg(long)]
    pub grad_length: Option<usize>,
    /// Output folder.
    #[arg(long, default_value = "runs/ch_memory")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Refuses settings that cannot run, before anything is trained.
fn check(a: &Args) -> Result<()> {
    ensure!(
        !a.lengths.is_empty() && !a.seeds.is_empty(),
        "--lengths and --seeds need at least one value"
    );
    ensure!(
        a.lengths.iter().all(|&l| (2..=10_000).contains(&l)),
        "--lengths: each between 2 and 10000 tokens"
    );
    ensure!(
        (1..=1_000_000).contains(&a.budget),
        "--budget: between 1 and 1000000 updates"
    );
    ensure!(
        (1..=4096).contains(&a.num_hiddens),
        "--num-hiddens: between 1 and 4096"
    );
    ensure!(
        (1..=4096).contains(&a.batch_size),
        "--batch-size: between 1 and 4096"
    );
    ensure!(
        a.lr.is_finite() && a.lr > 0.0 && a.lr <= 10.0,
        "--lr: a positive number up to 10 (Adam's steps are about lr each)"
    );
    ensure!(a.every >= 1, "--every must be at least 1");
    let distinct = |v: &[u64]| {
        let mut sorted = v.to_vec();
        sorted.sort_unstable();
        sorted.windows(2).all(|w| w[0] != w[1])
    };
    let lengths: Vec<u64> = a.lengths.iter().map(|&l| l as u64).collect();
    ensure!(
        distinct(&lengths) && distinct(&a.seeds),
        "--lengths and --seeds: each value once"
    );
    if let Some(g) = a.grad_length {
        ensure!(
            a.lengths.contains(&g),
            "--grad-length {g}: the figure shows one of --lengths ({})",
            join(&a.lengths)
        );
    }
    // The largest run keeps every step's cache of the held-out sequences:
    // about 8 matrices of rows × hiddens f32 per step.
    let longest = a.lengths.iter().max().copied().unwrap_or(0);
    let rows = a.batch_size.max(HELD_OUT).max(256);
    let need = 32.0 * (longest * rows * a.num_hiddens) as f64;
    if let Some(have) = d2l::cli::available_memory() {
        ensure!(
            need <= have / 2.0,
            "the longest sequences need about {:.1} GB to train and \
             measure, more than half of the {:.1} GB free: use shorter \
             --lengths or fewer --num-hiddens",
            need / 1e9,
            have / 1e9
        );
    }
    Ok(())
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

fn setting(a: &Args, kind: Kind, len: usize, seed: u64) -> Setting {
    Setting {
        kind,
        len,
        seed,
        hiddens: a.num_hiddens,
        batch: a.batch_size,
        lr: a.lr,
        budget: a.budget,
        every: a.every,
    }
}

/// Runs everything and writes the outputs together.
pub fn run(a: &Args) -> Result<()> {
    check(a)?;
    let out = OutDir::check_for(&a.out, MEMORY_FILES)?;
    let grad_len = a.grad_length.unwrap_or(a.lengths[a.lengths.len() / 2]);
    let mut runs = Vec::new();
    for kind in Kind::ALL {
        for &len in &a.lengths {
            for &seed in &a.seeds {
                let s = setting(a, kind, len, seed);
                let o = with_model(&s, |m| m.train(&s));
                if !a.quiet {
                    eprintln!(
                        "{:<13} length {len:>4} seed {seed}: {}",
                        kind.name(),
                        cell(&o)
                    );
                }
                runs.push((s, o));
            }
        }
    }
    // ‖∂L/∂H_t‖ before and after training, seed of the first run.
    let probe = Recall::draw(grad_len, 256, &mut StdRng::seed_from_u64(7));
    let mut lines = Vec::new();
    for kind in Kind::ALL {
        let s = setting(a, kind, grad_len, a.seeds[0]);
        let (before, after) = with_model(&s, |m| {
            let before = m.state_grad_norms(&probe);
            m.train(&s);
            (before, m.state_grad_norms(&probe))
        });
        lines.push((kind, before, after));
    }
    let staged = out.stage()?;
    staged.write("result.md", table(a, &runs).as_bytes())?;
    staged.write("grads.svg", figure(&lines, grad_len)?.as_bytes())?;
    let settings = json!({
        "lengths": a.lengths, "seeds": a.seeds, "budget": a.budget,
        "num_hiddens": a.num_hiddens, "batch_size": a.batch_size,
        "lr": a.lr, "every": a.every, "solved": SOLVED,
        "grad_length": grad_len,
    });
    let runs_json: Vec<_> = runs
        .iter()
        .map(|(s, o)| {
            json!({"model": s.kind.name(), "length": s.len, "seed": s.seed,
                   "solved_at": o.solved_at, "diverged_at": o.diverged_at,
                   "curve": o.curve})
        })
        .collect();
    let norms_json: Vec<_> = lines
        .iter()
        .map(|(k, b, af)| {
            json!({"model": k.name(), "untrained": b, "trained": af})
        })
        .collect();
    let json = json!({
        "settings": settings, "runs": runs_json, "grad_norms": norms_json,
    });
    staged.write(
        "results.json",
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    staged.commit()?;
    if !a.quiet {
        println!("{}", table(a, &runs));
    }
    Ok(())
}

/// "250", or "– (27%)" for a run that did not reach the threshold.
fn cell(o: &Outcome) -> String {
    match (o.solved_at, o.diverged_at) {
        (Some(u), _) => u.to_string(),
        (None, Some(u)) => format!("diverged at {u}"),
        (None, None) => format!("– ({:.0}%)", 100.0 * o.last_accuracy()),
    }
}

/// Rows: the models; columns: the lengths; each cell the seeds' outcomes.
fn table(a: &Args, runs: &[(Setting, Outcome)]) -> String {
    let mut s = String::from("| model |");
    let mut rule = String::from("|---|");
    for len in &a.lengths {
        s += &format!(" length {len} |");
        rule += "---|";
    }
    s += &format!("\n{rule}\n");
    for kind in Kind::ALL {
        s += &format!("| {} |", kind.name());
        for &len in &a.lengths {
            let cells: Vec<String> = runs
                .iter()
                .filter(|(r, _)| r.kind == kind && r.len == len)
                .map(|(_, o)| cell(o))
                .collect();
            s += &format!(" {} |", cells.join(" · "));
        }
        s += "\n";
    }
    s += &format!(
        "\nEach cell: for each seed ({}), the updates until the held-out \
         accuracy reached {:.0}%, or \"–\" and the accuracy after {} \
         updates. Chance is 25%. Adam (lr {}), {} hidden units, batches of \
         {}.\n",
        a.seeds
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        100.0 * SOLVED,
        a.budget,
        a.lr,
        a.num_hiddens,
        a.batch_size
    );
    s
}

const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

/// The figure's lowest value: f32 underflows not far below.
const FLOOR: f64 = 1e-20;

/// Two panels, untrained and trained: ‖∂L/∂H_t‖ against t on a log
/// scale, a line per model.
fn figure(lines: &[(Kind, Vec<f64>, Vec<f64>)], len: usize) -> Result<String> {
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (960, 400)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        for (p, (area, title)) in panels
            .iter()
            .zip(["before training", "after training"])
            .enumerate()
        {
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!("‖∂L/∂H_t‖, length {len}, {title}"),
                    ("sans-serif", 16),
                )
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(60)
                .build_cartesian_2d(0..len, (FLOOR..1e8).log_scale())?;
            chart
                .configure_mesh()
                .x_desc("step t (the loss is read after the last)")
                .y_desc("gradient norm")
                .y_label_formatter(&|y| format!("{y:.0e}"))
                .draw()?;
            for ((kind, before, after), color) in lines.iter().zip(COLORS) {
                let ys = if p == 0 { before } else { after };
                let points =
                    ys.iter().enumerate().map(|(t, &v)| (t, v.max(FLOOR)));
                chart
                    .draw_series(LineSeries::new(
                        points,
                        color.stroke_width(2),
                    ))?
                    .label(kind.name())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], color)
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 12))
                .draw()?;
        }
        root.present()?;
    }
    Ok(svg)
}

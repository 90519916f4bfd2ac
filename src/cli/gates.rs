//! `gates`: a passage through a trained model, and what its gates did on
//! it, with how often each gate saturates on held-out text.

use super::generate::load_scratch_model;
use super::SplitArgs;
use crate::data::{normalize_line, SplitOffsets};
use crate::inspect::{
    self, HeatRow, Readout, Role, Saturation, Section, Trace,
};
use crate::io::checkpoint::Checkpoint;
use crate::io::console;
use crate::io::outputs::{OutDir, GATES_FILES};
use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use serde_json::json;
use std::fmt::Write;
use std::path::PathBuf;

/// The passage drawn by default: the book's first sentence.
pub const PASSAGE: &str = "the time traveller for so it will be \
    convenient to speak of him was expounding a recondite matter to us";
/// The longest passage a heatmap draws.
pub const MAX_PASSAGE: usize = 1000;
/// The most units a heatmap draws per gate.
pub const MAX_UNITS: usize = 32;
/// The fewest held-out characters `gates` measures on.
pub const MIN_HELD_OUT: usize = 100;
/// Characters per line of the heatmap.
const PER_LINE: usize = 64;

/// `gates`: look inside a trained model's gates.
#[derive(Debug, Clone, Args)]
pub struct GatesArgs {
    /// A checkpoint written by `train` [default:
    /// runs/<chapter>/model.safetensors]
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The passage to draw, one column per character, cut like the corpus
    /// (lower-case letters; anything else becomes a space); at most 1000
    /// characters.
    #[arg(long, default_value = PASSAGE)]
    pub text: String,
    /// Units to draw for every gate, comma-separated [default: for each
    /// gate, the --top units that follow spaces most closely and the
    /// --top that follow the position in a word, on the held-out text]
    #[arg(long, value_delimiter = ',')]
    pub units: Option<Vec<usize>>,
    /// Without --units: how many units to draw per feature and gate
    /// (1 to 16).
    #[arg(long, default_value_t = 3, conflicts_with = "units",
          value_parser = clap::value_parser!(u16).range(1..=16))]
    pub top: u16,
    #[command(flatten)]
    pub split: SplitArgs,
    /// Output folder [default: runs/<chapter>-gates]
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One reading measured on the held-out text.
struct Measured {
    name: &'static str,
    /// For a gate.
    saturation: Option<Saturation>,
    /// The mean of every value.
    mean: f64,
    space: Vec<f64>,
    position: Vec<f64>,
}

/// The passage as the corpus cuts text, checked.
fn passage(text: &str) -> Result<Vec<char>> {
    let cut: Vec<char> = normalize_line(text).chars().collect();
    ensure!(
        !cut.is_empty(),
        "--text has no letters to draw: give a passage of English text"
    );
    ensure!(
        cut.len() <= MAX_PASSAGE,
        "--text is {} characters long once cut like the corpus; a heatmap \
         draws at most {MAX_PASSAGE}",
        cut.len()
    );
    Ok(cut)
}

/// Refuses a split whose validation text is not the one the checkpoint
/// was validated on, when the checkpoint records it (runs since `gates`
/// do): its "held-out" text could be training text.
fn check_split(ck: &Checkpoint, here: &SplitOffsets) -> Result<()> {
    let Ok(recorded) = ck.meta("split") else {
        return Ok(());
    };
    let recorded: SplitOffsets = serde_json::from_str(recorded).context(
        "the checkpoint's metadata `split` is not valid: the file was \
         edited or damaged",
    )?;
    let span = |r: &std::ops::Range<usize>| format!("{}..{}", r.start, r.end);
    ensure!(
        recorded.valid == here.valid,
        "the checkpoint was trained on characters {} and validated on {} \
         (--split {}), but these split flags validate on {}: pass the \
         --split, --max-tokens and --valid-tokens it was trained with",
        span(&recorded.train),
        span(&recorded.valid),
        recorded.name,
        span(&here.valid)
    );
    Ok(())
}

/// Checks `--units` against the model's `hiddens`.
fn check_units(units: &[usize], hiddens: usize) -> Result<()> {
    ensure!(
        !units.is_empty() && units.len() <= MAX_UNITS,
        "--units: from 1 to {MAX_UNITS} units, got {}",
        units.len()
    );
    for (i, &u) in units.iter().enumerate() {
        ensure!(
            u < hiddens,
            "--units {u}: the model's units are numbered 0 to {}",
            hiddens - 1
        );
        ensure!(!units[..i].contains(&u), "--units: {u} is given twice");
    }
    Ok(())
}

/// Runs `gates` for a one-layer from-scratch model: loads the checkpoint
/// as `generate` does, measures every reading on the validation text of
/// `--split`, draws the passage, and writes heatmap.svg, saturation.svg,
/// gates.csv (every unit, every character of the passage), gates.md (the
/// table it prints) and gates.json together.
pub fn gates_scratch<C: Readout<f32>>(
    args: &GatesArgs,
    chapter: &str,
    model: &str,
    title: &str,
    cell: impl FnOnce(&Checkpoint, usize, usize) -> Result<C>,
) -> Result<()> {
    let text = passage(&args.text)?;
    let loaded =
        load_scratch_model(args.checkpoint.as_deref(), chapter, model, cell)?;
    let (m, vocab) = (&loaded.model, &loaded.vocab);
    let hiddens = m.cell.num_hiddens();
    if let Some(units) = &args.units {
        check_units(units, hiddens)?;
    }
    let splits = args.split.load()?;
    let index = |c: char| vocab.index(&c.to_string());

    // The held-out text, in the checkpoint's own vocabulary.
    let held_out: Vec<char> = splits
        .valid
        .iter()
        .map(|&i| splits.vocab.to_token(i).chars().next().unwrap_or(' '))
        .collect();
    if held_out.len() < MIN_HELD_OUT {
        bail!(
            "the validation text has {} characters, too few to measure a \
             unit's saturation or correlations: raise --valid-tokens to at \
             least {MIN_HELD_OUT}",
            held_out.len()
        );
    }
    check_split(&loaded.checkpoint, &splits.offsets)?;
    let default_out = PathBuf::from(format!("runs/{chapter}-gates"));
    let out_path = args.out.as_deref().unwrap_or(&default_out);
    let out = OutDir::check_for(out_path, GATES_FILES)?;
    let tokens: Vec<usize> = held_out.iter().map(|&c| index(c)).collect();
    let features = (
        inspect::is_space(&held_out),
        inspect::position_in_word(&held_out),
    );
    let measured: Vec<Measured> = inspect::trace(&m.cell, &m.params, &tokens)
        .iter()
        .map(|t| Measured {
            name: t.name,
            saturation: (t.role == Role::Gate)
                .then(|| inspect::saturation(&t.values)),
            mean: t.values.iter().map(|&v| f64::from(v)).sum::<f64>()
                / t.values.len() as f64,
            space: inspect::correlations(&t.values, &features.0),
            position: inspect::correlations(&t.values, &features.1),
        })
        .collect();

    // The passage.
    let tokens: Vec<usize> = text.iter().map(|&c| index(c)).collect();
    let traces = inspect::trace(&m.cell, &m.params, &tokens);
    let top = usize::from(args.top);
    let sections: Vec<Section> = traces
        .iter()
        .zip(&measured)
        .map(|(t, me)| section(t, me, args.units.as_deref(), top))
        .collect();
    let legend = [
        "One row per unit, one column per character (· is a space).",
        "Gates: red 0, white 0.5, blue 1. States: red −m, white 0, blue +m \
         (m: the row's largest size).",
        "sp, pos: the unit's correlation, on held-out text, with a space \
         and with the position in a word.",
    ];
    let heatmap = inspect::heatmap_svg(&text, &sections, PER_LINE, &legend);
    let gates: Vec<(&str, &Saturation)> = measured
        .iter()
        .filter_map(|me| Some((me.name, me.saturation.as_ref()?)))
        .collect();
    let sat_title = format!(
        "{title}: saturation on {} held-out characters",
        held_out.len()
    );
    let saturation = inspect::saturation_svg(&gates, &sat_title)
        .map_err(|e| anyhow::anyhow!("cannot draw saturation.svg: {e}"))?;
    let mut source = loaded.path.display().to_string();
    if let Ok(epoch) = loaded.checkpoint.meta("epoch") {
        source += &format!(", the best epoch: {epoch}");
    }
    if let Ok(variant) = loaded.checkpoint.meta("variant") {
        source += &format!(", variant {variant}");
    }
    let summary = summary_md(title, &source, held_out.len(), &measured);

    let staged = out.stage()?;
    staged.write("heatmap.svg", heatmap.as_bytes())?;
    staged.write("saturation.svg", saturation.as_bytes())?;
    staged.write("gates.csv", csv(&text, &traces).as_bytes())?;
    staged.write("gates.md", summary.as_bytes())?;
    let json = summary_json(&text, &sections, &measured, held_out.len());
    staged.write("gates.json", json.as_bytes())?;
    staged.commit()?;
    console::result(&format!(
        "{summary}\nWrote heatmap.svg, saturation.svg, gates.csv, gates.md \
         and gates.json to {}\n",
        out.path().display()
    ))
    .context("cannot print the summary to standard output")
}

/// The rows of one reading: `units`, or its strongest units for each
/// feature.
fn section(
    t: &Trace<f32>,
    me: &Measured,
    units: Option<&[usize]>,
    top: usize,
) -> Section {
    let chosen = match units {
        Some(u) => u.to_vec(),
        None => {
            let mut u = inspect::strongest(&me.space, top);
            for p in inspect::strongest(&me.position, top) {
                if !u.contains(&p) {
                    u.push(p);
                }
            }
            u
        }
    };
    let rows = chosen
        .iter()
        .map(|&j| {
            let values: Vec<f64> =
                t.values.column(j).iter().map(|&v| f64::from(v)).collect();
            let (center, half_range) = match t.role {
                Role::Gate => (0.5, 0.5),
                Role::State => {
                    let m = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                    (0.0, if m > 0.0 { m } else { 1.0 })
                }
            };
            HeatRow {
                label: label(t.name, j, me),
                values,
                center,
                half_range,
            }
        })
        .collect();
    Section {
        title: t.name.to_string(),
        units: chosen,
        rows,
    }
}

/// A row's label: the reading, the unit and its two correlations.
fn label(name: &str, j: usize, me: &Measured) -> String {
    format!(
        "{name} {j:>3} sp {:+.2} pos {:+.2}",
        me.space[j], me.position[j]
    )
}

/// Every unit of every reading at every character of the passage: one
/// row per (character, reading), the values as the cell computed them.
fn csv(text: &[char], traces: &[Trace<f32>]) -> String {
    let hiddens = traces.first().map_or(0, |t| t.values.ncols());
    let mut s = String::from("step,char,reading");
    for j in 0..hiddens {
        let _ = write!(s, ",u{j}");
    }
    s.push('\n');
    for (step, c) in text.iter().enumerate() {
        for t in traces {
            let quoted = c.to_string().replace('"', "\"\"");
            let _ = write!(s, "{step},\"{quoted}\",{}", t.name);
            for v in t.values.row(step) {
                let _ = write!(s, ",{v}");
            }
            s.push('\n');
        }
    }
    s
}

fn percent(f: f64) -> String {
    format!("{:.1}%", 100.0 * f)
}

/// The unit with the strongest correlation, as `unit (r)`.
fn best(r: &[f64]) -> String {
    match inspect::strongest(r, 1).first() {
        Some(&j) => format!("{j} ({:+.2})", r[j]),
        None => "–".into(),
    }
}

fn summary_md(
    title: &str,
    source: &str,
    held_out: usize,
    measured: &[Measured],
) -> String {
    let mut s = format!(
        "{title} ({source}), on {held_out} held-out characters:\n\n| reading | \
         mean | values < 0.1 | values > 0.9 | units < 0.1 over half the \
         time | units > 0.9 over half the time | unit most like a space \
         (r) | unit most like the position in a word (r) |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for me in measured {
        let (low, high, mostly) = match &me.saturation {
            Some(sat) => {
                let (l, h) = sat.overall();
                let (ml, mh) = sat.mostly_saturated();
                let n = sat.low.len();
                (percent(l), percent(h), format!("{ml} of {n} | {mh} of {n}"))
            }
            None => ("–".into(), "–".into(), "– | –".into()),
        };
        let _ = writeln!(
            s,
            "| {} | {:.3} | {low} | {high} | {mostly} | {} | {} |",
            me.name,
            me.mean,
            best(&me.space),
            best(&me.position)
        );
    }
    s
}

fn summary_json(
    text: &[char],
    sections: &[Section],
    measured: &[Measured],
    held_out: usize,
) -> String {
    let readings: Vec<_> = measured
        .iter()
        .zip(sections)
        .map(|(me, sec)| {
            let sat = me.saturation.as_ref();
            json!({
                "name": me.name,
                "mean": me.mean,
                "low": sat.map(|s| s.overall().0),
                "high": sat.map(|s| s.overall().1),
                "units_low": sat.map(|s| &s.low),
                "units_high": sat.map(|s| &s.high),
                "space_r": me.space,
                "position_r": me.position,
                "drawn": sec.units.clone(),
            })
        })
        .collect();
    let passage: String = text.iter().collect();
    let json = json!({
        "passage": passage, "held_out_chars": held_out,
        "low": inspect::LOW, "high": inspect::HIGH, "readings": readings,
    });
    serde_json::to_string_pretty(&json).unwrap_or_default()
}

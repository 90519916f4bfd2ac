//! The perplexity-per-epoch curve (d2l's `Animator`), drawn as an SVG file.
//!
//! plotters writes text as SVG `<text>` elements and lets the browser pick
//! the font, so no font file or system library is needed.

use crate::io::atomic::write_atomic;
use crate::train::EpochMetrics;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Draws training and validation perplexity per epoch, on a log scale, and
/// writes the SVG atomically to `path`.
pub fn plot_perplexity(
    epochs: &[EpochMetrics],
    title: &str,
    path: &Path,
) -> std::io::Result<()> {
    let svg = perplexity_svg(epochs, title)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    write_atomic(path, svg.as_bytes())
}

/// The SVG text of the perplexity plot.
pub fn perplexity_svg(
    epochs: &[EpochMetrics],
    title: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (640, 400)).into_drawing_area();
        root.fill(&WHITE)?;
        let last = epochs.last().map_or(1, |e| e.epoch).max(1);
        let lines = [
            line("training", BLUE, epochs, |e| e.train_perplexity),
            line("validation", RED, epochs, |e| e.valid_perplexity),
        ];
        let panel = Panel {
            title,
            font_size: 20,
            last,
            light_grid: false,
        };
        draw_panel(&root, panel, &lines)?;
        root.present()?;
    }
    Ok(svg)
}

/// One curve of a plot: its label, colour and (epoch, perplexity) points.
struct Line<'a> {
    label: &'a str,
    color: RGBColor,
    points: Vec<(usize, f64)>,
}

fn line<'a>(
    label: &'a str,
    color: RGBColor,
    epochs: &[EpochMetrics],
    pick: Pick,
) -> Line<'a> {
    let points = epochs.iter().map(|e| (e.epoch, pick(e))).collect();
    Line {
        label,
        color,
        points,
    }
}

/// Which perplexity a curve shows.
type Pick = fn(&EpochMetrics) -> f64;

/// How one chart of perplexity per epoch looks.
struct Panel<'a> {
    title: &'a str,
    font_size: u32,
    /// The last epoch on the x axis.
    last: usize,
    /// White minor grid lines, for a busy plot.
    light_grid: bool,
}

/// Perplexity per epoch on a log scale, one curve per line, with a legend.
fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    panel: Panel<'_>,
    lines: &[Line<'_>],
) -> Result<(), Box<dyn std::error::Error>> {
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|&(_, v)| v))
        .filter(|v| v.is_finite())
        .fold(2.0f64, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, ("sans-serif", panel.font_size))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(1usize..panel.last, (0.9f64..top).log_scale())?;
    let mut mesh = chart.configure_mesh();
    if panel.light_grid {
        mesh.light_line_style(WHITE);
    }
    mesh.x_desc("epoch")
        .y_desc("perplexity (log scale)")
        .draw()?;
    for l in lines {
        let color = l.color;
        chart
            .draw_series(LineSeries::new(
                l.points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(l.label)
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], color)
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Colours for up to eight runs in one comparison plot.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Compares runs side by side: training perplexity per epoch on the left,
/// validation perplexity on the right, one colour per run, both on a log
/// scale. Writes the SVG atomically to `path`.
///
/// # Panics
/// If there are more runs than colours (8).
pub fn plot_comparison(
    runs: &[(String, Vec<EpochMetrics>)],
    path: &Path,
) -> std::io::Result<()> {
    let svg = comparison_svg(runs)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    write_atomic(path, svg.as_bytes())
}

/// The SVG text of [`plot_comparison`].
pub fn comparison_svg(
    runs: &[(String, Vec<EpochMetrics>)],
) -> Result<String, Box<dyn std::error::Error>> {
    assert!(
        runs.len() <= PALETTE.len(),
        "comparison_svg: at most {} runs, got {}",
        PALETTE.len(),
        runs.len()
    );
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (960, 400)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        let last = runs
            .iter()
            .filter_map(|(_, e)| e.last().map(|m| m.epoch))
            .max()
            .unwrap_or(1)
            .max(2);
        let sides: [(&str, Pick); 2] = [
            ("training perplexity", |e| e.train_perplexity),
            ("validation perplexity", |e| e.valid_perplexity),
        ];
        for (area, (title, pick)) in panels.iter().zip(sides) {
            let lines: Vec<Line> = runs
                .iter()
                .zip(PALETTE)
                .map(|((name, epochs), color)| line(name, color, epochs, pick))
                .collect();
            let panel = Panel {
                title,
                font_size: 18,
                last,
                light_grid: true,
            };
            draw_panel(area, panel, &lines)?;
        }
        root.present()?;
    }
    Ok(svg)
}

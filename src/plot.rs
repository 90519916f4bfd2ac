//! The perplexity-per-epoch curve (d2l's `Animator`), drawn as an SVG file.
//!
//! plotters writes text as SVG `<text>` elements and lets the browser pick
//! the font, so no font file or system library is needed.

use crate::atomic::write_atomic;
use crate::train::EpochMetrics;
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
        let values = epochs
            .iter()
            .flat_map(|e| [e.train_perplexity, e.valid_perplexity])
            .filter(|v| v.is_finite());
        let top = values.fold(2.0f64, f64::max) * 1.2;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(1usize..last, (0.9f64..top).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("perplexity (log scale)")
            .draw()?;
        type Pick = fn(&EpochMetrics) -> f64;
        let series: [(&str, RGBColor, Pick); 2] = [
            ("training", BLUE, |e| e.train_perplexity),
            ("validation", RED, |e| e.valid_perplexity),
        ];
        for (label, color, pick) in series {
            let points: Vec<(usize, f64)> =
                epochs.iter().map(|e| (e.epoch, pick(e))).collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color)
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

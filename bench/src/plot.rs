//! The sweep as a figure: for each model, effective GFLOP/s against the
//! hidden size (batch 32) and against the batch size (hidden 256), one
//! line per implementation, with the machine's two-core GEMM peak drawn
//! across.

use plotters::prelude::*;
use serde_json::Value;

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// The SVG text of the sweep figure for `models`.
pub fn sweep_svg(
    rows: &[Value],
    models: &[String],
    peak: f64,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut svg = String::new();
    {
        let height = 300 * models.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (960, height))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((models.len().max(1), 2));
        // Room above the highest line for the legend, five lines tall.
        let top = rows
            .iter()
            .filter_map(|r| r["gflops"].as_f64())
            .fold(peak, f64::max)
            * 1.8;
        for (i, model) in models.iter().enumerate() {
            let mine: Vec<&Value> = rows
                .iter()
                .filter(|r| r["model"] == model.as_str())
                .collect();
            // (x axis, its key, the other key, its name and the value it
            // is held at)
            let sides: [(&str, &str, &str, &str, u64); 2] = [
                ("hidden units", "hiddens", "batch", "batch", 32),
                ("batch rows", "batch", "hiddens", "hidden", 256),
            ];
            for (j, (desc, x_key, fixed_key, fixed_name, fixed)) in
                sides.into_iter().enumerate()
            {
                let on_axis: Vec<&Value> = mine
                    .iter()
                    .copied()
                    .filter(|r| r[fixed_key].as_u64() == Some(fixed))
                    .collect();
                let title = format!("{model}: {fixed_name} {fixed}");
                draw_panel(
                    &panels[2 * i + j],
                    &title,
                    desc,
                    x_key,
                    &on_axis,
                    (peak, top),
                )?;
            }
        }
        root.present()?;
    }
    Ok(svg)
}

/// One panel: GFLOP/s against `x_key` (on a log₂ axis, labelled with
/// the sizes themselves), a line per implementation, and the peak.
fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    desc: &str,
    x_key: &str,
    rows: &[&Value],
    (peak, top): (f64, f64),
) -> Result<(), Box<dyn std::error::Error>> {
    let xs = rows.iter().filter_map(|r| r[x_key].as_f64()).map(f64::log2);
    let (lo, hi) =
        xs.fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(x), h.max(x)));
    if hi <= lo {
        return Ok(());
    }
    let (lo, hi) = (lo - 0.25, hi + 0.25);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(lo..hi, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(desc)
        .y_desc("effective GFLOP/s")
        .x_labels(8)
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-9 {
                format!("{:.0}", x.exp2())
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let grey = BLACK.mix(0.5);
    chart
        .draw_series(LineSeries::new([(lo, peak), (hi, peak)], grey))?
        .label("two-core GEMM peak")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey));
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for r in rows {
        let point = (
            r[x_key].as_f64().unwrap_or(f64::NAN).log2(),
            r["gflops"].as_f64().unwrap_or(f64::NAN),
        );
        match lines.iter_mut().find(|(l, _)| *l == label(r)) {
            Some((_, points)) => points.push(point),
            None => lines.push((label(r), vec![point])),
        }
    }
    for ((label, points), color) in lines.into_iter().zip(COLORS) {
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], color)
            });
        chart.draw_series(
            points.iter().map(|&p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// "fast, 2 threads" or "libtorch".
fn label(r: &Value) -> String {
    if r["impl"] == "concise" {
        return "libtorch".to_string();
    }
    let threads = r["threads"].as_u64().unwrap_or(0);
    let s = if threads == 1 { "" } else { "s" };
    let split = crate::report::split_name(r);
    format!("scratch, {threads} thread{s}{split}")
}

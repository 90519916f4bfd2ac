//! The two figures of a look inside the gates: a heatmap of chosen units
//! over the characters of a passage, and Karpathy et al.'s saturation
//! plot, one dot per unit.

use super::{Saturation, HIGH, LOW};
use plotters::prelude::*;
use std::fmt::Write;

/// One row of a heatmap: a unit's values, one per character, coloured
/// white at `center`, full red at `center − half_range` and below, full
/// blue at `center + half_range` and above.
#[derive(Debug, Clone)]
pub struct HeatRow {
    pub label: String,
    pub values: Vec<f64>,
    pub center: f64,
    pub half_range: f64,
}

/// The rows of one gate (or state), under a title: one per unit.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    pub units: Vec<usize>,
    pub rows: Vec<HeatRow>,
}

const CELL_W: usize = 12;
const CELL_H: usize = 12;
const LABEL_W: usize = 190;
const TEXT_H: usize = 15;
const TITLE_H: usize = 26;
/// The height of two lines of the legend.
const LEGEND_H: usize = 32;

/// The colour of `v` on a row's red–white–blue scale.
fn colour(row: &HeatRow, v: f64) -> String {
    let t = ((v - row.center) / row.half_range).clamp(-1.0, 1.0);
    let t = if t.is_finite() { t } else { 0.0 };
    let (end, t) = if t < 0.0 {
        ((202.0, 0.0, 32.0), -t)
    } else {
        ((5.0, 113.0, 176.0), t)
    };
    let mix = |e: f64| (255.0 + (e - 255.0) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(end.0), mix(end.1), mix(end.2))
}

/// `s` with the characters XML gives a meaning escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The heatmap: `legend`, a line each, then for each section the passage
/// in lines of `per_line` characters, each line followed by one strip of
/// cells per row. Spaces are drawn as `·`.
///
/// # Panics
/// If a row does not hold one value per character, or `per_line` is 0.
pub fn heatmap_svg(
    text: &[char],
    sections: &[Section],
    per_line: usize,
    legend: &[&str],
) -> String {
    assert!(per_line > 0, "heatmap_svg: per_line must be positive");
    let lines = text.len().div_ceil(per_line).max(1);
    let block = |rows: usize| lines * (TEXT_H + rows * CELL_H + 8);
    let legend_h = LEGEND_H * legend.len().max(1) / 2 + 10;
    let height = legend_h
        + sections
            .iter()
            .map(|s| TITLE_H + block(s.rows.len()))
            .sum::<usize>();
    // Wide enough for the legend, however short the passage.
    let width = (LABEL_W + per_line.min(text.len()) * CELL_W + 10).max(640);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         font-family=\"monospace\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for (i, line) in legend.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"{}\" font-family=\"sans-serif\" \
             font-size=\"12\">{}</text>",
            16 + i * LEGEND_H / 2,
            escape(line)
        );
    }
    let mut y = legend_h;
    for section in sections {
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"{}\" font-family=\"sans-serif\" \
             font-size=\"14\" font-weight=\"bold\">{}</text>",
            y + 18,
            escape(&section.title)
        );
        y += TITLE_H;
        for (l, chunk) in text.chunks(per_line).enumerate() {
            let start = l * per_line;
            for (i, &c) in chunk.iter().enumerate() {
                let shown = if c == ' ' { "·".into() } else { c.to_string() };
                let _ = writeln!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                    LABEL_W + i * CELL_W + CELL_W / 2,
                    y + TEXT_H - 4,
                    escape(&shown)
                );
            }
            y += TEXT_H;
            for row in &section.rows {
                assert_eq!(
                    row.values.len(),
                    text.len(),
                    "heatmap_svg: row {} needs one value per character",
                    row.label
                );
                let _ = writeln!(
                    svg,
                    "<text x=\"4\" y=\"{}\">{}</text>",
                    y + CELL_H - 2,
                    escape(&row.label)
                );
                for (i, &v) in
                    row.values[start..start + chunk.len()].iter().enumerate()
                {
                    let _ = writeln!(
                        svg,
                        "<rect x=\"{}\" y=\"{y}\" width=\"{CELL_W}\" \
                         height=\"{CELL_H}\" fill=\"{}\"><title>{v:.3}\
                         </title></rect>",
                        LABEL_W + i * CELL_W,
                        colour(row, v)
                    );
                }
                y += CELL_H;
            }
            y += 8;
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Karpathy et al.'s saturation plot: one panel per gate, one dot per
/// unit at (fraction of steps below 0.1, fraction above 0.9). Units on
/// the diagonal x + y = 1 are always saturated, one way or the other.
pub fn saturation_svg(
    gates: &[(&str, &Saturation)],
    title: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut svg = String::new();
    {
        let width = 300 * gates.len().max(1) as u32;
        let root =
            SVGBackend::with_string(&mut svg, (width, 340)).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(title, ("sans-serif", 18))?;
        let panels = root.split_evenly((1, gates.len().max(1)));
        for (area, (name, s)) in panels.iter().zip(gates) {
            let mut chart = ChartBuilder::on(area)
                .caption(*name, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(44)
                .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
            chart
                .configure_mesh()
                .x_desc(format!("fraction < {LOW}"))
                .y_desc(format!("fraction > {HIGH}"))
                .x_labels(6)
                .y_labels(6)
                .draw()?;
            chart.draw_series(LineSeries::new(
                [(0.0, 1.0), (1.0, 0.0)],
                BLACK.mix(0.3),
            ))?;
            chart.draw_series(s.low.iter().zip(&s.high).map(|(&x, &y)| {
                Circle::new((x, y), 3, RGBColor(31, 119, 180).mix(0.6).filled())
            }))?;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_runs_red_white_blue_around_the_center() {
        let row = HeatRow {
            label: String::new(),
            values: Vec::new(),
            center: 0.5,
            half_range: 0.5,
        };
        assert_eq!(colour(&row, 0.0), "#ca0020");
        assert_eq!(colour(&row, -3.0), "#ca0020");
        assert_eq!(colour(&row, 0.5), "#ffffff");
        assert_eq!(colour(&row, 1.0), "#0571b0");
        assert_eq!(colour(&row, f64::NAN), "#ffffff");
    }

    #[test]
    fn labels_and_characters_are_escaped() {
        let section = Section {
            title: "<Z>".into(),
            units: vec![0],
            rows: vec![HeatRow {
                label: "a & b".into(),
                values: vec![0.5, 0.5],
                center: 0.5,
                half_range: 0.5,
            }],
        };
        let svg = heatmap_svg(&['<', ' '], &[section], 64, &["\"x\""]);
        assert!(svg.contains("&lt;Z&gt;") && svg.contains("a &amp; b"));
        assert!(svg.contains(">&lt;</text>") && svg.contains(">·</text>"));
        assert!(svg.contains("&quot;x&quot;") && !svg.contains("<Z>"));
    }
}

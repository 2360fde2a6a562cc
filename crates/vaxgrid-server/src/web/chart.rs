//! What the server-drawn SVG charts share: a plot area and the scales from
//! values to it, and the points of a line. The planner's doses-per-day
//! chart and the supply's fridge temperature chart draw with it; each
//! chart's shapes are its own askama SVG template (escaped like a page).

/// A plot area of a chart (in the SVG's user units) and the ranges of
/// values its two axes show.
#[derive(Debug, Clone, Copy)]
pub struct Plot {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    /// The values at the left and right edges.
    pub x_range: (f64, f64),
    /// The values at the bottom and top edges.
    pub y_range: (f64, f64),
}

impl Plot {
    /// The horizontal position of a value (clamped to the plot).
    pub fn x(&self, v: f64) -> f64 {
        let (lo, hi) = self.x_range;
        let share = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        self.left + self.width * share.clamp(0.0, 1.0)
    }

    /// The vertical position of a value (clamped to the plot).
    pub fn y(&self, v: f64) -> f64 {
        let (lo, hi) = self.y_range;
        let share = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        self.top + self.height - self.height * share.clamp(0.0, 1.0)
    }

    /// The bottom edge (the x axis).
    pub fn base(&self) -> f64 {
        self.top + self.height
    }

    /// The right edge.
    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    /// A polyline's `points` through positions already on the plot.
    pub fn points(positions: impl IntoIterator<Item = (f64, f64)>) -> String {
        positions
            .into_iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::Plot;

    #[test]
    fn values_map_onto_the_plot_and_stay_inside_it() {
        let p = Plot {
            left: 40.0,
            top: 10.0,
            width: 600.0,
            height: 100.0,
            x_range: (0.0, 60.0),
            y_range: (-20.0, 80.0),
        };
        assert_eq!(p.x(30.0), 340.0);
        assert_eq!(p.y(-20.0), 110.0);
        assert_eq!(p.y(80.0), 10.0);
        assert_eq!(p.y(30.0), 60.0);
        assert_eq!(p.y(500.0), 10.0, "clamped");
        assert_eq!(Plot::points([(1.0, 2.0), (3.25, 4.0)]), "1.0,2.0 3.2,4.0");
    }
}

//! The PNG canvas of the figures: plotters' bitmap backend, drawn at a whole-number scale so that every
//! PNG is at least [`MIN_PNG_WIDTH`] pixels wide with lines, marks and text in proportion, and with text
//! set by wijksim itself from the embedded DejaVu Sans.
//!
//! Why wijksim sets the text: plotters 0.3.7 renders each glyph relative to its own ink box and moves
//! on by the advance truncated to a whole pixel, so it drops every glyph's left side bearing. Narrow
//! glyphs with a wide bearing (`l`, `i`, `j`, `1`) then slide onto the glyph before them and others
//! leave holes: "clients" read "dients", "bij" read "bi j". Here a line of text is laid out once, with
//! the font's advances and kerning at sub-pixel positions, and each glyph is rasterised at its exact
//! position. The size follows the SVG: plotters writes `font-size` as the style's size / 1.24 (the em),
//! so a PNG and its SVG set text at the same size.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform,
};
use std::sync::OnceLock;

/// The narrowest PNG a run writes, in pixels.
pub const MIN_PNG_WIDTH: u32 = 1600;

/// The scale a figure of `width` (SVG units) is drawn at as PNG: the least whole number that makes it
/// at least [`MIN_PNG_WIDTH`] pixels wide.
pub fn png_scale(width: u32) -> u32 {
    MIN_PNG_WIDTH.div_ceil(width.max(1)).max(1)
}

/// The embedded font, parsed once.
fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(super::FONT).expect("the embedded DejaVu Sans is a valid font")
    })
}

/// A line of text laid out at em size `em` (pixels): each glyph with its pen position, and the width.
pub struct Line {
    /// Glyphs and their pen x from the start of the line.
    pub glyphs: Vec<(GlyphId, f32)>,
    /// The advance of the whole line.
    pub width: f32,
    /// The scale ab_glyph draws at (its "pixel height" is the ascent minus the descent).
    pub scale: PxScale,
}

/// Lays out `text` at em size `em` in pixels: advances plus kerning, at sub-pixel positions.
pub fn layout(text: &str, em: f32) -> Line {
    let f = font();
    let upem = f.units_per_em().unwrap_or(2048.0);
    let scale = PxScale::from(em * f.height_unscaled() / upem);
    let sf = f.as_scaled(scale);
    let mut x = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            x += sf.kern(p, id);
        }
        glyphs.push((id, x));
        x += sf.h_advance(id);
        prev = Some(id);
    }
    Line {
        glyphs,
        width: x,
        scale,
    }
}

/// The em size in pixels of a plotters text style of `size`, as the SVG backend writes it.
pub fn em_of(size: f64) -> f32 {
    (size / 1.24) as f32
}

/// A colour and a stroke width, for the scaled calls into the bitmap backend.
struct Stroke {
    color: BackendColor,
    width: u32,
}

impl BackendStyle for Stroke {
    fn color(&self) -> BackendColor {
        self.color
    }
    fn stroke_width(&self) -> u32 {
        self.width
    }
}

/// Plotters' bitmap backend seen at 1/`k` of its size: a figure draws in its own units (as for SVG) and
/// every coordinate, width and radius is multiplied by `k`; text is set by [`layout`].
pub struct Png<'a> {
    inner: BitMapBackend<'a>,
    k: i32,
}

impl<'a> Png<'a> {
    /// A canvas of `size` figure units over an RGB buffer of `size` x `k` pixels.
    pub fn new(buf: &'a mut [u8], size: (u32, u32), k: u32) -> Png<'a> {
        let k = k.max(1);
        Png {
            inner: BitMapBackend::with_buffer(buf, (size.0 * k, size.1 * k)),
            k: k as i32,
        }
    }

    fn at(&self, (x, y): BackendCoord) -> BackendCoord {
        (x * self.k, y * self.k)
    }

    fn stroke<S: BackendStyle>(&self, style: &S) -> Stroke {
        Stroke {
            color: style.color(),
            width: style.stroke_width() * self.k as u32,
        }
    }
}

type Res = Result<(), DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

impl DrawingBackend for Png<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        let (w, h) = self.inner.get_size();
        (w / self.k as u32, h / self.k as u32)
    }

    fn ensure_prepared(&mut self) -> Res {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Res {
        self.inner.present()
    }

    fn draw_pixel(&mut self, p: BackendCoord, color: BackendColor) -> Res {
        let (x, y) = self.at(p);
        // The bitmap backend fills a rectangle up to, not including, its lower right corner.
        let k = self.k;
        self.inner.draw_rect((x, y), (x + k, y + k), &color, true)
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, s: &S) -> Res {
        let k = self.k;
        let (a, b) = (self.at(from), self.at(to));
        if s.stroke_width() == 1 && (from.0 == to.0 || from.1 == to.1) {
            // A hair line (grid, axis, tick) stays a crisp band k pixels wide.
            let ul = (a.0.min(b.0), a.1.min(b.1));
            let br = (a.0.max(b.0) + k, a.1.max(b.1) + k);
            return self.inner.draw_rect(ul, br, &s.color(), true);
        }
        let st = self.stroke(s);
        self.inner.draw_line(a, b, &st)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        s: &S,
        fill: bool,
    ) -> Res {
        if fill {
            // Filled up to, not including, the lower right corner, at any scale.
            let (a, b) = (self.at(ul), self.at(br));
            return self.inner.draw_rect(a, b, &s.color(), true);
        }
        // An outline: four hair lines of the stroke's width.
        let (x0, y0, x1, y1) = (ul.0, ul.1, br.0, br.1);
        for (p, q) in [
            ((x0, y0), (x1, y0)),
            ((x1, y0), (x1, y1)),
            ((x0, y1), (x1, y1)),
            ((x0, y0), (x0, y1)),
        ] {
            self.draw_line(p, q, s)?;
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Res {
        let pts: Vec<BackendCoord> = path.into_iter().collect();
        if s.stroke_width() == 1 {
            for w in pts.windows(2) {
                self.draw_line(w[0], w[1], s)?;
            }
            return Ok(());
        }
        let scaled: Vec<BackendCoord> = pts.iter().map(|&p| self.at(p)).collect();
        let st = self.stroke(s);
        self.inner.draw_path(scaled, &st)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        s: &S,
        fill: bool,
    ) -> Res {
        let c = self.at(center);
        let st = self.stroke(s);
        self.inner.draw_circle(c, radius * self.k as u32, &st, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        s: &S,
    ) -> Res {
        let scaled: Vec<BackendCoord> = vert.into_iter().map(|p| self.at(p)).collect();
        self.inner.fill_polygon(scaled, &s.color())
    }

    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, style: &T, pos: BackendCoord) -> Res {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let k = self.k as f32;
        let em = em_of(style.size()) * k;
        let line = layout(text, em);
        let sf = font().as_scaled(line.scale);
        // The anchor as the SVG backend places it: `dy` 0.76 em below a top anchor, about half an ex
        // (0.27 em) below a centre and above a bottom one.
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -line.width / 2.0,
            HPos::Right => -line.width,
        };
        let baseline = match style.anchor().v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.27 * em,
            VPos::Bottom => -0.27 * em,
        };
        let trans = style.transform();
        let origin = self.at(pos);
        let (w, h) = self.inner.get_size();
        let mut pixels = Vec::new();
        for &(id, x) in &line.glyphs {
            let glyph = id.with_scale_and_position(line.scale, point(dx + x, baseline));
            let Some(outlined) = sf.outline_glyph(glyph) else {
                continue;
            };
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                if cov > 0.0 {
                    pixels.push((b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, cov));
                }
            });
        }
        for (lx, ly, cov) in pixels {
            let (tx, ty) = match trans {
                FontTransform::None => (lx, ly),
                _ => trans.transform(lx, ly),
            };
            let (x, y) = (origin.0 + tx, origin.1 + ty);
            if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                self.inner.draw_pixel(
                    (x, y),
                    BackendColor {
                        alpha: color.alpha * f64::from(cov.min(1.0)),
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let em = em_of(style.size());
        Ok((layout(text, em).width.ceil() as u32, em.ceil() as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u32 = 1000;
    const H: u32 = 60;

    /// `text` drawn black on white at `size` (plotters' size) from (10, 10) at scale `k`; per pixel
    /// column of the image, the darkest grey value in it.
    fn columns(text: &str, size: u32, k: u32) -> Vec<u8> {
        let mut rgb = vec![0u8; (W * k * H * k * 3) as usize];
        {
            let root = Png::new(&mut rgb, (W, H), k).into_drawing_area();
            root.fill(&WHITE).unwrap();
            crate::output::plot::register_font();
            let style = (crate::output::plot::FAMILY, size)
                .into_font()
                .color(&BLACK);
            root.draw(&Text::new(text.to_string(), (10, 10), style))
                .unwrap();
            root.present().unwrap();
        }
        let w = (W * k) as usize;
        (0..w)
            .map(|x| {
                (0..(H * k) as usize)
                    .map(|y| rgb[(y * w + x) * 3])
                    .min()
                    .unwrap_or(255)
            })
            .collect()
    }

    /// "clients" read "dients", "bij" read "bi j": every glyph's ink lies where the font puts it (pen
    /// position from the advances and kerning, plus the glyph's own bounds, which hold its left side
    /// bearing), and the columns between two glyphs that the font keeps apart stay blank. plotters'
    /// own bitmap text fails this (ink half a glyph's bearing outside its box, at either scale).
    #[test]
    fn every_glyph_is_inked_where_the_font_places_it() {
        let text = "clients il1j Tijdlijn";
        for (size, k) in [(14u32, 2u32), (28, 1)] {
            let cols = columns(text, size, k);
            let f = font();
            let em = em_of(f64::from(size)) * k as f32;
            let scale = PxScale::from(em * f.height_unscaled() / f.units_per_em().unwrap());
            let sf = f.as_scaled(scale);
            let x0 = 10.0 * k as f32;
            let (mut pen, mut prev) = (0.0f32, None);
            let mut boxes = Vec::new();
            for c in text.chars() {
                let id = sf.glyph_id(c);
                if let Some(p) = prev {
                    pen += sf.kern(p, id);
                }
                let b = sf.glyph_bounds(&id.with_scale_and_position(scale, point(x0 + pen, 0.0)));
                if c != ' ' {
                    boxes.push((c, b.min.x, b.max.x));
                }
                pen += sf.h_advance(id);
                prev = Some(id);
            }
            // Ink only inside some glyph's box (a pixel of anti-aliasing either side).
            for (x, &v) in cols.iter().enumerate() {
                if v < 128 {
                    let x = x as f32 + 0.5;
                    assert!(
                        boxes.iter().any(|&(_, l, r)| x >= l - 0.5 && x <= r + 0.5),
                        "size {size} at scale {k}: ink at column {x} outside every glyph"
                    );
                }
            }
            // Ink inside every glyph's box.
            for &(c, l, r) in &boxes {
                let inked = (l.floor() as usize..=r.ceil() as usize).any(|x| cols[x] < 128);
                assert!(inked, "size {size} at scale {k}: no ink for {c:?}");
            }
        }
    }

    #[test]
    fn every_figure_size_gets_a_png_at_least_1600_wide() {
        for w in [400, 700, 800, 960, 1400, 1599, 1600, 2400] {
            assert!(w * png_scale(w) >= MIN_PNG_WIDTH, "{w}");
        }
        assert_eq!(png_scale(960), 2);
        assert_eq!(png_scale(1600), 1);
    }
}

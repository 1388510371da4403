//! The partnership's logo, as certificates print it: a PNG or JPEG decoded
//! once, when the service starts, to 8-bit pixels that the PDF embeds.
//! A file that cannot be read or is not such an image stops the start with
//! a message that says which, rather than certificates without it later.

use std::fmt;
use std::path::Path;

/// The largest logo accepted, in pixels a side: a logo prints a few
/// centimetres wide, and a larger one only makes every PDF heavier.
const MAX_SIDE: usize = 2000;

/// How the decoded pixels are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pixels {
    Grey,
    GreyAlpha,
    Rgb,
    Rgba,
}

impl Pixels {
    fn channels(self) -> usize {
        match self {
            Pixels::Grey => 1,
            Pixels::GreyAlpha => 2,
            Pixels::Rgb => 3,
            Pixels::Rgba => 4,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    pub width: usize,
    pub height: usize,
    pub pixels: Pixels,
    /// Row by row, top first, `pixels.channels()` bytes a pixel.
    pub data: Vec<u8>,
}

impl fmt::Debug for Logo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Logo({}×{} {:?})", self.width, self.height, self.pixels)
    }
}

impl Logo {
    /// Reads and decodes the logo file named in configuration.
    pub fn load(path: &Path) -> Result<Logo, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Logo::decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A PNG or JPEG, told apart by its first bytes (not its name).
    pub fn decode(bytes: &[u8]) -> Result<Logo, String> {
        let logo = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            decode_png(bytes)?
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            decode_jpeg(bytes)?
        } else {
            return Err("is not a PNG or JPEG image".into());
        };
        if logo.width == 0 || logo.height == 0 {
            return Err("the image is empty".into());
        }
        if logo.width > MAX_SIDE || logo.height > MAX_SIDE {
            return Err(format!(
                "the image is {}×{} pixels; make it at most {MAX_SIDE} pixels a side",
                logo.width, logo.height
            ));
        }
        if logo.data.len() != logo.width * logo.height * logo.pixels.channels() {
            return Err("the image's pixels could not all be read".into());
        }
        Ok(logo)
    }

    /// Width over height, to keep the proportions when it is scaled.
    pub fn aspect(&self) -> f32 {
        self.width as f32 / self.height.max(1) as f32
    }
}

fn decode_png(bytes: &[u8]) -> Result<Logo, String> {
    let mut decoder = png::Decoder::new(bytes);
    // Palettes expanded and 16-bit samples cut to 8, so every PNG comes out
    // as grey or colour, with or without alpha, a byte a sample.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("is not a PNG image that can be read ({e})"))?;
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "the image is {width}×{height} pixels; make it at most {MAX_SIDE} pixels a side"
        ));
    }
    let mut data = vec![0; reader.output_buffer_size()];
    let frame = reader
        .next_frame(&mut data)
        .map_err(|e| format!("is not a PNG image that can be read ({e})"))?;
    data.truncate(frame.buffer_size());
    let pixels = match frame.color_type {
        png::ColorType::Grayscale => Pixels::Grey,
        png::ColorType::GrayscaleAlpha => Pixels::GreyAlpha,
        png::ColorType::Rgb => Pixels::Rgb,
        png::ColorType::Rgba => Pixels::Rgba,
        png::ColorType::Indexed => return Err("its palette could not be expanded".into()),
    };
    // Rows may be padded; keep exactly width × channels bytes of each.
    let row = width * pixels.channels();
    if frame.line_size != row {
        data = data
            .chunks(frame.line_size)
            .flat_map(|line| line.iter().take(row).copied())
            .collect();
    }
    Ok(Logo {
        width,
        height,
        pixels,
        data,
    })
}

fn decode_jpeg(bytes: &[u8]) -> Result<Logo, String> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(MAX_SIDE)
        .set_max_height(MAX_SIDE);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(bytes, options);
    let data = decoder
        .decode()
        .map_err(|e| format!("is not a JPEG image that can be read ({e:?})"))?;
    let (width, height) = decoder
        .dimensions()
        .ok_or("is not a JPEG image that can be read (no size)")?;
    Ok(Logo {
        width,
        height,
        pixels: Pixels::Rgb,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small PNG made here: `width`×`height`, RGBA, a red square on clear.
    pub(crate) fn png_bytes(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, width, height);
            encoder.set_color(png::ColorType::Rgba);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().expect("header");
            let data: Vec<u8> = (0..width * height)
                .flat_map(|i| if i % 2 == 0 { [200, 0, 0, 255] } else { [0, 0, 0, 0] })
                .collect();
            writer.write_image_data(&data).expect("pixels");
        }
        out
    }

    #[test]
    fn a_png_decodes_to_its_pixels() {
        let logo = Logo::decode(&png_bytes(3, 2)).expect("decodes");
        assert_eq!((logo.width, logo.height, logo.pixels), (3, 2, Pixels::Rgba));
        assert_eq!(&logo.data[..8], &[200, 0, 0, 255, 0, 0, 0, 0]);
        assert!((logo.aspect() - 1.5).abs() < 1e-6);
    }

    #[test]
    fn a_jpeg_decodes_to_colour_pixels() {
        // 40×20, the partnership's blue with a white box from (5, 5) to (19, 14).
        let logo = Logo::decode(include_bytes!("../../tests/fixtures/logo/partnership.jpg")).expect("decodes");
        assert_eq!((logo.width, logo.height, logo.pixels), (40, 20, Pixels::Rgb));
        let at = |x: usize, y: usize| &logo.data[(y * 40 + x) * 3..(y * 40 + x) * 3 + 3];
        assert!(at(30, 2)[2] > 120 && at(30, 2)[0] < 60, "blue: {:?}", at(30, 2));
        assert!(at(10, 10).iter().all(|c| *c > 220), "white: {:?}", at(10, 10));
    }

    #[test]
    fn what_is_not_a_png_or_jpeg_is_refused_with_a_reason() {
        assert_eq!(Logo::decode(b"GIF89a...").unwrap_err(), "is not a PNG or JPEG image");
        let mut cut = png_bytes(4, 4);
        cut.truncate(30);
        assert!(Logo::decode(&cut)
            .unwrap_err()
            .starts_with("is not a PNG image that can be read"));
        let broken_jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0];
        assert!(Logo::decode(&broken_jpeg)
            .unwrap_err()
            .starts_with("is not a JPEG image that can be read"));
        assert!(Logo::decode(&png_bytes(2001, 1))
            .unwrap_err()
            .contains("at most 2000 pixels"));
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Logo::load(Path::new("/nonexistent/logo.png")).unwrap_err();
        assert!(err.starts_with("cannot read /nonexistent/logo.png"), "{err}");
    }
}

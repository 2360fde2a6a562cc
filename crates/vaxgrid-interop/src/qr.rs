//! QR codes of certificates: drawn as SVG or PNG for residents to show, and
//! read back from a PNG photo or screenshot for the verify page.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border around the code (ISO/IEC 18004 asks for 4).
const QUIET_ZONE: usize = 4;
/// The largest picture the reader accepts, in pixels per side.
const MAX_SIDE: u32 = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the text is too long for a QR code")]
    TooLong,
    #[error("not a readable PNG picture: {0}")]
    NotPng(String),
    #[error("the picture is larger than {MAX_SIDE}×{MAX_SIDE} pixels")]
    TooLarge,
    #[error("no QR code was found in the picture")]
    NoCode,
    #[error("a QR code was found but could not be read: {0}")]
    Unreadable(String),
}

/// The eHN specification asks for error correction level Q (25 %), so a
/// scratched or partly covered code still reads.
fn code_of(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q).map_err(|_| QrError::TooLong)
}

/// The QR code of `text` as an SVG document at least `min_px` wide.
pub fn to_svg(text: &str, min_px: u32) -> Result<String, QrError> {
    Ok(code_of(text)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(min_px, min_px)
        .quiet_zone(true)
        .build())
}

/// The QR code of `text` as an 8-bit greyscale PNG, `scale` pixels a module.
pub fn to_png(text: &str, scale: usize) -> Result<Vec<u8>, QrError> {
    let code = code_of(text)?;
    let modules = code.width();
    let colors = code.to_colors();
    let scale = scale.clamp(1, 32);
    let side = (modules + 2 * QUIET_ZONE) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * scale..(my + 1) * scale {
            pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| QrError::NotPng(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| QrError::NotPng(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| QrError::NotPng(e.to_string()))?;
    Ok(out)
}

/// Reads the text of the first QR code in a PNG picture.
pub fn read_png(bytes: &[u8]) -> Result<String, QrError> {
    let (width, height, grey) = greyscale(bytes)?;
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    let grids = prepared.detect_grids();
    let grid = grids.first().ok_or(QrError::NoCode)?;
    let (_, text) = grid
        .decode()
        .map_err(|e| QrError::Unreadable(e.to_string()))?;
    Ok(text)
}

/// Decodes a PNG of any colour type to one grey byte per pixel.
fn greyscale(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), QrError> {
    let bad = |e: png::DecodingError| QrError::NotPng(e.to_string());
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: 4 * (MAX_SIDE as usize) * (MAX_SIDE as usize),
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let header = decoder.read_header_info().map_err(bad)?;
    if header.width > MAX_SIDE || header.height > MAX_SIDE {
        return Err(QrError::TooLarge);
    }
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader.output_buffer_size().ok_or(QrError::TooLarge)?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(bad)?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(QrError::NotPng("palette was not expanded".into()));
        }
    };
    let line = frame.line_size;
    let mut grey = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = buf.get(y * line..y * line + w * channels).ok_or_else(|| {
            QrError::NotPng("the picture data is shorter than its header says".into())
        })?;
        grey.extend(row.chunks_exact(channels).map(|p| match channels {
            1 | 2 => p[0],
            // ITU-R BT.601 luma, integer form.
            _ => ((299 * p[0] as u32 + 587 * p[1] as u32 + 114 * p[2] as u32) / 1000) as u8,
        }));
    }
    Ok((w, h, grey))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HC1: &str = "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA.A5:S9MKN4NN3F85QNCY0O%0VZ001HOC9JU0D0HT0HB2PL/IB*09B9LW4T*8+DCMH0LDK2%K:XFE70*LP$V25$0Q:J:4MO1P0%0L0HD+9E/HY+4J6TH48S%4K.GJ2PT3QY:GQ3TE2I+-CPHN6D7LLK*2HG%89UV-0LZ 2ZJJ524-LH/CJTK96L6SR9MU9DHGZ%P WUQRENS431T1XCNCF+47AY0-IFO0500TGPN8F5G.41Q2E4T8ALW.INSV$ 07UV5SR+BNQHNML7 /KD3TU 4V*CAT3ZGLQMI/XI%ZJNSBBXK2:UG%UJMI:TU+MMPZ5$/PMX19UE:-PSR3/$NU44CBE6DQ3D7B0FBOFX0DV2DGMB$YPF62I$60/F$Z2I6IFX21XNI-LM%3/DF/U6Z9FEOJVRLVW6K$UG+BKK57:1+D10%4K83F+1VWD1NE";

    #[test]
    fn png_and_svg_carry_the_text() {
        let png = to_png(HC1, 4).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(read_png(&png).unwrap(), HC1);
        let svg = to_svg(HC1, 256).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn pictures_without_a_code_are_refused() {
        assert!(matches!(read_png(b"not a png"), Err(QrError::NotPng(_))));
        let blank = {
            let mut out = Vec::new();
            let mut e = png::Encoder::new(&mut out, 64, 64);
            e.set_color(png::ColorType::Grayscale);
            let mut w = e.write_header().unwrap();
            w.write_image_data(&[255u8; 64 * 64]).unwrap();
            w.finish().unwrap();
            out
        };
        assert_eq!(read_png(&blank), Err(QrError::NoCode));
        assert_eq!(to_png(&"A".repeat(5000), 2), Err(QrError::TooLong));
    }
}

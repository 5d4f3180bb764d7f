//! QR codes of credentials, as SVG and PNG (the module matrix drawn by us, encoded by the png
//! crate), at error-correction level M: a card scanned at a gate survives some wear.

use qrcode::{Color, EcLevel, QrCode, Version};

/// Pixels per module in the PNG.
const SCALE: usize = 4;
/// Light modules around the code, as the standard asks.
const QUIET_ZONE: usize = 4;

/// The QR code of `data` at level M.
pub fn encode(data: &str) -> Result<QrCode, qrcode::types::QrError> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
}

/// The QR version (1 to 40) of a code.
pub fn version(code: &QrCode) -> i16 {
    match code.version() {
        Version::Normal(v) | Version::Micro(v) => v,
    }
}

/// An SVG of the code.
pub fn svg(code: &QrCode) -> String {
    code.render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build()
}

/// A greyscale PNG of the code.
pub fn png(code: &QrCode) -> Result<Vec<u8>, png::EncodingError> {
    let modules = code.width();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
            for dy in 0..SCALE {
                let row = (my * SCALE + dy) * side;
                pixels[row + mx * SCALE..row + mx * SCALE + SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let width = u32::try_from(side).unwrap_or(u32::MAX);
        let mut encoder = png::Encoder::new(&mut out, width, width);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

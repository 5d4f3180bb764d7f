//! The printable card face (`card.svg`): what a person reads on the card, so names rather than
//! codes (雄才卡 and "Xiong'an Talent Card", not `XIONGAN`), in Chinese and English, with a
//! CJK font fallback declared so the Chinese renders outside a browser too (a rasteriser such
//! as librsvg or Inkscape picks the first installed family; `sans-serif` alone often maps to a
//! Latin-only font there and draws boxes). The names come from the reference tables; this
//! module only draws.

/// A name in Chinese and in English, as the reference tables hold it.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a> {
    /// Chinese, e.g. 雄才卡.
    pub zh: &'a str,
    /// English, e.g. Xiong'an Talent Card.
    pub en: &'a str,
}

/// Everything the face shows. The QR code carries the credential without the holder's name;
/// the name is printed for the holder's own use.
#[derive(Debug, Clone, Copy)]
pub struct Face<'a> {
    /// The scheme, e.g. 雄才卡 / Xiong'an Talent Card.
    pub scheme: Name<'a>,
    /// The tier, e.g. B类 雄才卡 / Tier B.
    pub tier: Name<'a>,
    /// The issuing authority, e.g. 雄安新区人才服务中心.
    pub issuer: Name<'a>,
    /// The issuer's district, e.g. 雄安新区 / Xiong'an.
    pub district: Name<'a>,
    /// The holder's full name.
    pub holder: &'a str,
    /// The card number, e.g. `XA-2026-4821937705164-3`.
    pub number: &'a str,
    /// First day of validity.
    pub valid_from: chrono::NaiveDate,
    /// Last day of validity.
    pub valid_until: chrono::NaiveDate,
}

/// The font families tried in order: the common CJK families of Linux (Noto, Source Han, WenQuanYi),
/// macOS (PingFang) and Windows (Microsoft YaHei), then any sans-serif.
pub const FONT_FAMILY: &str = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', \
     'Microsoft YaHei', 'WenQuanYi Zen Hei', sans-serif";

/// The face as one SVG document, with `qr_svg` (a QR code as `qr::svg` draws it) nested at the
/// right.
pub fn render(face: &Face<'_>, qr_svg: &str) -> String {
    let qr = nested_qr(qr_svg);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" xml:lang="zh-CN" width="856" height="540" viewBox="0 0 856 540">
<title>{scheme_zh} {scheme_en} {number}</title>
<rect width="856" height="540" rx="32" fill="#f7f3e8" stroke="#8a1c1c" stroke-width="6"/>
<g font-family="{font}">
<text x="48" y="82" font-size="40" fill="#8a1c1c">{scheme_zh}</text>
<text x="48" y="116" font-size="22" fill="#8a1c1c" xml:lang="en">{scheme_en}</text>
<text x="48" y="160" font-size="26">{tier_zh} · <tspan xml:lang="en">{tier_en}</tspan></text>
<text x="48" y="236" font-size="44">{holder}</text>
<text x="48" y="296" font-size="28" font-family="monospace">{number}</text>
<text x="48" y="346" font-size="22">有效期 <tspan xml:lang="en">Valid</tspan> {from} – {until}</text>
<text x="48" y="430" font-size="22" fill="#555">{issuer_zh}</text>
<text x="48" y="460" font-size="18" fill="#555" xml:lang="en">Issued by {issuer_en}</text>
<text x="48" y="492" font-size="18" fill="#555">{district_zh} · <tspan xml:lang="en">{district_en}</tspan></text>
</g>
{qr}
</svg>"##,
        font = FONT_FAMILY,
        scheme_zh = escape(face.scheme.zh),
        scheme_en = escape(face.scheme.en),
        tier_zh = escape(face.tier.zh),
        tier_en = escape(face.tier.en),
        holder = escape(face.holder),
        number = escape(face.number),
        from = face.valid_from,
        until = face.valid_until,
        issuer_zh = escape(face.issuer.zh),
        issuer_en = escape(face.issuer.en),
        district_zh = escape(face.district.zh),
        district_en = escape(face.district.en),
    )
}

/// The inner drawing of a QR SVG, re-wrapped at the card face's QR position in an `<svg>` of
/// our own that keeps its viewBox, so no attribute appears twice and the face stays one
/// well-formed document.
fn nested_qr(svg: &str) -> String {
    let view_box = svg
        .split("viewBox=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("0 0 100 100");
    let inner = svg
        .find("<svg")
        .and_then(|start| svg[start..].find('>').map(|end| start + end + 1))
        .and_then(|body| svg.rfind("</svg>").map(|close| &svg[body..close]))
        .unwrap_or_default();
    format!(
        "<svg x=\"500\" y=\"60\" width=\"300\" height=\"300\" viewBox=\"{view_box}\">{inner}</svg>"
    )
}

/// Text content and attribute values escaped for XML (names are free text a person typed).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face<'a>(holder: &'a str) -> Face<'a> {
        Face {
            scheme: Name {
                zh: "雄才卡",
                en: "Xiong'an Talent Card",
            },
            tier: Name {
                zh: "B类 雄才卡",
                en: "Tier B",
            },
            issuer: Name {
                zh: "雄安新区人才服务中心",
                en: "Xiong'an Talent Service Centre",
            },
            district: Name {
                zh: "雄安新区",
                en: "Xiong'an",
            },
            holder,
            number: "XA-2026-4821937705164-3",
            valid_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            valid_until: chrono::NaiveDate::from_ymd_opt(2028, 12, 31).unwrap_or_default(),
        }
    }

    #[test]
    fn the_face_shows_names_in_both_languages_and_declares_cjk_fonts() {
        let svg = render(&face("张伟"), "<svg viewBox=\"0 0 10 10\"><rect/></svg>");
        for expected in [
            "雄才卡",
            "Xiong'an Talent Card",
            "B类 雄才卡",
            "Tier B",
            "雄安新区人才服务中心",
            "Issued by Xiong'an Talent Service Centre",
            "雄安新区 · <tspan xml:lang=\"en\">Xiong'an</tspan>",
            "张伟",
            "2026-01-01 – 2028-12-31",
            "font-family=\"'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Zen Hei', sans-serif\"",
            "<svg x=\"500\" y=\"60\" width=\"300\" height=\"300\" viewBox=\"0 0 10 10\"><rect/></svg>",
        ] {
            assert!(svg.contains(expected), "{expected} missing from {svg}");
        }
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn names_are_escaped() {
        let svg = render(&face("<b>&\"x\"</b>"), "");
        assert!(svg.contains("&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
    }
}

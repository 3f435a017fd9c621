//! Masks a binary PPM picture (as YUV 4:2:0, the way video frames are masked) and writes
//! the result as PPM. For looking at what the styles do.
//!
//! ```text
//! cargo run -p obscura-render --example mask_ppm -- IN.ppm OUT.ppm fill|pixelate|blur REGION...
//! REGION: rect:x,y,w,h | ellipse:x,y,w,h | zone:x,y;x,y;x,y (normalised 0..1)
//! ```
//! Rectangles and ellipses get the pipeline's default 10% + 4 px margin.

use obscura_core::{Frame, Rect, Timestamp};
use obscura_render::{Mask, PrivacyZone, Region, Shape, Style, apply, cpu_features};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        return Err("usage: mask_ppm IN.ppm OUT.ppm fill|pixelate|blur REGION...".into());
    }
    let bytes = std::fs::read(&args[0])?;
    let (w, h, rgb) =
        parse_ppm(&bytes).ok_or_else(|| format!("{}: not a binary 8-bit PPM", args[0]))?;
    let style = match args[2].as_str() {
        "fill" => Style::fill(),
        "pixelate" => Style::pixelate(),
        "blur" => Style::blur(),
        other => return Err(format!("unknown style {other:?}").into()),
    };
    let mut mask = Mask::new();
    for spec in &args[3..] {
        let (kind, nums) = spec
            .split_once(':')
            .ok_or_else(|| format!("bad region {spec:?}"))?;
        if kind == "zone" {
            let pts = nums
                .split(';')
                .map(|p| {
                    let (x, y) = p.split_once(',').ok_or("zone point is x,y")?;
                    Ok((x.trim().parse()?, y.trim().parse()?))
                })
                .collect::<Result<Vec<(f32, f32)>, Box<dyn std::error::Error>>>()?;
            mask.push(PrivacyZone::new(pts, style)?.to_region(w, h));
            continue;
        }
        let v: Vec<f32> = nums
            .split(',')
            .map(|n| n.trim().parse())
            .collect::<Result<_, _>>()?;
        let [x, y, rw, rh] = v[..] else {
            return Err(format!("bad region {spec:?}").into());
        };
        let r = Rect::new(x, y, rw, rh);
        let shape = if kind == "ellipse" {
            Shape::Ellipse(r)
        } else {
            Shape::Rect(r)
        };
        mask.push(Region::new(shape, style).with_margin(0.1, 4.0));
    }
    let mut frame = Frame::from_rgb24_to_yuv420(&rgb, w, h, 0, Timestamp::zero())?;
    apply(&mut frame, &mask)?;
    let mut out = format!("P6\n{w} {h}\n255\n").into_bytes();
    out.extend(frame.to_rgb24());
    std::fs::write(&args[1], out)?;
    eprintln!(
        "masked {} regions with {} kernels",
        mask.regions.len(),
        cpu_features()
    );
    Ok(())
}

fn parse_ppm(b: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while b.get(pos)?.is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !b.get(pos)?.is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(std::str::from_utf8(&b[start..pos]).ok()?.to_string());
    }
    if fields[0] != "P6" || fields[3] != "255" {
        return None;
    }
    let (w, h): (u32, u32) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
    let data = b.get(pos + 1..pos + 1 + (w * h * 3) as usize)?.to_vec();
    Some((w, h, data))
}

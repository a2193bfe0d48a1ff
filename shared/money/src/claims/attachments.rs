//! A claim's images: what a partner has of its sale (a screenshot of the order, the customer's
//! confirmation mail), added to its claim for the program's people to read beside the evidence
//! 10x found. PNG or JPEG only, at most [`MAX_BYTES`]; the type is told by the file's first
//! bytes (what a request says it is must agree) and the image is decoded before it is kept, so
//! what is served back is an image and nothing else. The bytes live in the uploads storage at
//! `claims/{handle}/{claimId}/{attachmentId}` (the same seam imports use; no lifecycle rule
//! expires that prefix); the claim (both its copies, at the version read) names each.

use crate::claims::ClaimError;
use crate::claims::model::Claim;
pub use crate::claims::model::{Attachment, ImageType};
use crate::domain::time::Timestamp;
use crate::domain::{AttachmentId, ClaimId, Handle, PartnerId};
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};
use crate::platform::uploads::Uploads;

/// The largest image a claim takes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The most images one claim holds.
pub const MAX_PER_CLAIM: usize = 5;
/// The most pixels an image may have (a phone's screenshot has ~3.5 million): a small file that
/// says it is huge is refused before it is decoded.
const MAX_PIXELS: u64 = 40_000_000;
/// The most bytes an image may take decoded (its pixels by the bytes of each: 16-bit RGBA
/// takes eight), refused before the decoder allocates them: a phone's screenshot takes ~14 MB
/// as 8-bit RGBA.
const MAX_DECODED_BYTES: usize = 64 * 1024 * 1024;

/// The type the first bytes say: PNG's eight-byte signature, JPEG's start-of-image marker.
pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        Some(ImageType::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageType::Jpeg)
    } else {
        None
    }
}

/// What a request says its body is (`content-type`), as an image type; anything else is
/// refused in words.
fn declared(content_type: Option<&str>) -> Result<Option<ImageType>, ClaimError> {
    let Some(raw) = content_type else {
        return Ok(None);
    };
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "image/png" => Ok(Some(ImageType::Png)),
        "image/jpeg" | "image/jpg" => Ok(Some(ImageType::Jpeg)),
        "" | "application/octet-stream" => Ok(None),
        other => Err(ClaimError::Invalid(format!(
            "file: {other} is not taken: add a PNG or JPEG image (a screenshot of the order)."
        ))),
    }
}

/// The image checked: not empty, not over [`MAX_BYTES`], a PNG or JPEG by its bytes (and by
/// what the request says, when it says), and decoded whole. Its type and size in pixels.
pub fn check(
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<(ImageType, u32, u32), ClaimError> {
    let bad = |m: String| ClaimError::Invalid(format!("file: {m}"));
    if bytes.is_empty() {
        return Err(bad("the file is empty: add a PNG or JPEG image.".into()));
    }
    if bytes.len() > MAX_BYTES {
        return Err(bad(format!(
            "the image is {:.1} MB; the most a claim takes is {} MB. Crop it or save it as JPEG.",
            bytes.len() as f64 / 1_048_576.0,
            MAX_BYTES / 1_048_576
        )));
    }
    let said = declared(content_type)?;
    let Some(kind) = sniff(bytes) else {
        return Err(bad(
            "this is not a PNG or JPEG image (its content is neither): add a screenshot saved \
             as PNG or JPEG."
                .into(),
        ));
    };
    if let Some(said) = said.filter(|s| *s != kind) {
        return Err(bad(format!(
            "it says it is {} but its content is {}: add the file as it is.",
            said.named(),
            kind.named()
        )));
    }
    let (width, height) = match kind {
        ImageType::Png => decode_png(bytes),
        ImageType::Jpeg => decode_jpeg(bytes),
    }
    .map_err(|why| {
        bad(format!(
            "{} that does not open ({why}): save it again and add the new file.",
            kind.named()
        ))
    })?;
    Ok((kind, width, height))
}

/// Why an image of `width`×`height` pixels taking `decoded` bytes is not decoded, if it is not.
fn too_large(width: u32, height: u32, decoded: u64) -> Option<String> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Some(format!(
            "{width}×{height} pixels is more than an image of an order needs"
        ));
    }
    (decoded > MAX_DECODED_BYTES as u64).then(|| {
        format!(
            "{width}×{height} pixels take {} MB decoded; an image of an order may take at most {} MB",
            decoded.div_ceil(1_048_576),
            MAX_DECODED_BYTES / 1_048_576
        )
    })
}

fn decode_png(bytes: &[u8]) -> Result<(u32, u32), String> {
    let limits = png::Limits {
        bytes: 256 * 1024 * 1024,
    };
    let decoder = png::Decoder::new_with_limits(std::io::Cursor::new(bytes), limits);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let (width, height) = (reader.info().width, reader.info().height);
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "its size cannot be held".to_owned())?;
    if let Some(why) = too_large(width, height, size as u64) {
        return Err(why);
    }
    let mut buf = vec![0; size];
    reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    Ok((width, height))
}

fn decode_jpeg(bytes: &[u8]) -> Result<(u32, u32), String> {
    let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
    decoder.read_info().map_err(|e| e.to_string())?;
    let info = decoder
        .info()
        .ok_or_else(|| "it has no image header".to_owned())?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let decoded = u64::from(width) * u64::from(height) * info.pixel_format.pixel_bytes() as u64;
    if let Some(why) = too_large(width, height, decoded) {
        return Err(why);
    }
    // The decoder's own bound, beside the one above (its buffers, whatever the header said).
    decoder.set_max_decoding_buffer_size(MAX_DECODED_BYTES);
    decoder.decode().map_err(|e| e.to_string())?;
    Ok((width, height))
}

/// Where an image's bytes are kept.
pub fn key(handle: &Handle, claim: &ClaimId, id: &AttachmentId) -> String {
    format!("claims/{handle}/{claim}/{id}")
}

/// An image added to `partner`'s claim `claim_id` (`content_type` what the request says):
/// checked ([`check`]), its bytes kept, then the claim's two copies rewritten at the version
/// read (a claim changed meanwhile: [`ClaimError::Busy`], the caller retries; the bytes kept
/// are named by nothing and harmless). A decided claim takes no more. Round trips: ONE read,
/// the file's write, ONE transaction.
#[tracing::instrument(skip_all, fields(handle = %handle, claim = %claim_id))]
pub async fn add(
    (store, uploads): (&dyn Store, Option<&dyn Uploads>),
    handle: &Handle,
    partner: &PartnerId,
    claim_id: &ClaimId,
    (content_type, bytes): (Option<&str>, Vec<u8>),
) -> Result<Attachment, ClaimError> {
    let claim = crate::claims::get(store, handle, claim_id)
        .await?
        .filter(|c| &c.partner_id == partner)
        .ok_or_else(|| ClaimError::NotFound(format!("Claim {claim_id}")))?;
    if claim.decision.is_some() {
        return Err(ClaimError::Decided(claim.claim_id));
    }
    if claim.attachments.len() >= MAX_PER_CLAIM {
        return Err(ClaimError::NotPossible(format!(
            "This claim already holds {MAX_PER_CLAIM} images, the most a claim can."
        )));
    }
    // Decoding takes a CPU for as long as the image's size: on a blocking thread, not the
    // runtime's.
    let content_type = content_type.map(str::to_owned);
    let (checked, bytes) =
        tokio::task::spawn_blocking(move || (check(content_type.as_deref(), &bytes), bytes))
            .await
            .map_err(|e| StoreError::Other(format!("the image's check stopped: {e}")))?;
    let (kind, width, height) = checked?;
    let uploads = uploads.ok_or_else(|| {
        ClaimError::NotPossible(
            "This server keeps no files (no uploads storage is set up): the claim takes no \
             images here."
                .into(),
        )
    })?;
    let attachment = Attachment {
        attachment_id: AttachmentId::new(),
        content_type: kind,
        size: bytes.len() as u64,
        width,
        height,
        added_at: Timestamp::from_millis(crate::platform::time::now_millis()),
    };
    uploads
        .put(&key(handle, claim_id, &attachment.attachment_id), bytes)
        .await
        .map_err(|e| ClaimError::NotPossible(e.to_string()))?;
    let mut next = claim.clone();
    next.attachments.push(attachment.clone());
    next.version = claim.version + 1;
    match store.transact(writes(handle, &claim, &next)?).await {
        Ok(()) => Ok(attachment),
        Err(StoreError::TxConflict { .. }) => Err(ClaimError::Busy),
        Err(e) => Err(e.into()),
    }
}

fn writes(handle: &Handle, claim: &Claim, next: &Claim) -> Result<Vec<WriteOp>, StoreError> {
    let doc = crate::platform::store::to_doc(next)?;
    let id = claim.claim_id.as_str();
    Ok(vec![
        WriteOp::Put {
            item: Item::new(keys::claims_pk(handle), id, doc.clone()).with_version(next.version),
            cond: Cond::Version(claim.version),
        },
        WriteOp::Put {
            item: Item::new(keys::partner_claims_pk(handle, &claim.partner_id), id, doc)
                .with_version(next.version),
            cond: Cond::None,
        },
    ])
}

/// The image `id` of `claim` and its bytes (`None`: the claim names no such image, or its
/// bytes are gone). Round trips: the file's read.
pub async fn read(
    uploads: Option<&dyn Uploads>,
    handle: &Handle,
    claim: &Claim,
    id: &AttachmentId,
) -> Result<Option<(Attachment, Vec<u8>)>, ClaimError> {
    let Some(found) = claim.attachments.iter().find(|a| &a.attachment_id == id) else {
        return Ok(None);
    };
    let Some(uploads) = uploads else {
        return Ok(None);
    };
    let unavailable = |e: String| ClaimError::NotPossible(e);
    let Some(reader) = uploads
        .open(&key(handle, &claim.claim_id, id))
        .await
        .map_err(|e| unavailable(e.to_string()))?
    else {
        return Ok(None);
    };
    let bytes = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut buf = Vec::new();
        reader
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .map(|_| buf)
    })
    .await
    .map_err(|e| unavailable(e.to_string()))?
    .map_err(|e| unavailable(e.to_string()))?;
    Ok(Some((found.clone(), bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×1 PNG made by the `png` crate itself.
    fn png_image() -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, 2, 1);
            e.set_color(png::ColorType::Rgb);
            e.set_depth(png::BitDepth::Eight);
            let mut w = e.write_header().unwrap();
            w.write_image_data(&[255, 0, 0, 0, 0, 255]).unwrap();
        }
        out
    }

    /// A PNG of `width`×`height` 16-bit RGBA pixels (eight bytes each), all zeros: a few
    /// hundred KB on disk however many it has.
    fn png_of_zeros(width: u32, height: u32) -> Vec<u8> {
        use std::io::Write;
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, width, height);
            e.set_color(png::ColorType::Rgba);
            e.set_depth(png::BitDepth::Sixteen);
            e.set_filter(png::Filter::NoFilter);
            e.set_deflate_compression(png::DeflateCompression::Level(9));
            let mut w = e.write_header().unwrap();
            let mut rows = w.stream_writer().unwrap();
            let row = vec![0u8; width as usize * 8];
            for _ in 0..height {
                rows.write_all(&row).unwrap();
            }
            rows.finish().unwrap();
        }
        out
    }

    /// A JPEG's header (SOI, a baseline frame of `width`×`height` and three components): what
    /// its metadata says, with no image after it.
    fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    #[test]
    fn an_image_that_would_take_more_than_64_mb_decoded_is_refused_before_it_is_decoded() {
        // 3,000×3,000 is under the pixels' bound, but at eight bytes a pixel takes ~69 MB.
        let png_bytes = png_of_zeros(3_000, 3_000);
        assert!(png_bytes.len() < 1024 * 1024, "{} bytes", png_bytes.len());
        let said = refusal(check(Some("image/png"), &png_bytes));
        assert!(
            said.contains(
                "3000×3000 pixels take 69 MB decoded; an image of an order may take at most 64 MB"
            ),
            "{said}"
        );
        // 8,000×4,000 RGB: 32 million pixels, three bytes each.
        let said = refusal(check(Some("image/jpeg"), &jpeg_header(8_000, 4_000)));
        assert!(
            said.contains("8000×4000 pixels take 92 MB decoded"),
            "{said}"
        );
        // Within both bounds, decoded.
        assert_eq!(
            check(None, &png_of_zeros(1_000, 1_000)).unwrap(),
            (ImageType::Png, 1_000, 1_000)
        );
    }

    fn refusal(r: Result<(ImageType, u32, u32), ClaimError>) -> String {
        match r {
            Err(ClaimError::Invalid(m)) => m,
            other => panic!("not refused in words: {other:?}"),
        }
    }

    #[test]
    fn an_image_is_known_by_its_bytes_and_decoded_whole() {
        let png_bytes = png_image();
        assert_eq!(
            check(Some("image/png"), &png_bytes).unwrap(),
            (ImageType::Png, 2, 1)
        );
        assert_eq!(check(None, &png_bytes).unwrap(), (ImageType::Png, 2, 1));
        // Says JPEG, is PNG.
        let said = refusal(check(Some("image/jpeg"), &png_bytes));
        assert!(
            said.contains("says it is a JPEG image but its content is a PNG image"),
            "{said}"
        );
        // An HTML page named a PNG.
        let page = b"<html><script>alert(1)</script></html>";
        let said = refusal(check(Some("image/png"), page));
        assert!(said.contains("not a PNG or JPEG image"), "{said}");
        // Another type said outright.
        let said = refusal(check(Some("image/svg+xml"), &png_bytes));
        assert!(said.contains("image/svg+xml is not taken"), "{said}");
        // The signature, then garbage: does not open.
        let mut broken = png_bytes[..16].to_vec();
        broken.extend_from_slice(&[0; 40]);
        let said = refusal(check(Some("image/png"), &broken));
        assert!(said.contains("a PNG image that does not open"), "{said}");
        let said = refusal(check(Some("image/jpeg"), &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]));
        assert!(said.contains("a JPEG image that does not open"), "{said}");
        // Empty, and over the limit.
        assert!(refusal(check(None, &[])).contains("empty"));
        let mut big = png_bytes.clone();
        big.resize(MAX_BYTES + 1, 0);
        assert!(refusal(check(None, &big)).contains("the most a claim takes is 5 MB"));
    }
}

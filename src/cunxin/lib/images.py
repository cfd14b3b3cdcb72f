"""Photos from the field, cleaned before they are stored.

A phone's JPEG carries EXIF: GPS position, time, device serial. We keep none of it: the
image is decoded, turned upright by its EXIF orientation, scaled down to at most
`MAX_SIDE` pixels and re-encoded from pixels only, so no metadata block survives. Where a
photo was taken is recorded as a field by the caller (DESIGN.md §6: data minimisation).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 15 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 60_000_000  # refuse decompression bombs before decoding


class BadImage(ValueError):
    """The upload is not an image we accept. `code` says why (one of `REASONS`); the
    Django side says it in the user's language (`cunxin.org.fields.bad_image_message`)."""

    def __init__(self, code: str):
        assert code in REASONS, code
        super().__init__(REASONS[code])
        self.code = code


# why an upload is refused, in English for logs (the pages translate the code)
REASONS = {
    "no_signature": "Sign in the box.",
    "unreadable_signature": "The signature could not be read.",
    "empty_signature": "The signature is empty.",
    "empty_file": "The file is empty.",
    "too_large": "The file is larger than 15 MB.",
    "too_many_pixels": "The image has too many pixels.",
    "not_a_photo": "The file is not a photo (JPEG, PNG or WebP).",
}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int


def clean_photo(raw: bytes) -> CleanImage:
    """A JPEG of the photo without metadata, at most MAX_SIDE on its longer side."""
    image = _open(raw)
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)  # no exif= → none written
    return CleanImage(out.getvalue(), "image/jpeg", image.width, image.height)


def clean_signature(data_url: str) -> CleanImage:
    """A signature drawn on a canvas, sent as a `data:image/png;base64,...` URL: a PNG
    without metadata. A blank canvas is refused."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise BadImage("no_signature")
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except ValueError:
        raise BadImage("unreadable_signature") from None
    drawn = _open(raw).convert("RGBA")
    image = Image.new("RGBA", drawn.size, "white")
    image.alpha_composite(drawn)
    image = image.convert("L")
    # ink: pixels clearly darker than the white paper
    if image.point(lambda v: 255 if v < 200 else 0).getbbox() is None:
        raise BadImage("empty_signature")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return CleanImage(out.getvalue(), "image/png", image.width, image.height)


def _open(raw: bytes) -> Image.Image:
    if not raw:
        raise BadImage("empty_file")
    if len(raw) > MAX_BYTES:
        raise BadImage("too_large")
    try:
        image = Image.open(io.BytesIO(raw))
        if image.width * image.height > MAX_PIXELS:
            raise BadImage("too_many_pixels")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise BadImage("not_a_photo") from None
    if image.format not in {"JPEG", "PNG", "WEBP", "MPO"}:
        raise BadImage("not_a_photo")
    return image

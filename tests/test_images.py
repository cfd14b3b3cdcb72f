"""Photos from the field: metadata never survives, orientation does, bad files and empty
signatures are refused with a message (cunxin.lib.images)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw

from cunxin.lib.images import MAX_SIDE, BadImage, clean_photo, clean_signature


def jpeg(size=(40, 20), **exif_tags) -> bytes:
    exif = Image.Exif()
    for tag, value in exif_tags.items():
        exif[int(tag.removeprefix("t"))] = value
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def data_url(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_exif_is_dropped_and_the_orientation_applied():
    # 0x0112 Orientation 6: the camera was turned; 0x8825 GPS; 0x010F Make
    raw = jpeg((40, 20), t274=6, t271="Maker", t34853={1: "N", 2: (30.0, 1.0, 2.0)})
    clean = clean_photo(raw)
    image = Image.open(io.BytesIO(clean.data))
    assert (image.width, image.height) == (20, 40) == (clean.width, clean.height)  # upright
    assert len(image.getexif()) == 0 and b"Maker" not in clean.data
    assert clean.content_type == "image/jpeg"


def test_a_large_photo_is_scaled_down_to_the_longest_side():
    clean = clean_photo(jpeg((4000, 3000)))
    assert max(clean.width, clean.height) == MAX_SIDE and clean.width == MAX_SIDE


@pytest.mark.parametrize("raw", [b"", b"%PDF-1.4 not a photo", b"GIF89a" + b"\0" * 40])
def test_what_is_not_a_photo_is_refused(raw):
    with pytest.raises(BadImage):
        clean_photo(raw)


def test_a_gif_is_not_taken_as_a_photo():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(BadImage):
        clean_photo(out.getvalue())


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 Mpx, a few kB compressed
    with pytest.raises(BadImage):
        clean_photo(out.getvalue())


def test_a_signature_with_ink_is_kept_as_png():
    pad = Image.new("RGBA", (300, 120), (0, 0, 0, 0))  # a transparent canvas
    ImageDraw.Draw(pad).line([(20, 80), (150, 30), (280, 90)], fill=(0, 0, 0, 255), width=4)
    clean = clean_signature(data_url(pad))
    assert clean.content_type == "image/png" and (clean.width, clean.height) == (300, 120)


@pytest.mark.parametrize(
    "pad",
    [Image.new("RGBA", (300, 120), (0, 0, 0, 0)), Image.new("RGB", (300, 120), "white")],
    ids=["transparent", "white"],
)
def test_an_empty_signature_is_refused(pad):
    with pytest.raises(BadImage):
        clean_signature(data_url(pad))


@pytest.mark.parametrize("text", ["", "data:image/jpeg;base64,AAAA", "data:image/png;base64,@@@"])
def test_a_signature_that_is_not_a_png_data_url_is_refused(text):
    with pytest.raises(BadImage):
        clean_signature(text)

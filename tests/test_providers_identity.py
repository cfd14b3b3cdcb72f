"""Identity photos: the simulator is deterministic, varied, labelled and leaks nothing."""

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from cunxin.providers import identity
from cunxin.providers.identity import (
    IdentityPhotoProvider,
    NetworkIdentityPhotos,
    Photo,
    SimulatedIdentityPhotos,
    get_provider,
)

SVG = "{http://www.w3.org/2000/svg}"
GREY_OR_WHITE = set(identity.GREY_HAIR) | set(identity.WHITE_HAIR)


def svg_of(key, gender=None, age=None):
    photo = SimulatedIdentityPhotos().photo(key, gender=gender, age=age)
    return ET.fromstring(photo.content)


def hair(root):
    """(colour, styles) of the hair drawn in a portrait."""
    elements = [e for e in root.iter() if "hair" in e.get("class", "").split()]
    assert elements, "a portrait without hair elements"
    colours = {e.get("fill") for e in elements}
    assert len(colours) == 1
    styles = {c for e in elements for c in e.get("class").split() if c.startswith("hair-")}
    return colours.pop(), styles


def test_it_names_the_simulator_as_not_real():
    provider = SimulatedIdentityPhotos()
    assert provider.is_simulator is True
    assert provider.name == "身份核查照片模拟器"


def test_it_returns_an_svg_photo_marked_as_simulated():
    photo = SimulatedIdentityPhotos().photo("P000123", gender="M", age=40)
    assert isinstance(photo, Photo)
    assert photo.content_type == "image/svg+xml"
    assert photo.is_simulated is True
    assert photo.provider == SimulatedIdentityPhotos.name
    assert isinstance(photo.content, bytes)


def test_it_keeps_photos_immutable():
    photo = SimulatedIdentityPhotos().photo("P1", gender=None, age=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        photo.content = b""


def test_it_draws_well_formed_svg_of_portrait_size():
    for key, gender, age in [("a", "F", 25), ("b", "M", 75), ("c", None, None)]:
        root = svg_of(key, gender, age)
        assert root.tag == f"{SVG}svg"
        assert root.get("viewBox") == "0 0 240 300"


def test_it_is_byte_identical_for_the_same_key():
    provider = SimulatedIdentityPhotos()
    first = provider.photo("P-42", gender="F", age=33).content
    second = SimulatedIdentityPhotos().photo("P-42", gender="F", age=33).content
    assert first == second


def test_it_draws_different_portraits_for_different_keys():
    provider = SimulatedIdentityPhotos()
    outputs = {provider.photo(f"person-{i}", gender=None, age=40).content for i in range(200)}
    assert len(outputs) >= 150


def test_it_labels_every_portrait_in_a_band_at_the_bottom():
    for i in range(20):
        root = svg_of(f"k{i}", "F" if i % 2 else "M", 20 + 3 * i)
        texts = [e for e in root.iter(f"{SVG}text")]
        assert [t.text for t in texts] == ["模拟照片"]
        assert float(texts[0].get("y")) > 260
        band = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "simulated-band"]
        assert len(band) == 1
        assert float(band[0].get("y")) + float(band[0].get("height")) == 300
        assert band[0].get("width") == "240"
        # Drawn after the portrait, so nothing covers it.
        assert list(root)[-1] is texts[0]


def test_it_embeds_nothing_from_the_inputs():
    key = "PERSONKEYzq9Xw"
    content = SimulatedIdentityPhotos().photo(key, gender="F", age=61).content
    text = content.decode("utf-8")
    assert key not in text
    assert key.lower() not in text.lower()
    assert identity.hashlib.sha256(key.encode()).hexdigest()[:8] not in text
    root = ET.fromstring(content)
    all_text = {t.strip() for e in root.iter() for t in (e.text, e.tail) if t and t.strip()}
    assert all_text == {"模拟照片"}


def test_it_gives_older_people_grey_or_white_hair_more_often():
    def grey_share(age):
        grey = sum(hair(svg_of(f"g{i}", "M", age))[0] in GREY_OR_WHITE for i in range(200))
        return grey / 200

    old, young = grey_share(72), grey_share(30)
    assert old >= 0.5
    assert young <= 0.2
    assert old > young + 0.3


def test_it_gives_women_longer_hair_styles_more_often():
    def long_share(gender):
        long = sum(
            bool(hair(svg_of(f"h{i}", gender, 40))[1] & {"hair-long", "hair-bob", "hair-bun"})
            for i in range(200)
        )
        return long / 200

    women, men = long_share("F"), long_share("M")
    assert women >= 0.5
    assert men <= 0.1


def test_it_leaves_the_production_provider_to_the_bank():
    provider = NetworkIdentityPhotos("https://hc.bank.example/api")
    assert provider.is_simulator is False
    assert provider.endpoint == "https://hc.bank.example/api"
    with pytest.raises(NotImplementedError) as raised:
        provider.photo("P1", gender="F", age=30)
    message = str(raised.value)
    assert "联网核查" in message
    assert "公安部公民身份信息核查" in message


def test_it_cannot_instantiate_the_bare_interface():
    with pytest.raises(TypeError):
        IdentityPhotoProvider()


def test_it_picks_the_simulator_from_the_setting():
    provider = get_provider("simulator")
    assert isinstance(provider, SimulatedIdentityPhotos)


def test_it_picks_the_network_provider_with_its_url():
    provider = get_provider("network:https://hc.bank.example/api")
    assert isinstance(provider, NetworkIdentityPhotos)
    assert provider.endpoint == "https://hc.bank.example/api"


@pytest.mark.parametrize("setting", ["", "network:", "Simulator", "sim", "https://x.example"])
def test_it_refuses_unknown_settings(setting):
    with pytest.raises(ValueError, match="network:<url>"):
        get_provider(setting)

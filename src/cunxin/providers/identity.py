"""Identity-verification photos (联网核查): the citizen photo shown next to a credit file.

Production photos come from the bank's connection to the Ministry of Public Security
citizen-identity check, which this project cannot reach. The simulator draws a
deterministic cartoon portrait instead, so screens and demos look realistic while a
bold band at the bottom makes clear that it is not a real photo. The portrait is
derived only from a hash of the opaque person key: nothing from the inputs is
embedded in the SVG.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Photo:
    """A photo ready to serve: bytes, MIME type, and where it came from."""

    content: bytes
    content_type: str
    is_simulated: bool
    provider: str


class IdentityPhotoProvider(abc.ABC):
    """Where citizen photos come from; swapped by a setting so screens never care."""

    name: str  # shown in the UI
    is_simulator: bool

    @abc.abstractmethod
    def photo(self, person_key: str, *, gender: str | None, age: int | None) -> Photo:
        """The photo of one person, identified by an opaque key."""


class NetworkIdentityPhotos(IdentityPhotoProvider):
    """Production implementation point: the bank's 联网核查 connection goes here."""

    name = "联网核查照片（公安部公民身份信息核查）"
    is_simulator = False

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def photo(self, person_key: str, *, gender: str | None, age: int | None) -> Photo:
        """Not available in this project: the bank must wire its own service in."""
        raise NotImplementedError(
            "No citizen-identity service is connected. The bank must connect its "
            "联网核查 (公安部公民身份信息核查) service here, in "
            f"{type(self).__module__}.{type(self).__qualname__}.photo "
            f"(configured endpoint: {self.endpoint}); until then use the setting "
            '"simulator".'
        )


def get_provider(setting: str) -> IdentityPhotoProvider:
    """The provider a setting names: "simulator" or "network:<url>"."""
    value = (setting or "").strip()
    if value == "simulator":
        return SimulatedIdentityPhotos()
    if value.startswith("network:"):
        url = value[len("network:") :].strip()
        if not url:
            raise ValueError('identity photo provider "network:" needs a URL: "network:<url>"')
        return NetworkIdentityPhotos(url)
    raise ValueError(
        f'unknown identity photo provider {setting!r}: expected "simulator" or "network:<url>"'
    )


# --- the simulator ---------------------------------------------------------------------

WIDTH = 240
HEIGHT = 300
LABEL = "模拟照片"
FONT_FAMILY = "'Noto Sans CJK SC', sans-serif"

BACKGROUNDS = (
    "#dbeafe",
    "#e0f2fe",
    "#f1f5f9",
    "#fef3c7",
    "#dcfce7",
    "#fce7f3",
    "#ede9fe",
    "#ffedd5",
)
# (face, shade) pairs
SKINS = (
    ("#f6d7be", "#e4b998"),
    ("#f1c9a5", "#dcaa80"),
    ("#e8b88f", "#cf976b"),
    ("#dba77c", "#c08660"),
    ("#c98e63", "#a9704a"),
    ("#f9e0cc", "#e8c2a6"),
)
DARK_HAIR = ("#1c1917", "#292524", "#3f2a1d", "#4a3326", "#5b3a24")
GREY_HAIR = ("#8e8e8e", "#a3a3a3", "#b8b8b8")
WHITE_HAIR = ("#dedede", "#eeeeee")
SHIRTS = ("#1e3a8a", "#334155", "#166534", "#7c2d12", "#6b21a8", "#0f766e", "#9f1239", "#475569")
FACES = {  # (side bulge, chin width) control factors for the lower half of the face
    "oval": (0.55, 0.55),
    "round": (0.78, 0.72),
    "square": (0.95, 0.82),
    "narrow": (0.42, 0.35),
}
HAIR_STYLES = ("crew", "side", "receding", "bob", "long", "bun")


class _Dice:
    """A deterministic stream of choices from SHA-256 of the key (stable across Pythons)."""

    def __init__(self, key: str) -> None:
        self._seed = hashlib.sha256(key.encode("utf-8")).digest()
        self._buf = b""
        self._counter = 0

    def _u16(self) -> int:
        if len(self._buf) < 2:
            self._counter += 1
            self._buf += hashlib.sha256(self._seed + self._counter.to_bytes(4, "big")).digest()
        value, self._buf = int.from_bytes(self._buf[:2], "big"), self._buf[2:]
        return value

    def pick(self, items: Sequence, weights: Sequence[int] | None = None):
        weights = weights or [1] * len(items)
        roll = self._u16() % sum(weights)
        for item, weight in zip(items, weights, strict=True):
            if roll < weight:
                return item
            roll -= weight
        raise AssertionError("unreachable")

    def between(self, low: float, high: float) -> float:
        return low + (high - low) * self._u16() / 0xFFFF


def _n(x: float) -> str:
    return f"{round(x, 1):g}"


def _is_female(gender: str | None) -> bool | None:
    if gender in ("F", "f", "女"):
        return True
    if gender in ("M", "m", "男"):
        return False
    return None


def _hair_style(dice: _Dice, female: bool | None, old: bool) -> str:
    weights = {
        True: (1, 2, 0, 4, 6, 3),
        False: (6, 5, 5 if old else 2, 0, 0, 0),
        None: (2, 2, 1, 2, 2, 1),
    }[female]
    return dice.pick(HAIR_STYLES, weights)


def _hair_colour(dice: _Dice, age: int | None) -> str:
    if age is not None and age >= 60:
        kind = dice.pick(("dark", "grey", "white"), (2, 5, 3))
    elif age is not None and age >= 45:
        kind = dice.pick(("dark", "grey", "white"), (8, 2, 0))
    else:
        kind = dice.pick(("dark", "grey", "white"), (20, 1, 0))
    return dice.pick({"dark": DARK_HAIR, "grey": GREY_HAIR, "white": WHITE_HAIR}[kind])


def _portrait_svg(person_key: str, gender: str | None, age: int | None) -> str:
    dice = _Dice(person_key)
    female = _is_female(gender)
    old = age is not None and age >= 60

    background = dice.pick(BACKGROUNDS)
    skin, shade = dice.pick(SKINS)
    shirt = dice.pick(SHIRTS)
    face = dice.pick(tuple(FACES))
    hair = _hair_colour(dice, age)
    style = _hair_style(dice, female, old)
    brow_colour = "#57534e" if hair in GREY_HAIR + WHITE_HAIR else hair

    cx = 120.0
    cy = dice.between(118, 126)
    rx = dice.between(46, 54)
    ry = dice.between(58, 66)
    top = cy - ry
    bulge, chin = FACES[face]

    parts: list[str] = [f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{background}"/>']

    # Shoulders and neck.
    sw = dice.between(88, 104)
    parts.append(
        f'<path d="M{_n(cx - sw)} {HEIGHT} Q{_n(cx - sw + 6)} {_n(cy + ry + 34)} {_n(cx)} '
        f'{_n(cy + ry + 30)} Q{_n(cx + sw - 6)} {_n(cy + ry + 34)} {_n(cx + sw)} {HEIGHT}Z" '
        f'fill="{shirt}"/>'
    )
    parts.append(
        f'<rect x="{_n(cx - 17)}" y="{_n(cy + ry - 20)}" width="34" height="52" rx="8" '
        f'fill="{shade}"/>'
    )

    # Hair behind the head.
    if style in ("long", "bob"):
        bottom = cy + ry + (44 if style == "long" else 8)
        w = rx + (12 if style == "long" else 9)
        parts.append(
            f'<path class="hair hair-{style}" d="M{_n(cx - w)} {_n(bottom)} L{_n(cx - w)} '
            f"{_n(cy - 10)} Q{_n(cx - w)} {_n(top - 18)} {_n(cx)} {_n(top - 18)} "
            f"Q{_n(cx + w)} {_n(top - 18)} {_n(cx + w)} {_n(cy - 10)} L{_n(cx + w)} "
            f'{_n(bottom)}Z" fill="{hair}"/>'
        )
    elif style == "bun":
        parts.append(
            f'<circle class="hair hair-bun" cx="{_n(cx)}" cy="{_n(top - 14)}" '
            f'r="{_n(dice.between(15, 20))}" fill="{hair}"/>'
        )
        parts.append(
            f'<ellipse class="hair hair-bun" cx="{_n(cx)}" cy="{_n(cy - 14)}" '
            f'rx="{_n(rx + 5)}" ry="{_n(ry - 4)}" fill="{hair}"/>'
        )
    elif style in ("crew", "side"):
        parts.append(
            f'<ellipse class="hair hair-{style}" cx="{_n(cx)}" cy="{_n(cy - 16)}" '
            f'rx="{_n(rx + 4)}" ry="{_n(ry - 2)}" fill="{hair}"/>'
        )

    # Ears and face.
    for side in (-1, 1):
        parts.append(
            f'<ellipse cx="{_n(cx + side * rx)}" cy="{_n(cy + 6)}" rx="8" ry="13" fill="{shade}"/>'
        )
    parts.append(
        f'<path d="M{_n(cx - rx)} {_n(cy)} A{_n(rx)} {_n(ry)} 0 0 1 {_n(cx + rx)} {_n(cy)} '
        f"C{_n(cx + rx)} {_n(cy + ry * bulge)} {_n(cx + rx * chin)} {_n(cy + ry)} {_n(cx)} "
        f"{_n(cy + ry)} C{_n(cx - rx * chin)} {_n(cy + ry)} {_n(cx - rx)} "
        f'{_n(cy + ry * bulge)} {_n(cx - rx)} {_n(cy)}Z" fill="{skin}"/>'
    )

    # Forehead lines for older people (a fringe may cover them).
    if old:
        for i in range(2):
            y = top + ry * 0.42 + i * 6
            parts.append(
                f'<path d="M{_n(cx - 14)} {_n(y)} Q{_n(cx)} {_n(y - 3)} {_n(cx + 14)} {_n(y)}" '
                f'stroke="{shade}" stroke-width="1.5" fill="none"/>'
            )

    # Hair in front: fringe or the sides left by a receding line.
    if style == "receding":
        for side in (-1, 1):
            parts.append(
                f'<path class="hair hair-receding" d="M{_n(cx + side * (rx + 3))} {_n(cy + 4)} '
                f"Q{_n(cx + side * (rx + 6))} {_n(cy - ry * 0.6)} {_n(cx + side * rx * 0.55)} "
                f'{_n(top + 8)} L{_n(cx + side * rx * 0.75)} {_n(cy - ry * 0.3)} Z" '
                f'fill="{hair}"/>'
            )
    else:
        if style == "side":
            part = dice.between(-0.45, -0.2) * rx
        elif style == "crew":
            part = 0.0
        else:
            part = dice.between(-0.3, 0.3) * rx
        depth = dice.between(0.3, 0.55) * ry
        parts.append(
            f'<path class="hair hair-{style}" d="M{_n(cx - rx - 2)} {_n(cy - 6)} '
            f"Q{_n(cx - rx)} {_n(top - 10)} {_n(cx)} {_n(top - 10)} "
            f"Q{_n(cx + rx)} {_n(top - 10)} {_n(cx + rx + 2)} {_n(cy - 6)} "
            f"Q{_n(cx + rx * 0.6)} {_n(top + depth * 0.7)} {_n(cx + part)} {_n(top + depth)} "
            f'Q{_n(cx - rx * 0.6)} {_n(top + depth * 0.7)} {_n(cx - rx - 2)} {_n(cy - 6)}Z" '
            f'fill="{hair}"/>'
        )

    # Eyebrows and eyes.
    gap = dice.between(17, 23)
    eye_y = cy + dice.between(-6, 2)
    brow_tilt = dice.between(-3, 3)
    brow_w = dice.between(2, 4)
    eyes = dice.pick(("dot", "almond", "narrow"))
    for side in (-1, 1):
        ex = cx + side * gap
        parts.append(
            f'<path d="M{_n(ex - side * 9)} {_n(eye_y - 12 + brow_tilt)} '
            f'L{_n(ex + side * 9)} {_n(eye_y - 14 - brow_tilt)}" stroke="{brow_colour}" '
            f'stroke-width="{_n(brow_w)}" stroke-linecap="round"/>'
        )
        if eyes == "dot":
            parts.append(f'<circle cx="{_n(ex)}" cy="{_n(eye_y)}" r="4" fill="#1c1917"/>')
        elif eyes == "almond":
            parts.append(
                f'<ellipse cx="{_n(ex)}" cy="{_n(eye_y)}" rx="8" ry="4.5" fill="#ffffff"/>'
                f'<circle cx="{_n(ex)}" cy="{_n(eye_y)}" r="3.2" fill="#292524"/>'
            )
        else:
            parts.append(
                f'<path d="M{_n(ex - 7)} {_n(eye_y)} Q{_n(ex)} {_n(eye_y - 4)} {_n(ex + 7)} '
                f'{_n(eye_y)}" stroke="#1c1917" stroke-width="2.5" fill="none" '
                'stroke-linecap="round"/>'
            )

    if dice.pick((True, False), (1, 5) if not old else (2, 3)):
        frame = dice.pick(("#1f2937", "#78350f", "#6b7280"))
        for side in (-1, 1):
            parts.append(
                f'<circle cx="{_n(cx + side * gap)}" cy="{_n(eye_y)}" r="12" fill="none" '
                f'stroke="{frame}" stroke-width="2"/>'
            )
        parts.append(
            f'<path d="M{_n(cx - gap + 12)} {_n(eye_y)} L{_n(cx + gap - 12)} {_n(eye_y)}" '
            f'stroke="{frame}" stroke-width="2"/>'
        )

    # Nose and mouth.
    nose_y = eye_y + dice.between(18, 24)
    parts.append(
        f'<path d="M{_n(cx)} {_n(eye_y + 6)} Q{_n(cx - 6)} {_n(nose_y)} {_n(cx + 2)} '
        f'{_n(nose_y)}" stroke="{shade}" stroke-width="2" fill="none" stroke-linecap="round"/>'
    )
    mouth_y = nose_y + dice.between(12, 17)
    mouth_w = dice.between(9, 15)
    mouth = dice.pick(("smile", "flat", "open"))
    if mouth == "open":
        parts.append(
            f'<path d="M{_n(cx - mouth_w)} {_n(mouth_y)} Q{_n(cx)} {_n(mouth_y + 12)} '
            f'{_n(cx + mouth_w)} {_n(mouth_y)}Z" fill="#9f1239"/>'
        )
    else:
        curve = dice.between(3, 8) if mouth == "smile" else dice.between(-0.5, 1)
        parts.append(
            f'<path d="M{_n(cx - mouth_w)} {_n(mouth_y)} Q{_n(cx)} {_n(mouth_y + curve)} '
            f'{_n(cx + mouth_w)} {_n(mouth_y)}" stroke="#9f1239" stroke-width="2.5" '
            'fill="none" stroke-linecap="round"/>'
        )

    # The label band: this must never be taken for a real photo.
    parts.append(
        f'<rect class="simulated-band" x="0" y="{HEIGHT - 40}" width="{WIDTH}" height="40" '
        'fill="#b91c1c" fill-opacity="0.92"/>'
    )
    parts.append(
        f'<text x="{WIDTH // 2}" y="{HEIGHT - 12}" text-anchor="middle" font-size="24" '
        f'font-weight="bold" letter-spacing="4" fill="#ffffff" font-family="{FONT_FAMILY}">'
        f"{LABEL}</text>"
    )

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{LABEL}">'
        + "".join(parts)
        + "</svg>"
    )


class SimulatedIdentityPhotos(IdentityPhotoProvider):
    """Clearly labelled fake portraits, so screens work before 联网核查 is connected."""

    name = "身份核查照片模拟器"  # the pages and the drawing say it is no real photo
    is_simulator = True

    def photo(self, person_key: str, *, gender: str | None, age: int | None) -> Photo:
        """A deterministic cartoon portrait for the key, marked 模拟照片."""
        svg = _portrait_svg(person_key, gender, age)
        return Photo(
            content=svg.encode("utf-8"),
            content_type="image/svg+xml",
            is_simulated=True,
            provider=self.name,
        )

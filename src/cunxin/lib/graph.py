"""A small relationship graph as inline SVG: one person and the people linked to them.

Drawn server-side so a credit officer's screen needs no JavaScript graph library and
works offline. Labels are names (possibly masked) and relations from bank data, so
every piece of text and every attribute is XML-escaped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

FONT_FAMILY = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif"
RING_CAPACITY = 12  # more than this many others and a second ring is used
# A white outline behind text keeps labels readable where they cross lines.
HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'


@dataclass(frozen=True)
class Node:
    """One person in the graph; href makes the node a link to their page."""

    key: str
    label: str
    color: str
    href: str | None = None


# Characters XML 1.0 forbids even when escaped; dropped so odd source data cannot break the SVG.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return escape(_XML_ILLEGAL.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_XML_ILLEGAL.sub("", value))


def _n(x: float) -> str:
    return f"{round(x, 1):g}"


def _positions(count: int, cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """Radial layout, clockwise from the top.

    Past RING_CAPACITY, alternate nodes step in to an inner ring, so every outer spoke
    runs between two inner nodes instead of through one.
    """
    points: list[tuple[float, float]] = []
    for i in range(count):
        angle = -math.pi / 2 + 2 * math.pi * i / count
        r = radius * 0.6 if count > RING_CAPACITY and i % 2 == 0 else radius
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def _node(node: Node, x: float, y: float, r: float, *, title: str, bold: bool) -> str:
    weight = ' font-weight="bold"' if bold else ""
    size = 13 if bold else 12
    body = (
        f'<g class="node" data-key={_attr(node.key)}>'
        f"<title>{_text(title)}</title>"
        f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill={_attr(node.color)} '
        'stroke="#ffffff" stroke-width="2"/>'
        f'<text x="{_n(x)}" y="{_n(y + r + size + 2)}" text-anchor="middle" '
        f'font-size="{size}"{weight} fill="#1f2937" {HALO}>{_text(node.label)}</text>'
        "</g>"
    )
    if node.href is None:
        return body
    return f"<a href={_attr(node.href)}>{body}</a>"


def relationship_svg(
    center: Node, others: list[tuple[Node, str]], *, width: int = 360, height: int = 360
) -> str:
    """A self-contained SVG: center in the middle, each (node, relation) on a ring.

    Each relation label sits at the middle of its spoke; past twelve others every
    second node moves to an inner ring. Output is deterministic for the same input,
    so pages can be cached and compared.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    cx, cy = width / 2, height / 2
    two_rings = len(others) > RING_CAPACITY
    center_r = 22.0 if not two_rings else 18.0
    node_r = 15.0 if not two_rings else 11.0
    relation_size = 11 if not two_rings else 10
    # Room for the node and its label below it.
    radius = max(min(width, height) / 2 - node_r - 22, center_r + node_r + 4)
    points = _positions(len(others), cx, cy, radius)

    lines: list[str] = []
    relations: list[str] = []
    nodes: list[str] = []
    for (node, relation), (x, y) in zip(others, points, strict=True):
        lines.append(
            f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(x)}" y2="{_n(y)}" '
            'stroke="#94a3b8" stroke-width="1.5"/>'
        )
        relations.append(
            f'<text class="relation" x="{_n((cx + x) / 2)}" y="{_n((cy + y) / 2 + 4)}" '
            f'text-anchor="middle" font-size="{relation_size}" fill="#475569" {HALO}>'
            f"{_text(relation)}</text>"
        )
        nodes.append(_node(node, x, y, node_r, title=f"{relation}：{node.label}", bold=False))
    nodes.append(_node(center, cx, cy, center_r, title=center.label, bold=True))

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="关系图" '
        f"font-family={_attr(FONT_FAMILY)}>"
        "<title>关系图</title>" + "".join(lines) + "".join(relations) + "".join(nodes) + "</svg>"
    )

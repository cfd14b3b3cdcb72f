"""The relationship graph SVG: layout, links, and escaping of bank data."""

import math
import xml.etree.ElementTree as ET

import pytest

from cunxin.lib.graph import Node, relationship_svg

SVG = "{http://www.w3.org/2000/svg}"
RELATIONS = ["配偶", "父母", "子女", "兄弟姐妹", "同户", "共同经营"]
CENTER = Node("c", "王小明", "#f59e0b", "/people/c")


def others(n, href=True):
    return [
        (Node(f"k{i}", f"张*{i}", f"#00{i:02d}ff", f"/people/k{i}" if href else None), rel)
        for i, rel in zip(range(n), RELATIONS * 10, strict=False)
    ]


def parse(svg):
    return ET.fromstring(svg)


def circles(root):
    return list(root.iter(f"{SVG}circle"))


def centre_distances(root, width=360, height=360):
    return [
        math.hypot(float(c.get("cx")) - width / 2, float(c.get("cy")) - height / 2)
        for c in circles(root)
    ]


def test_it_draws_an_accessible_self_contained_svg():
    svg = relationship_svg(CENTER, others(3))
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "关系图"
    assert "Noto Sans CJK SC" in root.get("font-family")
    assert root.get("font-family").rstrip().endswith("sans-serif")
    assert root.get("viewBox") == "0 0 360 360"


def test_it_draws_just_the_center_when_alone():
    root = parse(relationship_svg(CENTER, []))
    assert len(circles(root)) == 1
    assert list(root.iter(f"{SVG}line")) == []
    c = circles(root)[0]
    assert (float(c.get("cx")), float(c.get("cy"))) == (180, 180)
    assert "王小明" in [t.text for t in root.iter(f"{SVG}text")]


def test_it_draws_a_line_and_relation_label_for_each_other():
    items = others(6)
    root = parse(relationship_svg(CENTER, items))
    assert len(circles(root)) == 7
    lines = list(root.iter(f"{SVG}line"))
    assert len(lines) == 6
    relations = [t for t in root.iter(f"{SVG}text") if t.get("class") == "relation"]
    assert [t.text for t in relations] == RELATIONS
    for line, label in zip(lines, relations, strict=True):
        mid_x = (float(line.get("x1")) + float(line.get("x2"))) / 2
        mid_y = (float(line.get("y1")) + float(line.get("y2"))) / 2
        assert abs(float(label.get("x")) - mid_x) < 1
        assert abs(float(label.get("y")) - mid_y) < 6


def test_it_puts_node_labels_below_their_circles():
    root = parse(relationship_svg(CENTER, others(4)))
    for group in root.iter(f"{SVG}g"):
        circle = group.find(f"{SVG}circle")
        label = group.find(f"{SVG}text")
        assert float(label.get("x")) == float(circle.get("cx"))
        assert float(label.get("y")) > float(circle.get("cy")) + float(circle.get("r"))


def test_it_fills_nodes_with_their_colour():
    items = others(5)
    root = parse(relationship_svg(CENTER, items))
    fills = [c.get("fill") for c in circles(root)]
    assert sorted(fills) == sorted([CENTER.color] + [n.color for n, _ in items])


def test_it_places_up_to_twelve_others_on_one_ring():
    root = parse(relationship_svg(CENTER, others(12)))
    distances = centre_distances(root)
    ring = [d for d in distances if d > 1]
    assert len(ring) == 12
    assert max(ring) - min(ring) < 0.5
    positions = {(c.get("cx"), c.get("cy")) for c in circles(root)}
    assert len(positions) == 13


def test_it_uses_two_rings_past_twelve():
    root = parse(relationship_svg(CENTER, others(20)))
    radii = sorted({round(d) for d in centre_distances(root) if d > 1})
    assert len(radii) == 2
    assert radii[0] < radii[1] * 0.8
    assert len({(c.get("cx"), c.get("cy")) for c in circles(root)}) == 21


@pytest.mark.parametrize("n", [1, 7, 12, 13, 30])
def test_it_keeps_nodes_and_labels_inside_the_canvas(n):
    root = parse(relationship_svg(CENTER, others(n), width=300, height=420))
    assert root.get("viewBox") == "0 0 300 420"
    for c in circles(root):
        x, y, r = float(c.get("cx")), float(c.get("cy")), float(c.get("r"))
        assert x - r >= 0 and x + r <= 300
        assert y - r >= 0 and y + r <= 420
    for t in root.iter(f"{SVG}text"):
        assert 0 < float(t.get("y")) <= 420


def test_it_links_only_nodes_with_an_href():
    items = [
        (Node("a", "甲", "#111111", "/people/a"), "配偶"),
        (Node("b", "乙", "#222222"), "子女"),
    ]
    center = Node("c", "丙", "#333333")
    root = parse(relationship_svg(center, items))
    anchors = list(root.iter(f"{SVG}a"))
    assert [a.get("href") for a in anchors] == ["/people/a"]
    assert anchors[0].find(f".//{SVG}text").text == "甲"
    linked = {t.text for a in anchors for t in a.iter(f"{SVG}text")}
    assert "乙" not in linked
    assert "丙" not in linked


def test_it_escapes_labels_and_hrefs():
    nasty = '<script>alert("x")</script>&\''
    href = '/p?a=1&b="2"\'><script>'
    center = Node("c", nasty, '"red" onload="x', href)
    items = [(Node("o", nasty, "#123456", href), nasty)]
    svg = relationship_svg(center, items)
    assert "<script>" not in svg
    root = parse(svg)  # well-formed despite the input
    assert list(root.iter("script")) == [] and list(root.iter(f"{SVG}script")) == []
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == [href, href]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count(nasty) == 3  # relation label and both node labels
    assert {c.get("fill") for c in circles(root)} == {'"red" onload="x', "#123456"}
    assert all(c.get("onload") is None for c in circles(root))


def test_it_drops_characters_xml_cannot_hold():
    root = parse(relationship_svg(Node("c", "王\x00小\x1b明", "#fff"), []))
    assert "王小明" in [t.text for t in root.iter(f"{SVG}text")]


def test_it_is_deterministic():
    items = others(15)
    assert relationship_svg(CENTER, items) == relationship_svg(CENTER, list(items))


def test_it_refuses_an_empty_canvas():
    with pytest.raises(ValueError):
        relationship_svg(CENTER, [], width=0)

"""Names of the relationship graph's relations, as staff and villagers read them."""

RELATION_LABELS = {
    "self": "本户成员", "household": "同户", "spouse": "配偶", "parent": "父母", "child": "子女",
    "sibling": "兄弟姐妹", "grandparent": "祖父母", "grandchild": "孙子女",
}  # fmt: skip

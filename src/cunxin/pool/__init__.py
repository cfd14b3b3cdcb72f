"""The customer pool in the app (客户池; the Django side of `cunxin.datapool`): households
and persons as published from a built data pool (`publish.py`), their 360 profiles, tags
and risk flags, reveals of protected values and the access log, segments and their
exports, key rotation."""

"""The bank's organisation: branches → villages → groups → grids (geography published
from the pool), staff and their roles, customer managers' assignments, evaluators'
sign-in codes. `scope.py` is the one place that decides who sees what (villages, grids,
households, persons, staff, access-log rows)."""

"""授信 in the app (the Django side of `cunxin.credit`): credit policy versions, model
versions and their published scores, decisions (three amounts, final amount, trace) and
their maker-checker approval (a customer manager proposes, a branch manager — never the
same person — approves, rejects or refers back), batch pre-credit and what-if runs (tasks
for `cunxin worker`), the white list and approval sheets, 信用户 / 信用村 ratings."""
